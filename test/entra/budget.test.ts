// Throttle budgets: Graph URLs classified into Microsoft's throttling families, resource-unit
// costs, windows and buckets on a manual clock (exact, instant), pauses and backoff, sharing;
// then real HTTPS against the simulator's Microsoft throttling: concurrent callers and clients
// (and the connectivity test) sharing a budget get no 429 at the documented rate, injected 429s pause the family and are
// retried, identity protection's 429 without Retry-After backs off with jitter.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  classifyFamily,
  createThrottleBudgets,
  FAMILIES,
  jitteredBackoffMs,
  resourceUnits,
  type Family,
  type IntegrationBudget,
  type ThrottleBudgetOptions,
} from '../../src/entra/budget.js';
import { resolveCloud } from '../../src/entra/clouds.js';
import { createTokenSource } from '../../src/entra/credentials.js';
import { createGraphClient, type GraphClientOptions, type GraphRequestEvent } from '../../src/entra/graph.js';
import { testConnection } from '../../src/integrations/connectivity.js';
import type { AppState } from '../../src/simulator/tenants.js';
import { isoLiteral, SIM_T0, useSimulator, type TestSimulator } from '../helpers/simulator.js';

const TENANT = '11111111-1111-1111-1111-111111111111';
const APP = '22222222-2222-2222-2222-222222222222';
const OTHER_APP = '33333333-3333-3333-3333-333333333333';

/** A manual monotonic clock whose sleeps resolve when it is advanced past them. */
function manualTime() {
  let t = 0;
  const timers: Array<{ at: number; resolve: () => void }> = [];
  const flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    now: () => t,
    sleep: (ms: number, signal: AbortSignal) =>
      new Promise<void>((resolve, reject) => {
        const timer = { at: t + ms, resolve };
        timers.push(timer);
        signal.addEventListener('abort', () => {
          const i = timers.indexOf(timer);
          if (i >= 0) timers.splice(i, 1);
          reject(signal.reason);
        });
      }),
    /** Moves time forward, firing due sleeps in order and letting their callers run. */
    async advance(ms: number) {
      const end = t + ms;
      for (;;) {
        await flush();
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > end) break;
        timers.shift();
        t = Math.max(t, next.at);
        next.resolve();
      }
      t = end;
      await flush();
    },
  };
}

/** Starts `n` acquires of a family and records when each is granted. */
function race(budget: IntegrationBudget, family: Family, n: number, time: { now(): number }, cost = 1) {
  const granted: number[] = [];
  const permits = Array.from({ length: n }, () =>
    budget.acquire(family, undefined, cost).then((p) => {
      granted.push(time.now());
      return p;
    }),
  );
  return { granted, permits };
}

