// Collect Now and the run history through the API, against the simulated tenant: outcomes,
// skipped data types with their reasons, the lease, and who may do what.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createCollectionRepo } from '../../src/store/collection.js';
import { PW, signedInUser, startApp, T0, type TestApp } from '../helpers/app.js';
import { ApiClient } from '../helpers/http.js';
import { simulatedCredentials, startTestSimulator, type TestSimulator } from '../helpers/simulator.js';

describe('Collect Now and run history', () => {
  let app: TestApp;
  let sim: TestSimulator;
  let admin: ApiClient;
  let analyst: ApiClient;
  const ids: Record<string, string> = {};

  before(async () => {
    // the simulated tenant's clock is the app's: "now" is the same instant for both
    sim = await startTestSimulator({ throttle: 'off', users: 30, clock: `fixed:${new Date(T0).toISOString()}` });
    app = await startApp('sqlite');
    admin = await signedInUser(app, 'admin');
    analyst = await signedInUser(app, 'analyst');
    for (const [key, tenant] of [
      ['contoso', 'contoso'],
      ['tailspin', 'tailspin'],
      ['fabrikam', 'fabrikam'],
    ] as const) {
      const res = await admin.post<any>('/api/integrations', { name: key, ...simulatedCredentials(sim, tenant) });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      ids[key] = res.body.integration.id;
    }
  });
  after(async () => {
    await app.close();
    await sim.close();
  });

  test('Collect Now backfills sign-ins and reports each data type', async () => {
    const res = await admin.post<any>(`/api/integrations/${ids.contoso}/collect?wait=true`, {});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const signIns = res.body.outcomes.find((o: any) => o.dataType === 'signIns');
    assert.equal(signIns.status, 'succeeded');
    assert.ok(signIns.stats.inserted > 100);
    assert.equal(signIns.stats.chainsDone, signIns.stats.chains);
    assert.equal(signIns.stats.coveredMs, signIns.stats.spanMs);
    const truth = await sim.control(
      'GET',
      `/truth/signins?tenant=contoso&since=${new Date(T0 - 30 * 86_400_000 + 600_000).toISOString()}&until=${new Date(T0 - 15 * 60_000 + 1).toISOString()}`,
    );
    assert.equal(signIns.stats.inserted, truth.count);
    // every other data type of a P2 tenant with Intune is collected too, with its Graph traffic counted
    const others = res.body.outcomes.filter((o: any) => o.dataType !== 'signIns');
    assert.equal(others.length, 13);
    for (const o of others) assert.equal(o.status, 'succeeded', `${o.dataType}: ${o.error}`);
    assert.ok(res.body.outcomes.every((o: any) => o.stats.requests >= 1 && o.stats.throttled === 0));
    // the store holds them and every non-interactive, service principal and managed identity sign-in
    const beta = res.body.outcomes.find((o: any) => o.dataType === 'nonInteractiveSignIns');
    assert.deepEqual(Object.keys(beta.stats.eventTypes), ['nonInteractiveUser', 'servicePrincipal', 'managedIdentity']);
    const shown = await analyst.get<any>(`/api/integrations/${ids.contoso}`);
    // what is stored, per sign-in event type and per data set, as the runs stored it
    const stored = shown.body.integration.storedData;
    assert.deepEqual(stored.signIns, {
      interactiveUser: truth.count,
      ...Object.fromEntries(Object.entries(beta.stats.eventTypes).map(([t, s]: [string, any]) => [t, s.inserted])),
    });
    const outcome = (t: string) => res.body.outcomes.find((o: any) => o.dataType === t);
    assert.equal(stored.records.users, outcome('users').stats.inserted);
    assert.equal(stored.records.licences, outcome('licences').stats.inserted);
    assert.equal(
      stored.records.applications + stored.records.servicePrincipals,
      outcome('applications').stats.inserted,
      'one data type fills both',
    );
    assert.ok(stored.records.groupMembers > 0 && stored.records.appCredentials > 0, JSON.stringify(stored.records));
  });

  test('the run history shows the run with its counts; analysts read it', async () => {
    const runs = await analyst.get<any>(`/api/integrations/${ids.contoso}/runs`);
    assert.equal(runs.status, 200);
    assert.equal(runs.body.runs.length, 14);
    const signIns = runs.body.runs.find((r: any) => r.dataType === 'signIns');
    assert.equal(signIns.status, 'succeeded');
    assert.ok(signIns.endedAt);
    assert.ok(signIns.stats.inserted > 100);
  });

  test('advanced settings: lag, overlap and the beta sign-in streams, validated', async () => {
    for (const bad of [
      { lagMinutes: 241 },
      { lagMinutes: -1 },
      { overlapMinutes: 1.5 },
      { signInEventTypes: ['interactiveUser'] },
    ]) {
      const res = await admin.patch<any>(`/api/integrations/${ids.fabrikam}`, bad);
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.match(res.body.error.message, /lagMinutes|overlapMinutes|sign-in event type/);
    }
    const res = await admin.patch<any>(`/api/integrations/${ids.fabrikam}`, {
      lagMinutes: 30,
      overlapMinutes: 5,
      signInEventTypes: ['servicePrincipal'],
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      { ...res.body.integration.settings, dataTypes: undefined, schedule: undefined },
      {
        dataTypes: undefined,
        schedule: undefined,
        signInEventTypes: ['servicePrincipal'],
        lagMinutes: 30,
        overlapMinutes: 5,
      },
    );
    const run = await admin.post<any>(`/api/integrations/${ids.fabrikam}/collect?wait=true`, {
      types: ['signIns', 'nonInteractiveSignIns'],
    });
    const [signIns, beta] = run.body.outcomes;
    assert.equal(signIns.status, 'succeeded', signIns.error);
    assert.equal(signIns.stats.to, new Date(T0 - 30 * 60_000).toISOString(), 'read up to now − lag');
    assert.deepEqual(Object.keys(beta.stats.eventTypes), ['servicePrincipal']);
  });

  test('a Free tenant: sign-ins skipped with the licence reason', async () => {
    const res = await admin.post<any>(`/api/integrations/${ids.tailspin}/collect?wait=true`, { types: ['signIns'] });
    assert.equal(res.status, 200);
    assert.equal(res.body.outcomes[0].status, 'skipped');
    assert.match(res.body.outcomes[0].error, /P1|P2|premium|licen/i);
  });

  test('analysts cannot collect; unknown data types and integrations are refused', async () => {
    assert.equal((await analyst.post<any>(`/api/integrations/${ids.contoso}/collect`, {})).status, 403);
    assert.equal(
      (await admin.post<any>(`/api/integrations/${ids.contoso}/collect?wait=true`, { types: ['everything'] })).status,
      400,
    );
    assert.equal((await admin.post<any>('/api/integrations/nope/collect', {})).status, 404);
  });

  test('one run per integration and data type: a live lease refuses a second; a dead one is taken over', async () => {
    const repo = createCollectionRepo(app.ctx.db);
    const now = app.clock.now();
    const held = await repo.startRun({
      integrationId: ids.contoso!,
      dataType: 'signIns',
      trigger: 'test',
      now,
      leaseMs: 120_000,
    });
    const refused = await admin.post<any>(`/api/integrations/${ids.contoso}/collect?wait=true`, { types: ['signIns'] });
    assert.equal(refused.status, 409);
    assert.match(refused.body.error.message, /already running/);
    // with other data types asked for too, the held one is skipped and the others run
    const others = await admin.post<any>(`/api/integrations/${ids.contoso}/collect?wait=true`, {
      types: ['signIns', 'licences'],
    });
    assert.equal(others.status, 200);
    assert.deepEqual(
      others.body.outcomes.map((o: any) => [o.dataType, o.status]),
      [
        ['signIns', 'skipped'],
        ['licences', 'succeeded'],
      ],
    );
    assert.match(others.body.outcomes[0].error, /already running/);
    app.clock.advance(121_000); // the holder died: its lease ran out
    const taken = await admin.post<any>(`/api/integrations/${ids.contoso}/collect?wait=true`, { types: ['signIns'] });
    assert.equal(taken.status, 200, JSON.stringify(taken.body));
    const runs = (await admin.get<any>(`/api/integrations/${ids.contoso}/runs`)).body.runs;
    assert.equal(runs.find((r: any) => r.id === held).status, 'abandoned');
  });

  test('the scheduler runs what is due: at once the first time, then after its interval', async () => {
    const { createScheduler } = await import('../../src/collect/scheduler.js');
    const repo = createCollectionRepo(app.ctx.db);
    const scheduler = createScheduler({
      store: app.ctx.store,
      clock: app.clock,
      log: app.ctx.log,
      integrations: app.ctx.integrations,
      supervisor: app.ctx.supervisor,
    });
    const lastStart = () => repo.lastRunStart(ids.contoso!, 'signIns');
    const before = await lastStart();
    app.clock.advance(15 * 60_000); // sign-ins are due every 15 minutes
    await scheduler.tick();
    const first = await lastStart();
    assert.ok(first !== null && first > before!, 'a scheduled run started');
    await scheduler.tick();
    assert.equal(await lastStart(), first, 'not due again before 15 minutes');
    await admin.login('admin@example.com', PW); // 15 idle minutes ended the session
    const runs = (await admin.get<any>(`/api/integrations/${ids.contoso}/runs`)).body.runs;
    assert.equal(runs[0].trigger, 'schedule');
    assert.equal(runs[0].status, 'succeeded');

    // a sign-in run in progress (another process) does not hold back the directory lane
    const held = await repo.startRun({
      integrationId: ids.contoso!,
      dataType: 'signIns',
      trigger: 'test',
      now: app.clock.now() + 61 * 60_000,
      leaseMs: 10 * 60_000,
    });
    app.clock.advance(61 * 60_000);
    const usersBefore = await repo.lastRunStart(ids.contoso!, 'users');
    await scheduler.tick();
    assert.ok((await repo.lastRunStart(ids.contoso!, 'users'))! > usersBefore!, 'users collected on schedule');
    await repo.finishRun(held, { status: 'failed', now: app.clock.now(), stats: {}, error: 'test' });
    await admin.login('admin@example.com', PW);
  });

  test('Collect Now without waiting answers 202; the run shows in the history with its progress while it runs', async () => {
    await sim.control('PATCH', '/faults', { latencyMs: 400 }); // slow pages: the run is seen running
    try {
      const earlier = new Set(
        (await admin.get<any>(`/api/integrations/${ids.contoso}/runs`)).body.runs.map((r: any) => r.id),
      );
      const res = await admin.post<any>(`/api/integrations/${ids.contoso}/collect`, { types: ['signIns'] });
      assert.equal(res.status, 202);
      let seenRunning: any;
      for (let i = 0; i < 100; i++) {
        const run = (await admin.get<any>(`/api/integrations/${ids.contoso}/runs`)).body.runs.find(
          (r: any) => !earlier.has(r.id),
        );
        if (run?.status === 'running' && run.progress.chains !== null) seenRunning ??= run;
        if (run && run.status !== 'running' && seenRunning) {
          assert.equal(run.status, 'succeeded');
          assert.equal(run.progress, null, 'no progress once ended');
          const p = seenRunning.progress;
          assert.equal(p.chains, 1);
          assert.ok(p.chainsDone === 0 || p.chainsDone === 1);
          assert.ok(p.percent >= 0 && p.percent <= 100);
          assert.ok(Date.parse(p.leaseUntil) > Date.parse(seenRunning.startedAt));
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail('the background run was not seen running and then finished');
    } finally {
      await sim.control('PATCH', '/faults', { latencyMs: 0 });
    }
  });
});
