// Sign-in collection against the simulated tenant, checked against its ground truth: the
// backfill, an interrupted backfill resumed, incremental runs through late arrival and
// re-publishing, faults, and a malformed page. The simulator's clock drives everything, so
// nothing waits in real time.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { collectEvents, DEFAULT_EVENT_SETTINGS } from '../../src/collect/events.js';
import { resolveCloud } from '../../src/entra/clouds.js';
import { createTokenSource } from '../../src/entra/credentials.js';
import { createGraphClient, type GraphClient } from '../../src/entra/graph.js';
import { createThrottleBudgets } from '../../src/entra/budget.js';
import { createEntraDispatcher } from '../../src/entra/network.js';
import { createCollectionRepo } from '../../src/store/collection.js';
import type { Db } from '../../src/store/db.js';
import { createSignInRepo } from '../../src/store/signins.js';
import { DAY, HOUR } from '../../src/simulator/data/time.js';
import { openMigrated } from '../helpers/databases.js';
import { startTestSimulator, type TestSimulator } from '../helpers/simulator.js';

const MINUTE = 60_000;

interface Rig {
  t: TestSimulator;
  db: Db;
  graph: GraphClient;
  integrationId: string;
  close(): Promise<void>;
}

async function rig(options: Parameters<typeof startTestSimulator>[0] = {}): Promise<Rig> {
  const t = await startTestSimulator({ throttle: 'off', users: 30, ...options });
  const { db, dispose } = await openMigrated('sqlite');
  const dispatcher = createEntraDispatcher({ ca: t.sim.ca });
  const app = t.app('contoso', 'readwrite');
  const cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
  const tokens = createTokenSource({
    tenantId: t.tenant('contoso').id,
    clientId: app.appId,
    clientSecret: app.secrets[0]!.secretText,
    cloud,
    dispatcher,
  });
  const graph = createGraphClient({ graphUrl: t.sim.url, dispatcher, tokens, maxAttempts: 8, maxRetryWaitMs: 5_000 });
  return {
    t,
    db,
    graph,
    integrationId: 'a1b2c3d4-0000-4000-8000-000000000001',
    async close() {
      await dispatcher.close();
      await dispose();
      await t.close();
    },
  };
}

const collect = (r: Rig, extra: Partial<Parameters<typeof collectEvents>[0]> = {}) =>
  collectEvents({
    integrationId: r.integrationId,
    dataType: 'signIns',
    graph: r.graph,
    collection: createCollectionRepo(r.db),
    store: createSignInRepo(r.db),
    clock: r.t.sim.state.clock,
    ...extra,
  });

/** The store and the simulator's ground truth for [since, until): ids, and equal? */
async function compare(r: Rig, since: number, until: number) {
  const truth = await r.t.control(
    'GET',
    `/truth/signins?tenant=contoso&since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}&ids=true`,
  );
  const stored = await createSignInRepo(r.db).list({ integrationId: r.integrationId, since, until });
  const storedIds = stored.map((s) => s.sign_in_id);
  return { truth: truth.ids as string[], stored: storedIds, rows: stored };
}

function assertSame(c: { truth: string[]; stored: string[] }) {
  assert.equal(new Set(c.stored).size, c.stored.length, 'no duplicates');
  const missing = c.truth.filter((id) => !c.stored.includes(id));
  const extra = c.stored.filter((id) => !c.truth.includes(id));
  assert.deepEqual({ missing: missing.length, extra: extra.length }, { missing: 0, extra: 0 });
  assert.ok(c.truth.length > 0);
}

