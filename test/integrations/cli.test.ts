// The README's walk-through, as a new user does it: start the simulator, add an integration
// from its printed credentials with the CLI, see Connected! and the capability table; then
// test, set, reset credentials and remove — and never see the secret echoed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { SimulatorSummary } from '../../src/simulator/server.js';
import { childEnv, ROOT, runIdsight } from '../helpers/cli.js';
import { tempDir } from '../helpers/databases.js';

const idsight = runIdsight;

describe('idsight integrations (CLI against a running simulator)', () => {
  let simulator: ReturnType<typeof spawn>;
  let summary: SimulatorSummary;
  const dataDir = tempDir('idsight-cli-int-');
  const outputs: string[] = [];
  const run = async (args: string[], stdin?: string) => {
    const r = await idsight(args, { IDSIGHT_DATA_DIR: dataDir, IDSIGHT_GRAPH_PACING: 'off' }, stdin);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  before(async () => {
    simulator = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', '--json', '--users', '60', '--throttle', 'off', '--state-dir', tempDir('idsight-cli-sim-')], {
      cwd: ROOT,
      env: childEnv({}),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    summary = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: simulator.stdout! }).once('line', resolve))) as SimulatorSummary;
  });
  after(() => {
    simulator.kill('SIGTERM');
  });

  const contoso = () => summary.tenants[0]!;
  const app = (state: string) => contoso().apps.find((a) => a.state === state)!;
  const addArgs = (name: string, state: string) => [
    'integrations', 'add', '--name', name, '--tenant-id', contoso().tenantId, '--client-id', app(state).clientId, '--secret-stdin',
    '--cloud', 'custom', '--authority-host', summary.authorityHost, '--graph-url', summary.graphUrl, '--ca-file', summary.caCertificate,
  ];
  let id = '';

  test('add prints Connected! and the capability table, and saves', async () => {
    const r = await run(addArgs('Contoso', 'readwrite'), `${app('readwrite').secrets[0]!.value}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Connected!\n/);
    assert.match(r.stdout, /Mode: read-write/);
    assert.match(r.stdout, /Interactive sign-ins\s+yes/);
    assert.match(r.stdout, /Reset MFA\s+yes/i);
    assert.match(r.stdout, /Client secret \S+… expires \d{4}-\d\d-\d\d \(\d+ days left\)/);
    id = /Saved as (\S+)/.exec(r.stdout)![1]!;
    const list = await run(['integrations', 'list', '--json']);
    assert.deepEqual(JSON.parse(list.stdout).map((i: any) => i.id), [id]);
  });

  test('a failing add explains, saves nothing and exits 1', async () => {
    const r = await run(addArgs('Contoso read-only', 'readonly'), 'Xyz8Q~thisisnotthesecretthisisnotthesecret\n');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /secret/i);
    assert.match(r.stdout, /Not saved/);
    assert.equal(JSON.parse((await run(['integrations', 'list', '--json'])).stdout).length, 1);
  });

  test('test, set and show', async () => {
    const tested = await run(['integrations', 'test', id]);
    assert.equal(tested.code, 0, tested.stderr);
    assert.match(tested.stdout, /^Connected!/);
    const set = await run(['integrations', 'set', id, '--data-type', 'managedDevices=off', '--schedule', 'users=120', '--json']);
    assert.equal(set.code, 0, set.stderr);
    const shown = JSON.parse(set.stdout);
    assert.equal(shown.settings.dataTypes.managedDevices, false);
    assert.equal(shown.settings.schedule.users, 120);
    const bad = await run(['integrations', 'set', id, '--data-type', 'managedDevices=maybe']);
    assert.equal(bad.code, 2);
  });

  test('collect backfills sign-ins with progress as JSON lines; runs lists the run', async () => {
    const r = await run(['integrations', 'set', id, '--data-type', 'managedDevices=on']);
    assert.equal(r.code, 0, r.stderr);
    const collected = await run(['collect', id, '--types', 'signIns']);
    assert.equal(collected.code, 0, collected.stderr);
    // every record is new; a chain split off reads up to a page twice, so fetched may exceed new
    const [, fetched, fresh] = /signIns\s+succeeded\s+(\d+)\s+(\d+)/.exec(collected.stdout) ?? [];
    assert.ok(Number(fresh) > 0 && Number(fetched) >= Number(fresh) && Number(fetched) - Number(fresh) < 1000, collected.stdout);
    const progress = collected.stderr.trim().split('\n').map((l) => JSON.parse(l) as { progress: string; coveredMs: number; spanMs: number });
    assert.ok(progress.length > 1 && progress.every((p) => p.progress === 'signIns'));
    assert.equal(progress.at(-1)!.coveredMs, progress.at(-1)!.spanMs);
    const runs = await run(['runs', id, '--json']);
    const list = JSON.parse(runs.stdout) as Array<{ dataType: string; status: string }>;
    assert.deepEqual(list.map((x) => [x.dataType, x.status]), [['signIns', 'succeeded']]);
    const again = JSON.parse((await run(['collect', id, '--types', 'signIns', '--json'])).stdout)[0];
    // the second run is incremental: one chain from the cursor (the real clock moved a few seconds)
    assert.equal(again.status, 'succeeded');
    assert.equal(again.stats.chains, 1);
  });

  test('reset-credentials keeps the old secret when the new one fails', async () => {
    const bad = await run(['integrations', 'reset-credentials', id, '--secret-stdin'], 'Bad8Q~nonononononononononononononononono\n');
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /old secret stays in use/);
    const good = await run(['integrations', 'reset-credentials', id, '--secret-stdin'], `${app('readwrite').secrets[1]!.value}\n`);
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /new secret is in use/);
  });

  test('remove, and the secret never appeared in any output', async () => {
    const r = await run(['integrations', 'remove', id, '--purge']);
    assert.equal(r.code, 0, r.stderr);
    const deleted = Number(/removed; deleted (\d+) collected sign-ins/.exec(r.stdout)?.[1]);
    assert.ok(deleted > 0, r.stdout);
    for (const secret of app('readwrite').secrets.map((s) => s.value)) {
      for (const out of outputs) assert.ok(!out.includes(secret), 'a secret was printed');
    }
  });
});