describe('classification and costs', () => {
  test("Graph paths and URLs fall into Microsoft's throttling families", () => {
    const cases: Array<[string, Family]> = [
      ['/v1.0/auditLogs/signIns?$filter=createdDateTime ge 2026-11-01T00:00:00Z', 'reports'],
      ['https://graph.microsoft.com/beta/auditLogs/signIns?$skiptoken=abc', 'reports'],
      ['/v1.0/auditLogs/directoryAudits', 'reports'],
      ['/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=999', 'reports'],
      ['/v1.0/users?$select=id,displayName,signInActivity&$top=500', 'signInActivity'],
      ['/v1.0/users?%24select=id%2CsignInActivity', 'signInActivity'],
      ['/beta/users/abc?$select=signInActivity', 'signInActivity'],
      ['/v1.0/users?$filter=signInActivity/lastSignInDateTime le 2026-01-01T00:00:00Z', 'signInActivity'],
      ['/v1.0/users?$select=id,displayName', 'directory'],
      ['/v1.0/users/delta', 'directory'],
      ['/v1.0/identityProtection/riskyUsers', 'identityProtection'],
      ['/v1.0/identityProtection/riskDetections?$top=500', 'identityProtection'],
      ['/v1.0/identity/conditionalAccess/policies', 'identityProtection'],
      ['/v1.0/deviceManagement/managedDevices', 'intune'],
      ['/v1.0/groups/g1/transitiveMembers', 'directory'],
      ['/v1.0/subscribedSkus', 'directory'],
      ['https://graph.example/graph/v1.0/auditLogs/signIns', 'reports'],
      ['/v1.0/identityProtectionX', 'directory'],
    ];
    for (const [url, family] of cases) assert.equal(classifyFamily(url), family, url);
  });

  test("directory resource units follow Microsoft's table, $select, $expand and small $top", () => {
    const cases: Array<[string, string, number]> = [
      ['GET', '/v1.0/users', 2],
      ['GET', '/v1.0/users?$select=id', 1],
      ['GET', '/v1.0/users/delta?$expand=manager', 3],
      ['GET', '/v1.0/users/u1', 2],
      ['GET', '/v1.0/users/u1/authentication/methods', 1],
      ['GET', '/v1.0/applications', 2],
      ['GET', '/v1.0/groups/g1/members', 3],
      ['GET', '/v1.0/groups/g1/members?$top=5', 2],
      ['GET', '/v1.0/groups/g1/transitiveMembers', 5],
      ['GET', '/v1.0/subscribedSkus', 3],
      ['GET', '/v1.0/servicePrincipals/s1/appRoleAssignments', 2],
      ['POST', '/v1.0/directoryObjects/getByIds', 5],
      ['GET', '/v1.0/organization?$select=id', 1],
      ['PATCH', '/v1.0/users/u1', 1],
    ];
    for (const [method, url, cost] of cases) assert.equal(resourceUnits(url, method), cost, `${method} ${url}`);
  });
});

describe('budgets: what a family allows over time', () => {
  test('requests per second, scaled like the windows (directory: resource units)', () => {
    const budget = createThrottleBudgets().for('t', 'a');
    assert.equal(budget.throughput('reports'), 0.5);
    assert.equal(createThrottleBudgets({ scale: 0.1 }).for('t', 'a').throughput('reports'), 5);
    assert.equal(budget.throughput('directory'), 350);
  });
});

