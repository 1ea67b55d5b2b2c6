// Clean stops: `idsight serve` stopped with SIGTERM in the middle of a backfill started by Collect
// Now exits within 10 s with its run recorded as interrupted and its lease released, and the next
// run completes exactly; a second signal exits at once; `idsight collect` interrupted with Ctrl+C
// does the same; `serve` and `demo` name the setting to change when a port is taken.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createScheduler } from '../../src/collect/scheduler.js';
import { createSupervisor } from '../../src/collect/supervisor.js';
import { loadConfig } from '../../src/config.js';
import { openContext, type Context } from '../../src/context.js';
import { createCollectionRepo } from '../../src/store/collection.js';
import { createSignInRepo } from '../../src/store/signins.js';
import { childEnv, ROOT, runIdsight } from '../helpers/cli.js';
import { tempDir } from '../helpers/databases.js';
import { PW, signedInUser, startApp, T0, type TestApp } from '../helpers/app.js';
import { ApiClient } from '../helpers/http.js';
import { freePort } from '../helpers/net.js';
import { simulatedCredentials, startTestSimulator, type TestSimulator } from '../helpers/simulator.js';

const GUIDANCE = 'idsight was stopped during this run; the next run resumes where it stopped.';

interface Child {
  child: ChildProcessWithoutNullStreams;
  /** stdout and stderr as they came. */
  out(): string;
  stdout(): string;
  /** Resolves once `text` has been printed (stdout or stderr). */
  printed(text: string): Promise<void>;
  exited: Promise<{ code: number | null; at: number }>;
}