describe('sign-in collection', () => {
  let r: Rig;
  before(async () => {
    r = await rig();
  });
  after(() => r.close());

  test('the first run backfills the retention window exactly, in about the pages the data needs; the cursor moves to now − lag', async () => {
    const now = r.t.sim.state.clock.now();
    const requestsBefore = r.graph.stats.requests;
    const stats = await collect(r);
    assert.equal(stats.chainsDone, stats.chains);
    const from = now - 30 * DAY + 10 * MINUTE;
    const to = now - DEFAULT_EVENT_SETTINGS.lagMs;
    const c = await compare(r, from, to + 1);
    assertSame(c);
    assert.equal(stats.inserted, c.stored.length);
    // unpaced (this rig has no throttle budget), a second chain keeps the store busy: a request more at most
    assert.ok(
      r.graph.stats.requests - requestsBefore <= Math.ceil(c.truth.length / 1000) + stats.chains,
      `${r.graph.stats.requests - requestsBefore} requests for ${c.truth.length} sign-ins`,
    );
    assert.equal(await createCollectionRepo(r.db).cursor(r.integrationId, 'signIns'), to);
  });

  test('a run with nothing new re-reads only the overlap and changes nothing; the late sweep comes hourly', async () => {
    const stats = await collect(r);
    assert.equal(stats.inserted, 0);
    assert.equal(stats.updated, 0);
    assert.equal(stats.chains, 1);
    assert.equal(stats.sweep, undefined);
    assert.ok(stats.pages <= 2, `${stats.pages} pages`);
    await r.t.control('POST', '/clock/advance', { seconds: 61 * 60 });
    const swept = await collect(r);
    assert.equal(swept.sweep, true);
    assert.equal(Date.parse(swept.to!) - Date.parse(swept.from!), 61 * MINUTE + DEFAULT_EVENT_SETTINGS.sweepWindowMs);
  });

  test('incremental runs through late arrival (up to 60 min) and re-published records end equal to the truth', async () => {
    const start = r.t.sim.state.clock.now();
    await r.t.control('PATCH', '/faults', { lateMinutes: 60, republishRate: 0.3, republishMinutes: 60 });
    for (let i = 0; i < 10; i++) {
      await r.t.control('POST', '/clock/advance', { seconds: 30 * 60 });
      await collect(r);
    }
    const end = r.t.sim.state.clock.now();
    // everything that happened since the backfill, up to what the lag, the lateness and the
    // hourly late sweep allow
    const c = await compare(
      r,
      start - 3 * HOUR,
      end - DEFAULT_EVENT_SETTINGS.lagMs - 60 * MINUTE - DEFAULT_EVENT_SETTINGS.sweepIntervalMs,
    );
    assertSame(c);
    // The stored version of each record is the newest Graph serves now. (From 2 h before the
    // faults were switched on: turning re-publishing on also re-publishes older history at once,
    // which Entra never does.)
    const served = await r.graph.get<{ value: Array<Record<string, unknown>> }>(
      `/v1.0/auditLogs/signIns?$top=1000&$filter=${encodeURIComponent(
        `createdDateTime ge ${new Date(start - 2 * HOUR).toISOString()} ` +
          `and createdDateTime le ${new Date(end - 3 * HOUR).toISOString()}`,
      )}`,
    );
    const storedById = new Map(c.rows.map((row) => [row.sign_in_id, row.raw]));
    let republished = 0;
    for (const record of served.value) {
      assert.equal(
        storedById.get(record.id as string),
        JSON.stringify(record),
        `stored version of ${String(record.id)}`,
      );
      if (record.riskState === 'atRisk') republished++;
    }
    assert.ok(republished > 0, 're-published versions were collected');
    await r.t.control('PATCH', '/faults', { lateMinutes: 0, republishRate: 0 });
  });
});

