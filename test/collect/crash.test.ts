// kill -9 of the collecting process in the middle of a backfill, then a new run: the store
// holds exactly the simulator's ground truth — nothing missing, nothing doubled.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/config.js';
import { openContext, type Context } from '../../src/context.js';
import { createSignInRepo } from '../../src/store/signins.js';
import { tempDir } from '../helpers/databases.js';
import { simulatedCredentials, startTestSimulator, type TestSimulator } from '../helpers/simulator.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DAY = 86_400_000;

describe('a collecting process killed with SIGKILL', () => {
  let sim: TestSimulator;
  let ctx: Context;
  const dataDir = tempDir('idsight-crash-');
  const env = { IDSIGHT_DATA_DIR: dataDir, IDSIGHT_COLLECT_LEASE_SECONDS: '2', IDSIGHT_GRAPH_PACING: 'off' };
  let id = '';

  /** A fresh integration each time: every case starts with a backfill. */
  async function freshIntegration(): Promise<void> {
    if (id) await ctx.integrations.remove(id, { purge: true });
    const added = await ctx.integrations.add({ name: 'Contoso', ...simulatedCredentials(sim, 'contoso') });
    id = added.integration.id;
  }

  before(async () => {
    // the real clock: the CLI process and the simulator must agree on "now"
    sim = await startTestSimulator({ throttle: 'off', users: 60, clock: 'real' });
    ctx = await openContext(loadConfig(env));
  });
  after(async () => {
    await ctx.close();
    await sim.close();
  });

  function collect() {
    const base = Object.fromEntries(
      Object.entries(process.env).filter(([k]) => !k.startsWith('IDSIGHT_') && k !== 'NODE_TEST_CONTEXT'),
    );
    return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'collect', id, '--types', 'signIns'], {
      cwd: ROOT,
      env: { ...base, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }
  const exited = (child: ReturnType<typeof collect>) =>
    new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  // the backfill is about 8 pages: killed early, midway and near its end
  for (const killAfter of [1, 3, 6]) {
    test(`killed after ${killAfter} pages, then run again: exactly the ground truth`, async () => {
      await freshIntegration();
      // slow pages, so the kill lands mid-backfill
      await sim.control('PATCH', '/faults', { latencyMs: 40 });
      const child = collect();
      let lines = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr!.setEncoding('utf8').on('data', (d: string) => {
          lines += d;
          const done = lines
            .trim()
            .split('\n')
            .map((l) => (l.startsWith('{') ? ((JSON.parse(l) as { pages?: number }).pages ?? 0) : 0));
          if (Math.max(0, ...done) >= killAfter) resolve();
        });
        child.once('exit', () => reject(new Error(`collect ended before the kill: ${lines}`)));
      });
      child.kill('SIGKILL');
      await exited(child);
      await sim.control('PATCH', '/faults', { latencyMs: 0 });

      await new Promise((r) => setTimeout(r, 2_100)); // the dead run's lease runs out
      const again = collect();
      const code = await exited(again);
      assert.equal(code, 0);

      const runs = await ctx.collector.runs(id);
      assert.ok(
        runs.some((r) => r.status === 'abandoned'),
        'the killed run is marked abandoned',
      );
      assert.equal(runs[0]!.status, 'succeeded');
      const cursor = Number(new Date(runs[0]!.stats.to as string));
      const since = Date.parse(runs.at(-1)!.stats.from as string);
      const truth = await sim.control(
        'GET',
        `/truth/signins?tenant=contoso&since=${new Date(since).toISOString()}&until=${new Date(cursor + 1).toISOString()}&ids=true`,
      );
      const stored = await createSignInRepo(ctx.db).list({ integrationId: id, since, until: cursor + 1 });
      const ids = stored.map((s) => s.sign_in_id);
      assert.equal(new Set(ids).size, ids.length, 'no duplicates');
      assert.deepEqual(new Set(ids), new Set(truth.ids as string[]));
      assert.ok(since < cursor - 29 * DAY, 'the window is the whole backfill');
    });
  }
});