/** `idsight args…` as a long-running child process. */
function start(args: string[], env: Record<string, string>): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
    cwd: ROOT,
    env: childEnv(env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let stdout = '';
  const waiting: Array<{ text: string; resolve(): void }> = [];
  const onData = (d: string) => {
    out += d;
    for (const w of waiting.filter((x) => out.includes(x.text))) w.resolve();
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    stdout += d;
    onData(d);
  });
  child.stderr.setEncoding('utf8').on('data', onData);
  const exited = new Promise<{ code: number | null; at: number }>((resolve) =>
    child.once('exit', (code) => resolve({ code, at: performance.now() })),
  );
  return {
    child,
    out: () => out,
    stdout: () => stdout,
    printed: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiting.push({ text, resolve });
        void exited.then(({ code }) =>
          reject(new Error(`exited with ${code} before printing ${JSON.stringify(text)}:\n${out}`)),
        );
      }),
    exited,
  };
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    const v = await fn();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function occupied(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe('clean stops', () => {
  let sim: TestSimulator;
  let ctx: Context;
  const dataDir = tempDir('idsight-stop-');
  // a long lease: a new run starting at once proves the stop released it, not that it ran out
  const env = {
    IDSIGHT_DATA_DIR: dataDir,
    IDSIGHT_GRAPH_PACING: 'off',
    IDSIGHT_LOG_FORMAT: 'json',
    IDSIGHT_COLLECT_LEASE_SECONDS: '600',
  };
  let id = '';

  /** A fresh integration each time: every case starts with a backfill. */
  async function freshIntegration(tenant = sim): Promise<void> {
    if (id) await ctx.integrations.remove(id, { purge: true });
    const added = await ctx.integrations.add({ name: 'Contoso', ...simulatedCredentials(tenant, 'contoso') });
    id = added.integration.id;
    // nothing on schedule: every run here is one the test starts
    await ctx.integrations.update(id, {
      dataTypes: Object.fromEntries(Object.keys(added.integration.settings.dataTypes).map((t) => [t, false])),
    });
  }

  before(async () => {
    // the real clock: the idsight processes and the simulator must agree on "now"
    sim = await startTestSimulator({ throttle: 'off', users: 200, clock: 'real' });
    ctx = await openContext(loadConfig({ ...env, IDSIGHT_LOG_LEVEL: 'warn' }));
    await ctx.auth.createUser({ email: 'admin@example.com', role: 'admin', password: PW });
  });
  after(async () => {
    await sim.control('PATCH', '/faults', { latencyMs: 0 });
    await ctx.close();
    await sim.close();
  });

  async function serve(extra: Record<string, string> = {}): Promise<{ proc: Child; api: ApiClient }> {
    const port = await freePort();
    const proc = start(['serve'], { ...env, IDSIGHT_PORT: String(port), ...extra });
    await proc.printed('idsight is serving');
    const api = new ApiClient(`http://127.0.0.1:${port}`);
    assert.equal((await api.login('admin@example.com', PW)).status, 200);
    return { proc, api };
  }

  const runsOf = async (api: ApiClient): Promise<any[]> =>
    (await api.get<any>(`/api/integrations/${id}/runs`)).body.runs;

  test('SIGTERM mid-backfill: exits within 10 s, the run interrupted and its lease released; the next run completes exactly', async (t) => {
    await freshIntegration();
    await sim.control('PATCH', '/faults', { latencyMs: 1000 }); // slow pages: the signal lands mid-backfill
    const first = await serve();
    const accepted = await first.api.post<any>(`/api/integrations/${id}/collect`, { types: ['signIns'] });
    assert.equal(accepted.status, 202, accepted.text);
    const running = await poll('the run to store its first page', async () =>
      (await runsOf(first.api)).find((r) => r.status === 'running' && (r.stats.fetched ?? 0) > 0),
    );

    const signalled = performance.now();
    first.proc.child.kill('SIGTERM');
    const { code, at } = await first.proc.exited;
    const stopMs = Math.round(at - signalled);
    t.diagnostic(`SIGTERM to exit: ${stopMs} ms`);
    assert.equal(code, 0, first.proc.out());
    assert.ok(stopMs < 10_000, `stopped in ${stopMs} ms`);
    assert.match(first.proc.out(), /"msg":"collections interrupted and the server closed"/);

    const runs = await ctx.collector.runs(id);
    assert.deepEqual(
      runs.filter((r) => r.status === 'running'),
      [],
      'nothing left running',
    );
    const stopped = runs.find((r) => r.id === running.id)!;
    assert.equal(stopped.status, 'interrupted');
    assert.equal(stopped.error, 'idsight received SIGTERM');
    assert.equal(stopped.guidance, GUIDANCE);
    assert.equal(stopped.progress, null);
    const row = (await createCollectionRepo(ctx.db).listRuns(id)).find((r) => r.id === running.id)!;
    assert.ok(row.leaseUntil.getTime() <= row.endedAt!.getTime(), 'the lease ends with the run');
    const truthAll = await sim.control(
      'GET',
      `/truth/signins?tenant=contoso&since=${stopped.stats.from as string}&until=${stopped.stats.to as string}`,
    );
    assert.ok(
      (stopped.stats.fetched as number) < truthAll.count,
      `stopped mid-backfill: ${String(stopped.stats.fetched)} of ${truthAll.count}`,
    );
    t.diagnostic(`stopped after ${String(stopped.stats.fetched)} of ${truthAll.count} sign-ins`);
    if (process.env.STOP_DEBUG) console.log(first.proc.out());

    // the CLI's run history says so too
    const cli = await runIdsight(['runs', id], env);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /interrupted/);
    assert.ok(cli.stdout.includes(`idsight received SIGTERM — ${GUIDANCE}`), cli.stdout);

    // at once, well within the 600 s lease: Collect Now starts a run (202 means its lease is taken)
    await sim.control('PATCH', '/faults', { latencyMs: 0 });
    const second = await serve();
    const again = await second.api.post<any>(`/api/integrations/${id}/collect`, { types: ['signIns'] });
    assert.equal(again.status, 202, again.text);
    const done = await poll(
      'the resumed run to end',
      async () =>
        (await runsOf(second.api)).find(
          (r) => r.id !== running.id && r.dataType === 'signIns' && r.status !== 'running',
        ),
      60_000,
    );
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    second.proc.child.kill('SIGTERM');
    assert.equal((await second.proc.exited).code, 0);

    // exactly the simulator's ground truth over the whole backfill window
    const since = Math.min(Date.parse(stopped.stats.from as string), Date.parse(done.stats.from as string));
    const until = Date.parse(done.stats.to as string) + 1;
    const truth = await sim.control(
      'GET',
      `/truth/signins?tenant=contoso&since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}&ids=true`,
    );
    const stored = (await createSignInRepo(ctx.db).list({ integrationId: id, since, until })).map((s) => s.sign_in_id);
    assert.equal(new Set(stored).size, stored.length, 'no duplicates');
    assert.deepEqual(new Set(stored), new Set(truth.ids as string[]));
    assert.ok(stored.length > 1000);
  });

  test("SIGTERM while the backfill waits on Microsoft's throttle budget: the same clean stop", async (t) => {
    // Microsoft's reports throttle (5 requests / 10 s) in the simulated tenant and in idsight's pacing:
    // after the first few pages every request waits for the budget, as against Entra.
    const throttled = await startTestSimulator({ throttle: 'microsoft', users: 200, clock: 'real' });
    try {
      await freshIntegration(throttled);
      const { proc, api } = await serve({ IDSIGHT_GRAPH_PACING: 'microsoft' });
      assert.equal((await api.post<any>(`/api/integrations/${id}/collect`, { types: ['signIns'] })).status, 202);
      const running = await poll('the run to store its first page', async () =>
        (await runsOf(api)).find((r) => r.status === 'running' && (r.stats.fetched ?? 0) > 0),
      );
      const signalled = performance.now();
      proc.child.kill('SIGTERM');
      const { code, at } = await proc.exited;
      t.diagnostic(`SIGTERM to exit: ${Math.round(at - signalled)} ms`);
      assert.equal(code, 0, proc.out());
      assert.ok(at - signalled < 10_000);
      const runs = await ctx.collector.runs(id);
      assert.deepEqual(
        runs.filter((r) => r.status === 'running'),
        [],
      );
      assert.equal(runs.find((r) => r.id === running.id)!.status, 'interrupted');
      // and a new Collect Now starts at once
      const again = await serve({ IDSIGHT_GRAPH_PACING: 'microsoft' });
      assert.equal((await again.api.post<any>(`/api/integrations/${id}/collect`, { types: ['signIns'] })).status, 202);
      again.proc.child.kill('SIGTERM');
      assert.equal((await again.proc.exited).code, 0);
      const last = (await ctx.collector.runs(id))[0]!;
      assert.equal(last.status, 'interrupted');
    } finally {
      await throttled.close();
    }
  });

  test('a request that will not finish in time is cut off: the stop still ends within 10 s', async (t) => {
    await freshIntegration();
    const { proc, api } = await serve();
    await sim.control('PATCH', '/faults', { latencyMs: 20_000 });
    try {
      // a connection test against a very slow Graph outlasts the grace given to requests in flight
      const slow = api.post<any>(`/api/integrations/${id}/test`, {}).then(
        (r) => r.status,
        () => 'cut',
      );
      await new Promise((r) => setTimeout(r, 1_000));
      const signalled = performance.now();
      proc.child.kill('SIGTERM');
      const { code, at } = await proc.exited;
      t.diagnostic(`SIGTERM to exit with a request in flight: ${Math.round(at - signalled)} ms`);
      assert.equal(code, 0, proc.out());
      assert.ok(at - signalled < 10_000);
      assert.equal(await slow, 'cut');
    } finally {
      await sim.control('PATCH', '/faults', { latencyMs: 0 });
    }
  });

  test('a second signal exits at once, without waiting for the stop to finish', async (t) => {
    await freshIntegration();
    const { proc, api } = await serve();
    // a request that outlasts the stop's patience: a connection test against a very slow Graph
    await sim.control('PATCH', '/faults', { latencyMs: 20_000 });
    try {
      const slow = api.post<any>(`/api/integrations/${id}/test`, {}).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 1_000));
      proc.child.kill('SIGTERM');
      await proc.printed('"msg":"stopping"');
      const second = performance.now();
      proc.child.kill('SIGINT');
      const { code, at } = await proc.exited;
      t.diagnostic(`second signal to exit: ${Math.round(at - second)} ms`);
      assert.equal(code, 130);
      assert.ok(at - second < 2_000, `exited ${Math.round(at - second)} ms after the second signal`);
      assert.match(proc.out(), /SIGINT again: exiting at once/);
      await slow;
    } finally {
      await sim.control('PATCH', '/faults', { latencyMs: 0 });
    }
  });

  test('idsight collect interrupted with Ctrl+C: exit 130, the run interrupted, its lease released', async () => {
    await freshIntegration();
    await sim.control('PATCH', '/faults', { latencyMs: 1000 });
    try {
      const proc = start(['collect', id, '--types', 'signIns,users,groups', '--json'], env);
      await poll('a stored page', async () => (/"fetched":[1-9]/.test(proc.out()) ? true : undefined));
      proc.child.kill('SIGINT');
      const { code } = await proc.exited;
      assert.equal(code, 130, proc.out());
      const outcomes = JSON.parse(proc.stdout()) as any[];
      // the event logs and, beside them, the directory data types one after another
      assert.deepEqual(
        outcomes.map((o) => o.dataType),
        ['signIns', 'users', 'groups'],
      );
      assert.equal(outcomes[0].status, 'interrupted');
      // each directory type finished before the signal, was interrupted, or never started
      for (const o of outcomes.slice(1)) {
        const seen = [o.status, o.error];
        assert.ok(
          o.status === 'succeeded' ||
            (o.status === 'interrupted' && o.error === 'idsight received SIGINT') ||
            (o.status === 'skipped' && o.error === 'not started: idsight received SIGINT'),
          JSON.stringify(seen),
        );
      }
      const runs = await ctx.collector.runs(id);
      assert.deepEqual(
        runs.filter((r) => r.status === 'running'),
        [],
      );
      assert.equal(runs[0]!.status, 'interrupted');
      // the lease is free: a run starts at once
      const repo = createCollectionRepo(ctx.db);
      const next = await repo.startRun({
        integrationId: id,
        dataType: 'signIns',
        trigger: 'test',
        now: Date.now(),
        leaseMs: 60_000,
      });
      await repo.finishRun(next, { status: 'skipped', now: Date.now(), stats: {} });
    } finally {
      await sim.control('PATCH', '/faults', { latencyMs: 0 });
    }
  });

  test('serve: a port in use is named with the setting to change (exit 2)', async () => {
    const taken = await occupied();
    try {
      const r = await runIdsight(['serve'], { ...env, IDSIGHT_PORT: String(taken.port) });
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        r.stderr.trim().split('\n').at(-1),
        `idsight: port ${taken.port} is in use: set IDSIGHT_PORT to a free port`,
      );
    } finally {
      taken.server.close();
    }
  });
});