describe('sign-in collection: interruption, faults, malformed pages', () => {
  test('an interrupted backfill resumes its chains where they stopped; the store ends equal to the truth', async () => {
    const r = await rig({ seed: 5 });
    try {
      const now = r.t.sim.state.clock.now();
      const abort = new AbortController();
      await assert.rejects(
        collect(r, {
          signal: abort.signal,
          onProgress: (s) => {
            if (s.pages >= 3) abort.abort(new Error('killed'));
          },
        }),
      );
      assert.equal(
        await createCollectionRepo(r.db).cursor(r.integrationId, 'signIns'),
        null,
        'the cursor did not move',
      );
      const pending = (await createCollectionRepo(r.db).planInProgress(r.integrationId, 'signIns')).filter(
        (c) => !c.done,
      );
      assert.ok(pending.length > 0, 'chains left');
      assert.ok(
        pending.some((c) => c.resumeAt < c.end),
        'a chain resumes below its end',
      );
      const second = await collect(r);
      assert.ok(second.coveredMs === second.spanMs && second.chainsDone === second.chains);
      assertSame(await compare(r, now - 30 * DAY + 10 * MINUTE, now - DEFAULT_EVENT_SETTINGS.lagMs + 1));
    } finally {
      await r.close();
    }
  });

  test('429s, 503s, 504s and connection resets: the run completes with exact data', async () => {
    const r = await rig({ seed: 6, faults: 'rate429=0.2,rate503=0.1,rate504=0.05,resetRate=0.05' });
    try {
      const now = r.t.sim.state.clock.now();
      await collect(r, { settings: { retentionDays: 5 } });
      assertSame(await compare(r, now - 5 * DAY + 10 * MINUTE, now - DEFAULT_EVENT_SETTINGS.lagMs + 1));
    } finally {
      await r.close();
    }
  });

  test("paced by a throttle budget against Microsoft's throttling: no 429 at all, and few requests more than the pages", async () => {
    // Windows of 1 s and pages of 300 ms: one chain would send about 3 of the 5 a second allowed
    const r = await rig({ seed: 8, users: 200, throttle: 'microsoft', throttleScale: 0.1, faults: 'latencyMs=300' });
    try {
      const app = r.t.app('contoso', 'readwrite');
      const budget = createThrottleBudgets({ scale: 0.1 }).for(r.t.tenant('contoso').id, app.appId);
      const dispatcher = createEntraDispatcher({ ca: r.t.sim.ca });
      const cloud = resolveCloud('custom', { authorityHost: r.t.sim.url, graphUrl: r.t.sim.url, caPem: r.t.sim.ca });
      const tokens = createTokenSource({
        tenantId: r.t.tenant('contoso').id,
        clientId: app.appId,
        clientSecret: app.secrets[0]!.secretText,
        cloud,
        dispatcher,
      });
      const graph = createGraphClient({ graphUrl: r.t.sim.url, dispatcher, tokens, budget });
      const now = r.t.sim.state.clock.now();
      const stats = await collect({ ...r, graph }, { settings: { retentionDays: 7 } });
      await dispatcher.close();
      assert.equal(graph.stats.throttled, 0, 'no 429');
      const c = await compare(r, now - 7 * DAY + 10 * MINUTE, now - DEFAULT_EVENT_SETTINGS.lagMs + 1);
      assertSame(c);
      assert.ok(stats.pages >= 5, `${stats.pages} pages`);
      assert.ok(
        graph.stats.requests <= Math.ceil(c.truth.length / 1000) + stats.chains,
        `${graph.stats.requests} requests, ${stats.chains} chains, ${c.truth.length} sign-ins`,
      );
    } finally {
      await r.close();
    }
  });

  test('a malformed page fails the run clearly; the next run completes exactly', async () => {
    const r = await rig({ seed: 7 });
    try {
      const now = r.t.sim.state.clock.now();
      await r.t.control('PATCH', '/faults', { malformedRate: 1 });
      await assert.rejects(collect(r, { settings: { retentionDays: 3 } }), /not valid JSON|Malformed|Bad Gateway|502/i);
      assert.equal(await createCollectionRepo(r.db).cursor(r.integrationId, 'signIns'), null);
      await r.t.control('PATCH', '/faults', { malformedRate: 0 });
      await collect(r, { settings: { retentionDays: 3 } });
      assertSame(await compare(r, now - 3 * DAY + 10 * MINUTE, now - DEFAULT_EVENT_SETTINGS.lagMs + 1));
    } finally {
      await r.close();
    }
  });
});