describe('budgets on a manual clock', () => {
  const make = (over: ThrottleBudgetOptions = {}) => {
    const time = manualTime();
    const budgets = createThrottleBudgets({ now: time.now, sleep: time.sleep, random: () => 0.5, ...over });
    return { time, budgets, budget: budgets.for(TENANT, APP) };
  };

  test('reports: five requests per 10 s, counted from each answer, first come first served', async () => {
    const { time, budget } = make();
    const { granted, permits } = race(budget, 'reports', 12, time);
    await time.advance(0);
    assert.deepEqual(granted, [0, 0, 0, 0, 0]);
    // answered after 40 ms: the window of each slot ends 10 s after its answer
    await time.advance(40);
    for (const p of permits.slice(0, 5)) (await p).done(200);
    await time.advance(10_000 - 1);
    assert.equal(granted.length, 5);
    await time.advance(1);
    assert.deepEqual(granted.slice(5), [10_040, 10_040, 10_040, 10_040, 10_040]);
    // never answered: the slot counts from the send plus the skew (250 ms)
    await time.advance(10_250);
    assert.deepEqual(granted.slice(10), [20_290, 20_290]);
    const stats = budget.stats().reports;
    assert.equal(stats.requests, 12);
    assert.equal(stats.throttled, 0);
    assert.equal(stats.waitedMs, 5 * 10_040 + 2 * 20_290);
  });

  test('a more urgent caller goes before those waiting, in arrival order among equals', async () => {
    const { time, budget } = make({ skewMs: 0 });
    const order: string[] = [];
    const take = (name: string, priority: number) =>
      budget.acquire('reports', undefined, 1, priority).then((p) => {
        order.push(name);
        p.done(200);
      });
    const waiting = [...['a', 'b', 'c', 'd', 'e', 'late1', 'late2'].map((n) => take(n, 1)), take('urgent', 0)];
    await time.advance(0);
    assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e'], 'the first five go at once');
    await time.advance(10_000);
    await Promise.all(waiting);
    assert.deepEqual(order.slice(5), ['urgent', 'late1', 'late2']);
  });

  test('scale shrinks every window: 0.01 makes 5 per 10 s into 5 per 100 ms', async () => {
    const { time, budget } = make({ scale: 0.01, skewMs: 0 });
    const { granted } = race(budget, 'reports', 11, time);
    await time.advance(250);
    assert.deepEqual(granted, [0, 0, 0, 0, 0, 100, 100, 100, 100, 100, 200]);
  });

  test('signInActivity 10 per minute, identity protection 1 per second, Intune 100 per 20 s', async () => {
    const { time, budget } = make({ skewMs: 0 });
    const activity = race(budget, 'signInActivity', 11, time);
    const protection = race(budget, 'identityProtection', 3, time);
    const intune = race(budget, 'intune', 101, time);
    await time.advance(60_000);
    assert.deepEqual(activity.granted, [...Array(10).fill(0), 60_000]);
    assert.deepEqual(protection.granted, [0, 1_000, 2_000]);
    assert.deepEqual(intune.granted, [...Array(100).fill(0), 20_000]);
  });

  test('directory: a bucket of 3,500 resource units refilled over 10 s, each request charged its cost', async () => {
    const { time, budget } = make();
    // GET /users costs 2: 1,750 go at once, the next waits for 2 RU (10 s × 2 / 3,500 ≈ 5.7 ms)
    const { granted } = race(budget, 'directory', 1_752, time, resourceUnits('/v1.0/users'));
    await time.advance(0);
    assert.equal(granted.length, 1_750);
    await time.advance(6);
    assert.equal(granted.length, 1_751);
    await time.advance(6);
    assert.equal(granted.length, 1_752);
  });

  test('a 429 pauses the whole family for every caller — Retry-After when given — and nothing else', async () => {
    const { time, budgets, budget } = make({ skewMs: 0 });
    const first = await budget.acquire('directory');
    first.done(429);
    assert.equal(budget.penalize('directory', 2_128), 2_128);
    const paused = race(budget, 'directory', 3, time);
    const reports = race(budget, 'reports', 1, time);
    await time.advance(2_127);
    assert.deepEqual(paused.granted, []);
    assert.deepEqual(reports.granted, [0]);
    await time.advance(1);
    assert.deepEqual(paused.granted, [2_128, 2_128, 2_128]);
    assert.equal(budget.stats().directory.throttled, 1);
    // another app of the same tenant is not paused
    const other = race(budgets.for(TENANT, OTHER_APP), 'directory', 1, time);
    await time.advance(0);
    assert.equal(other.granted.length, 1);
  });

  test('without Retry-After the pause is a jittered backoff that grows with each 429 in a row; a success resets it', async () => {
    const randoms = [0, 1, 0.5, 0.25];
    const { time, budget } = make({ random: () => randoms.shift()!, skewMs: 0 });
    assert.equal(budget.penalize('identityProtection'), 500);
    assert.equal(budget.penalize('identityProtection'), 2_000);
    assert.equal(budget.penalize('identityProtection'), 3_000);
    const { granted, permits } = race(budget, 'identityProtection', 1, time);
    await time.advance(3_000);
    assert.deepEqual(granted, [3_000]);
    (await permits[0]!).done(200);
    assert.equal(budget.penalize('identityProtection'), 625);
    assert.equal(budget.stats().identityProtection.throttled, 4);
    // the jitter: the same streak gives different waits
    assert.deepEqual(
      [0, 0.3, 0.9].map((r) => jitteredBackoffMs(1, () => r)),
      [500, 650, 950],
    );
    assert.equal(
      jitteredBackoffMs(20, () => 1),
      30_000,
    );
    // scaled, so a scaled simulator's 1-s window keeps its ratio
    const scaled = createThrottleBudgets({ scale: 0.01, random: () => 1 }).for(TENANT, APP);
    assert.equal(scaled.penalize('identityProtection'), 10);
  });

  test('one budget per tenant and app; identity protection and conditional access per tenant for all apps', async () => {
    const { time, budgets, budget } = make({ skewMs: 0 });
    assert.equal(budgets.for(TENANT.toUpperCase(), ` ${APP} `), budget);
    const other = budgets.for(TENANT, OTHER_APP);
    assert.notEqual(other, budget);
    const mine = race(budget, 'identityProtection', 1, time);
    const theirs = race(other, 'identityProtection', 1, time);
    const myReports = race(budget, 'reports', 5, time);
    const theirReports = race(other, 'reports', 5, time);
    await time.advance(0);
    assert.deepEqual([mine.granted, theirs.granted], [[0], []]);
    assert.equal(myReports.granted.length + theirReports.granted.length, 10);
    await time.advance(1_000);
    assert.deepEqual(theirs.granted, [1_000]);
    assert.equal(other.stats().identityProtection.requests, 1);
    assert.equal(budget.stats().identityProtection.requests, 1);
  });

  test("an aborted wait leaves the queue with the signal's reason; the callers behind it go on", async () => {
    const { time, budget } = make({ skewMs: 0 });
    await budget.acquire('identityProtection');
    const controller = new AbortController();
    const stopped = budget.acquire('identityProtection', controller.signal);
    const behind = race(budget, 'identityProtection', 1, time);
    const reason = new Error('stop');
    controller.abort(reason);
    await assert.rejects(stopped, (err) => err === reason);
    await time.advance(1_000);
    assert.deepEqual(behind.granted, [1_000]);
    await assert.rejects(budget.acquire('reports', AbortSignal.abort(reason)), (err) => err === reason);
  });

  test('a bad scale is refused', () => {
    for (const scale of [0, -1, Number.NaN, Infinity])
      assert.throws(() => createThrottleBudgets({ scale }), /scale must be a positive number/);
  });
});