describe('idsight demo with a port in use', () => {
  test('the API port or the simulator port taken: exit 2 naming what to change, before anything starts', async () => {
    const taken = await occupied();
    try {
      for (const [what, env, simPort, message] of [
        [
          'API',
          { IDSIGHT_PORT: String(taken.port) },
          await freePort(),
          `port ${taken.port} is in use: set IDSIGHT_PORT to a free port`,
        ],
        [
          'simulator',
          { IDSIGHT_PORT: String(await freePort()) },
          taken.port,
          `port ${taken.port} is in use: pass --sim-port with a free port`,
        ],
      ] as const) {
        const dataDir = tempDir('idsight-demo-port-');
        const r = await runIdsight(['demo', '--users', '40', '--sim-port', String(simPort)], {
          ...env,
          IDSIGHT_DATA_DIR: dataDir,
        });
        assert.equal(r.code, 2, `${what}: ${r.stdout}${r.stderr}`);
        assert.ok(r.stderr.includes(`idsight: ${message}`), `${what}: ${r.stderr}`);
        assert.equal(r.stdout, '', `${what}: nothing started`);
        assert.equal(existsSync(path.join(dataDir, 'idsight.db')), false, `${what}: no database created`);
      }
    } finally {
      taken.server.close();
    }
  });
});

describe('the supervisor: scheduled runs and Collect Now, stopped together', () => {
  let app: TestApp;
  let sim: TestSimulator;
  let admin: ApiClient;
  let id = '';

  before(async () => {
    // the simulated tenant's clock is the app's: "now" is the same instant for both
    sim = await startTestSimulator({ throttle: 'off', users: 60, clock: `fixed:${new Date(T0).toISOString()}` });
    app = await startApp('sqlite');
    admin = await signedInUser(app, 'admin');
    const res = await admin.post<any>('/api/integrations', {
      name: 'Contoso',
      ...simulatedCredentials(sim, 'contoso'),
    });
    assert.equal(res.status, 201, res.text);
    id = res.body.integration.id;
  });
  after(async () => {
    await app.close();
    await sim.close();
  });

  test('stopping interrupts scheduled runs in both lanes, starts nothing more, and Collect Now answers 503', async () => {
    await sim.control('PATCH', '/faults', { latencyMs: 300 });
    try {
      const scheduler = createScheduler({
        store: app.ctx.store,
        clock: app.clock,
        log: app.ctx.log,
        integrations: app.ctx.integrations,
        supervisor: app.ctx.supervisor,
      });
      const ticking = scheduler.tick();
      await poll('runs in both lanes', async () => {
        const running = (await app.ctx.collector.runs(id)).filter((r) => r.status === 'running').map((r) => r.dataType);
        return running.includes('signIns') &&
          running.some((t) => !['signIns', 'nonInteractiveSignIns', 'directoryAudits'].includes(t))
          ? running
          : undefined;
      });
      await Promise.all([scheduler.stop(), app.ctx.supervisor.stop('test stop')]);
      await ticking;
      assert.equal(app.ctx.supervisor.active, 0);
      const runs = await app.ctx.collector.runs(id);
      assert.deepEqual(
        runs.filter((r) => r.status === 'running'),
        [],
      );
      const interrupted = runs.filter((r) => r.status === 'interrupted');
      // the event logs are read at once; the directory lane runs one data type at a time
      assert.deepEqual(
        interrupted
          .map((r) => r.dataType)
          .filter((t) => ['signIns', 'nonInteractiveSignIns', 'directoryAudits'].includes(t))
          .sort(),
        ['directoryAudits', 'nonInteractiveSignIns', 'signIns'],
      );
      assert.equal(interrupted.length, 4, 'the three event logs and one directory data type');
      for (const r of interrupted)
        assert.deepEqual([r.trigger, r.error, r.guidance], ['schedule', 'test stop', GUIDANCE]);
      // the data types whose turn had not come were not started: no run was recorded for them
      assert.ok(runs.length < 14);

      const refused = await admin.post<any>(`/api/integrations/${id}/collect`, { types: ['licences'] });
      assert.equal(refused.status, 503);
      assert.equal(refused.body.error.code, 'unavailable');
      assert.match(refused.body.error.message, /idsight is stopping/);
      await scheduler.tick();
      assert.equal((await app.ctx.collector.runs(id)).length, runs.length, 'a tick while stopping starts nothing');
    } finally {
      await sim.control('PATCH', '/faults', { latencyMs: 0 });
    }
  });

  test('after a restart, an interrupted data type is collected at the first tick, not after its interval', async () => {
    // (a new supervisor stands for the restarted process)
    const supervisor = createSupervisor({ collector: app.ctx.collector });
    const scheduler = createScheduler({
      store: app.ctx.store,
      clock: app.clock,
      log: app.ctx.log,
      integrations: app.ctx.integrations,
      supervisor,
    });
    const before = await app.ctx.collector.runs(id);
    const interrupted = new Set(before.filter((r) => r.status === 'interrupted').map((r) => r.dataType));
    await scheduler.tick();
    const after = (await app.ctx.collector.runs(id)).filter((r) => !before.some((b) => b.id === r.id));
    for (const t of interrupted) assert.equal(after.find((r) => r.dataType === t)?.status, 'succeeded', `${t} resumed`);
    // the clock stood still: nothing is due again, the resumed runs included
    const second = new Set((await app.ctx.collector.runs(id)).map((r) => r.id));
    await scheduler.tick();
    assert.deepEqual(
      (await app.ctx.collector.runs(id)).filter((r) => !second.has(r.id)).map((r) => r.dataType),
      [],
    );
  });
});