// ---------------------------------------------------------------------------------------------

describe("budgets against the simulator's Microsoft throttling", () => {
  const sim = useSimulator({ throttle: 'microsoft' });
  let t: TestSimulator;
  const T0 = Date.parse(SIM_T0);
  const HOUR = 3_600_000;

  before(() => {
    t = sim();
  });

  function client(app: AppState, budget: IntegrationBudget, extra: Partial<GraphClientOptions> = {}) {
    const cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
    const a = t.app('contoso', app);
    const tokens = createTokenSource({
      tenantId: t.tenant('contoso').id,
      clientId: a.appId,
      clientSecret: a.secrets[0]!.secretText,
      cloud,
      dispatcher: t.dispatcher,
    });
    return createGraphClient({ graphUrl: cloud.graphUrl, dispatcher: t.dispatcher, tokens, budget, ...extra });
  }
  const budgetFor = (app: AppState, opts: ThrottleBudgetOptions = {}) =>
    createThrottleBudgets(opts).for(t.tenant('contoso').id, t.app('contoso', app).appId);

  /** A 3-hour slice ending `k` slices before T0, with the simulator's ground truth. */
  async function slice(k: number) {
    const until = T0 - k * 3 * HOUR;
    const since = until - 3 * HOUR;
    const truth = await t.control(
      'GET',
      `/truth/signins?tenant=contoso&since=${new Date(since).toISOString()}&until=${new Date(until).toISOString()}&ids=true`,
    );
    const filter = `createdDateTime ge ${isoLiteral(since)} and createdDateTime lt ${isoLiteral(until)}`;
    return {
      path: (top: number) => `/v1.0/auditLogs/signIns?$filter=${filter}&$top=${top}`,
      ids: truth.ids as string[],
    };
  }

  /** Every record id of a collection, page by page. */
  async function ids(graph: ReturnType<typeof client>, path: string): Promise<string[]> {
    const out: string[] = [];
    for await (const page of graph.pages<{ id: string }>(path)) out.push(...page.value.map((r) => r.id));
    return out;
  }

  /** The least time Graph's sliding window of `limit` per `windowMs` allows for `n` requests. */
  const minimumMs = (n: number, limit: number, windowMs: number) => Math.floor((n - 1) / limit) * windowMs;

  test('8 concurrent callers fetching sign-in pages through one budget: no 429, at the documented 5 per 10 s', async () => {
    await t.control('POST', '/throttle/reset');
    const slices = await Promise.all(Array.from({ length: 8 }, (_, k) => slice(k)));
    // the two busiest slices take two pages each: 10 requests, the most 10 s allows
    const busiest = slices
      .map((s, k) => ({ n: s.ids.length, k }))
      .sort((a, b) => b.n - a.n)
      .slice(0, 2)
      .map((s) => s.k);
    const tops = slices.map((s, k) => (busiest.includes(k) ? Math.ceil(s.ids.length / 2) : 1000));
    assert.ok(busiest.every((k) => slices[k]!.ids.length >= 2));
    const requests = slices.reduce((n, s, k) => n + Math.max(1, Math.ceil(s.ids.length / tops[k]!)), 0);
    assert.equal(requests, 10);

    const budget = budgetFor('readonly');
    const events: GraphRequestEvent[] = [];
    const graph = client('readonly', budget, { onRequest: (e) => events.push(e) });
    const started = performance.now();
    const got = await Promise.all(slices.map((s, k) => ids(graph, s.path(tops[k]!))));
    const elapsed = performance.now() - started;

    assert.deepEqual(
      got.map((g) => new Set(g)),
      slices.map((s) => new Set(s.ids)),
      'every slice complete',
    );
    assert.deepEqual(
      events.map((e) => e.status),
      Array(10).fill(200),
      'no 429',
    );
    assert.deepEqual(graph.stats, { requests: 10, throttled: 0, retries: 0 });
    assert.ok(events.every((e) => e.family === 'reports'));
    const minimum = minimumMs(requests, 5, 10_000);
    assert.ok(elapsed >= minimum, `${Math.round(elapsed)} ms ≥ ${minimum} ms`);
    assert.ok(elapsed <= 1.2 * minimum, `${Math.round(elapsed)} ms ≤ 1.2 × ${minimum} ms`);
    const stats = budget.stats().reports;
    assert.equal(stats.requests, 10);
    assert.equal(stats.throttled, 0);
    // the first five go at once; the next ones wait for the window (the second page of a slice
    // whose first page went at once waits too, unless the window reopened before it asked)
    const waited = events.filter((e) => e.waitedMs > 9_000);
    assert.ok(waited.length >= 3, `${waited.length} waited for the window`);
    assert.ok(stats.waitedMs >= waited.length * 9_000);
  });

  test('two collectors and the connectivity test sharing one budget: no 429 between them', async () => {
    await t.control('POST', '/throttle/reset');
    const slices = await Promise.all(Array.from({ length: 6 }, (_, k) => slice(k)));
    const budget = budgetFor('readonly');
    const a = client('readonly', budget);
    const b = client('readonly', budget);
    const app = t.app('contoso', 'readonly');
    const cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
    const started = performance.now();
    // three sign-in pages each and the test's four report probes: any one alone is within
    // 5 per 10 s, together they are not
    const run = async (graph: typeof a, mine: typeof slices) => {
      for (const s of mine) assert.deepEqual(new Set(await ids(graph, s.path(1000))), new Set(s.ids));
    };
    const [report] = await Promise.all([
      testConnection(
        { tenantId: t.tenant('contoso').id, clientId: app.appId, clientSecret: app.secrets[0]!.secretText, cloud },
        { budget, clock: { now: () => T0 } },
      ),
      run(a, slices.slice(0, 3)),
      run(b, slices.slice(3)),
    ]);
    const elapsed = performance.now() - started;
    assert.equal(report.connected, true, report.message);
    assert.deepEqual(report.warnings, []);
    assert.ok(
      report.capabilities.every((c) => c.status === 'available'),
      JSON.stringify(report.capabilities.filter((c) => c.status !== 'available')),
    );
    assert.deepEqual(
      [a.stats, b.stats],
      [
        { requests: 3, throttled: 0, retries: 0 },
        { requests: 3, throttled: 0, retries: 0 },
      ],
    );
    const stats = budget.stats();
    assert.deepEqual([stats.reports.requests, stats.reports.throttled], [10, 0]);
    for (const family of FAMILIES) assert.equal(stats[family].throttled, 0, family);
    assert.ok(
      elapsed >= minimumMs(10, 5, 10_000) && elapsed <= 1.2 * minimumMs(10, 5, 10_000),
      `${Math.round(elapsed)} ms`,
    );
  });

  test('injected 429s: every request succeeds in the end, each 429 pauses the family for all callers, retries are counted', async () => {
    await t.control('POST', '/throttle/reset');
    const path = '/v1.0/users?$top=15&$select=id,displayName';
    const budget = budgetFor('readonly');
    const events: GraphRequestEvent[] = [];
    const retries: Array<{ code: string; waitMs: number }> = [];
    const graph = client('readonly', budget, { maxAttempts: 10, onRequest: (e) => events.push(e) });
    const expected = await ids(graph, path);
    events.length = 0;
    await t.control('PATCH', '/faults', { rate429: 0.3 });
    try {
      const before = graph.stats;
      const read = async () => {
        const out: string[] = [];
        for await (const page of graph.pages<{ id: string }>(path, { onRetry: (r) => retries.push(r) }))
          out.push(...page.value.map((u) => u.id));
        return out;
      };
      const got = await Promise.all([read(), read(), read()]);
      assert.deepEqual(got, [expected, expected, expected]);

      const throttled = events.filter((e) => e.status === 429);
      assert.ok(throttled.length >= 1, 'the fault struck');
      assert.ok(events.every((e) => e.status === 200 || e.status === 429));
      const stats = graph.stats;
      assert.equal(stats.throttled - before.throttled, throttled.length);
      assert.equal(stats.retries - before.retries, throttled.length);
      assert.equal(retries.length, throttled.length);
      assert.ok(retries.every((r) => r.code === 'TooManyRequests'));
      assert.equal(budget.stats().directory.throttled, throttled.length);
      // the pause: nothing of the family left while Graph's Retry-After ran (whoever had asked)
      for (const e of throttled) {
        assert.ok(e.retryAfterMs !== undefined && e.retryAfterMs >= 1_000);
        const end = e.sentAt + e.durationMs;
        const during = events.filter((f) => f.sentAt > end + 5 && f.sentAt < end + e.retryAfterMs! - 1);
        assert.deepEqual(during, [], `nothing sent during the pause after the 429 at ${Math.round(end)}`);
      }
      // …and callers that were not throttled themselves waited for it
      assert.ok(
        events.some((e) => e.attempt === 1 && e.waitedMs >= 500),
        'another caller waited out the pause',
      );
    } finally {
      await t.control('PATCH', '/faults', { rate429: 0 });
    }
  });

  test("identity protection: a 429 without Retry-After (another app used the tenant's second) backs off with jitter, then succeeds", async () => {
    await t.control('POST', '/throttle/reset');
    const budget = budgetFor('readonly', { random: () => 0.5 });
    const events: GraphRequestEvent[] = [];
    const retries: Array<{ status?: number; waitMs: number }> = [];
    const graph = client('readonly', budget, { onRequest: (e) => events.push(e) });
    await t.token('contoso', 'readonly');
    await t.token('contoso', 'readwrite');
    // another app of the tenant, outside our budget, takes the tenant's one request a second
    assert.equal((await t.graph('contoso', 'readwrite', '/v1.0/identityProtection/riskyUsers?$top=1')).status, 200);
    const body = await graph.get<{ value: unknown[] }>('/v1.0/identityProtection/riskyUsers?$top=1', {
      onRetry: (r) => retries.push(r),
    });
    assert.ok(Array.isArray(body.value));
    assert.deepEqual(
      events.map((e) => [e.family, e.status, e.retryAfterMs]),
      [
        ['identityProtection', 429, undefined],
        ['identityProtection', 200, undefined],
      ],
    );
    // streak 1 → 0.5–1 s; random 0.5 → 750 ms
    assert.deepEqual(retries, [{ attempt: 1, code: 'TooManyRequests', status: 429, waitMs: 750 }]);
    const [first, second] = events as [GraphRequestEvent, GraphRequestEvent];
    assert.ok(second.sentAt >= first.sentAt + first.durationMs + 750, 'the retry waited the backoff');
    assert.deepEqual([budget.stats().identityProtection.requests, budget.stats().identityProtection.throttled], [2, 1]);
    assert.deepEqual(graph.stats, { requests: 2, throttled: 1, retries: 1 });
  });
});
