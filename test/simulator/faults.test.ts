// The simulator's bad days: Microsoft's throttling, every fault knob, the control API, and
// determinism (the same seed serves the same bytes).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { fetch } from 'undici';
import {
  isoLiteral as iso,
  SIM_T0,
  startTestSimulator,
  useSimulator,
  type TestSimulator,
} from '../helpers/simulator.js';
import { HOUR } from '../../src/simulator/data/time.js';
import { createThrottle, seededRandom, wholeSeconds } from '../../src/simulator/graph/throttle.js';
import { parseSimulatorOptions, SimulatorOptionError } from '../../src/simulator/options.js';

const T0 = Date.parse(SIM_T0);
const signIns = '/v1.0/auditLogs/signIns?$top=20';

describe('throttling as Microsoft documents it', () => {
  const sim = useSimulator({ throttle: 'microsoft' });
  let t: TestSimulator;
  before(() => {
    t = sim();
  });

  test("reports: the sixth request in ten seconds gets 429 with Retry-After and Microsoft's body", async () => {
    const statuses: number[] = [];
    let throttled: Awaited<ReturnType<TestSimulator['graph']>> | undefined;
    for (let i = 0; i < 6; i++) {
      const res = await t.graph('contoso', 'readonly', signIns);
      statuses.push(res.status);
      if (res.status === 429) throttled = res;
    }
    assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
    // whole seconds, as Graph sends them for the reports APIs
    assert.match(throttled!.headers.get('retry-after') ?? '', /^\d+$/);
    const retryAfter = Number(throttled!.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 10, `Retry-After ${throttled!.headers.get('retry-after')}`);
    assert.equal(throttled!.body.error.code, 'TooManyRequests');
    assert.equal(throttled!.body.error.message, 'Please retry again later.');
    assert.deepEqual(Object.keys(throttled!.body.error.innerError).sort(), [
      'client-request-id',
      'code',
      'date',
      'message',
      'request-id',
      'status',
    ]);
    assert.equal(throttled!.body.error.innerError.code, '429');
    // the budget is per app: another app of the same tenant is not throttled
    assert.equal((await t.graph('contoso', 'readwrite', signIns)).status, 200);
  });
});

describe("Retry-After of the reports family: whole seconds, approximate as Graph's", () => {
  /** Fills a fresh 10 s window at t = 0…4 s, then asks at `at` ms: the 429's Retry-After and the exact wait. */
  function throttledAt(at: number, random: () => number, scale = 1) {
    let t = 0;
    const throttle = createThrottle({ enabled: () => true, now: () => t, scale, random });
    for (let i = 0; i < 5; i++, t += 1_000 * scale) throttle.check('reports', 'tenant', 'app');
    t = at * scale;
    const retryAfter = throttle.check('reports', 'tenant', 'app').retryAfter!;
    // obeying it: back after exactly that long
    t += Number(retryAfter) * 1000;
    return {
      retryAfter,
      exactS: (10_000 - at) / 1000,
      again: throttle.check('reports', 'tenant', 'app').retryAfter !== undefined,
    };
  }

  test('never under a second nor a second off the exact wait; an obedient client sometimes meets a second 429', () => {
    const random = seededRandom(7);
    let early = 0;
    for (let i = 0; i < 200; i++) {
      const at = 4_000 + ((i * 997) % 6_000); // waits of 0 to 6 s, all fractions
      const { retryAfter, exactS, again } = throttledAt(at, random);
      assert.match(retryAfter, /^\d+$/);
      assert.ok(Number(retryAfter) >= 1 && Math.abs(Number(retryAfter) - exactS) < 1, `${retryAfter} for ${exactS} s`);
      if (again) early++;
    }
    // stochastic rounding: early about as often as the waits' fractions say, never always
    assert.ok(early > 40 && early < 160, `${early} of 200 early`);
  });

  test('the draws come from the seed: the same seed rounds the same way', () => {
    const run = (seed: number) =>
      Array.from({ length: 40 }, (_, i) => throttledAt(4_300 + i * 111, seededRandom(seed)).retryAfter).join(',');
    assert.equal(run(3), run(3));
    assert.notEqual(run(3), run(4));
    assert.equal(
      wholeSeconds(2_500, 1, () => 0),
      '2',
    );
    assert.equal(
      wholeSeconds(2_500, 1, () => 0.5),
      '3',
    );
    assert.equal(
      wholeSeconds(100, 1, () => 0.1),
      '1',
      'never under a second',
    );
  });

  test("with --throttle-scale the whole seconds of Microsoft's clock are scaled back: fractional, at most three decimals", () => {
    assert.equal(
      wholeSeconds(150, 0.05, () => 0),
      '0.15',
      'a whole 3 s scaled by 0.05',
    );
    assert.equal(
      wholeSeconds(1, 0.0001, () => 0),
      '0.001',
      'never "0"',
    );
    for (let i = 0; i < 50; i++) {
      const { retryAfter, exactS } = throttledAt(4_000 + i * 117, seededRandom(i), 0.05);
      assert.match(retryAfter, /^\d+(\.\d{1,3})?$/);
      const unscaled = Number(retryAfter) / 0.05;
      assert.ok(
        Math.abs(unscaled - Math.round(unscaled)) < 1e-6 && Math.abs(unscaled - exactS) < 1,
        `${retryAfter} at scale 0.05 for ${exactS} s`,
      );
    }
  });
});

describe('throttle scale (--throttle-scale, for short pacing benchmarks)', () => {
  test('scale 0.01: reports allow 5 requests per 100 ms, the sixth gets 429 with a scaled Retry-After', () => {
    let t = 1_000;
    const throttle = createThrottle({ enabled: () => true, now: () => t, scale: 0.01 });
    const check = () => throttle.check('reports', 'tenant', 'app');
    for (let i = 0; i < 5; i++) assert.deepEqual(check(), {}, `request ${i + 1}`);
    t += 40;
    assert.deepEqual(check(), { retryAfter: '0.06' });
    // still inside the 100 ms window of the first five, then just past it: a wait of 0.5 ms is
    // 50 ms on Microsoft's clock, and Graph's Retry-After is at least a second (0.01 scaled)
    t = 1_099.5;
    assert.deepEqual(check(), { retryAfter: '0.01' });
    t = 1_100.5;
    for (let i = 0; i < 5; i++) assert.deepEqual(check(), {}, `request ${i + 1} of the second window`);
    assert.equal(check().retryAfter, '0.1');
    // the other windows and the directory buckets scale too
    for (let i = 0; i < 10; i++) assert.deepEqual(throttle.check('signInActivity', 'tenant', 'app'), {});
    assert.equal(throttle.check('signInActivity', 'tenant', 'app').retryAfter, '0.6');
    assert.deepEqual(throttle.check('identityProtection', 'tenant', 'app'), {});
    assert.deepEqual(throttle.check('identityProtection', 'tenant', 'app'), { retryAfter: null });
    assert.deepEqual(throttle.check('directory', 'tenant', 'app', { cost: 3_500, tenantUsers: 10 }), {
      resourceUnits: 3_500,
    });
    // 35 units refill in 1 ms at 0.01 (3,500 per 100 ms): 70 units are 2 ms away
    assert.deepEqual(throttle.check('directory', 'tenant', 'app', { cost: 70, tenantUsers: 10 }), {
      retryAfter: '0.002',
      resourceUnits: 70,
    });
  });

  test('the option is validated and reaches the served throttle', async () => {
    for (const bad of ['0', '-0.5', '1.5', 'fast', 'Infinity']) {
      assert.throws(
        () => parseSimulatorOptions({ stateDir: '/tmp', throttleScale: bad }),
        (err: Error) => err instanceof SimulatorOptionError && err.message.startsWith('--throttle-scale: '),
        bad,
      );
    }
    assert.equal(parseSimulatorOptions({ stateDir: '/tmp' }).throttleScale, 1);
    assert.equal(parseSimulatorOptions({ stateDir: '/tmp', throttleScale: '0.05' }).throttleScale, 0.05);

    const t = await startTestSimulator({ throttle: 'microsoft', throttleScale: 0.01 });
    try {
      // token and connection first (the other app has its own budget), so the six fit in 100 ms
      await t.token('contoso', 'readonly');
      await t.graph('contoso', 'readwrite', signIns);
      const statuses: number[] = [];
      let retryAfter = '';
      for (let i = 0; i < 6; i++) {
        const res = await t.graph('contoso', 'readonly', signIns);
        statuses.push(res.status);
        retryAfter = res.headers.get('retry-after') ?? '';
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
      assert.match(retryAfter, /^0\.\d{1,3}$/);
      assert.ok(Number(retryAfter) > 0 && Number(retryAfter) <= 0.1, retryAfter);
      // Retry-After is approximate (it may be up to a second early on Microsoft's clock): a
      // client that waits it plus one (scaled) second is through
      await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000 + 10 + 5));
      assert.equal((await t.graph('contoso', 'readonly', signIns)).status, 200);
    } finally {
      await t.close();
    }
  });
});

describe('fault knobs', () => {
  const sim = useSimulator({ throttle: 'off' });
  let t: TestSimulator;
  before(() => {
    t = sim();
  });
  const setFaults = (f: Record<string, unknown>) => t.control('PATCH', '/faults', f);
  const reset = () =>
    setFaults({
      rate429: 0,
      rate503: 0,
      rate504: 0,
      malformedRate: 0,
      resetRate: 0,
      latencyMs: 0,
      lateMinutes: 0,
      republishRate: 0,
      skiptokenTtl: 3600,
      tokenLifetime: 3900,
    });

  test('429, 503 and 504 rates', async () => {
    await setFaults({ rate429: 1 });
    const r429 = await t.graph('contoso', 'readwrite', signIns);
    assert.equal(r429.status, 429);
    assert.match(r429.headers.get('retry-after') ?? '', /^\d+(\.\d+)?$/);
    await setFaults({ rate429: 0, rate503: 1 });
    const r503 = await t.graph('contoso', 'readwrite', signIns);
    assert.equal(r503.status, 503);
    assert.equal(r503.body.error.code, 'serviceNotAvailable');
    await setFaults({ rate503: 0, rate504: 1 });
    assert.equal((await t.graph('contoso', 'readwrite', signIns)).status, 504);
    await reset();
    assert.equal((await t.graph('contoso', 'readwrite', signIns)).status, 200);
  });

  test('malformed bodies: truncated JSON or an HTML error page', async () => {
    await setFaults({ malformedRate: 1 });
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const res = await t.graph('contoso', 'readwrite', signIns);
      assert.equal(res.body, undefined, 'the body does not parse');
      seen.add(res.status === 502 ? 'html' : 'truncated');
      if (res.status === 502) assert.match(res.text, /<html>/);
    }
    await reset();
    assert.ok(seen.size >= 1);
  });

  test('connection resets', async () => {
    await setFaults({ resetRate: 1 });
    await assert.rejects(t.graph('contoso', 'readwrite', signIns), /fetch failed|socket|other side closed/i);
    await reset();
  });

  test('latency per page and per record', async () => {
    await setFaults({ latencyMs: 150, latencyPerRecordMs: 5 });
    const started = performance.now();
    const res = await t.graph('contoso', 'readwrite', '/v1.0/auditLogs/signIns?$top=20');
    const took = performance.now() - started;
    await setFaults({ latencyMs: 0, latencyPerRecordMs: 0 });
    assert.equal(res.body.value.length, 20);
    assert.ok(took >= 150 + 100, `took ${took} ms`);
  });

  test('short token lifetime: a token expires with the simulated clock and Graph answers 401', async () => {
    await setFaults({ tokenLifetime: 60 });
    const t2 = await startTestSimulatorSharing(t);
    const token = await t2.token('contoso', 'readwrite');
    const call = () =>
      fetch(`${t.sim.url}${signIns}`, { headers: { authorization: `Bearer ${token}` }, dispatcher: t.dispatcher });
    assert.equal((await call()).status, 200);
    await t.control('POST', '/clock/advance', { seconds: 61 });
    const expired = await call();
    assert.equal(expired.status, 401);
    const body = (await expired.json()) as any;
    assert.equal(body.error.code, 'InvalidAuthenticationToken');
    assert.match(body.error.message, /expired/);
    await reset();
  });

  test('late arrival: sign-ins appear after a delay; the ground truth follows the clock', async () => {
    await setFaults({ lateMinutes: 30 });
    const now = Date.parse((await t.control('GET', '/clock')).now);
    const window = `since=${iso(now - 20 * 60_000)}&until=${new Date(now + 1).toISOString()}`;
    const before = (await t.control('GET', `/truth/signins?tenant=contoso&${window}`)).count;
    const filter = `createdDateTime ge ${iso(now - 20 * 60_000)} and createdDateTime le ${iso(now)}`;
    const served = await t.graph(
      'contoso',
      'readwrite',
      `/v1.0/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`,
    );
    assert.equal(served.body.value.length, before, 'Graph serves what has arrived');
    await t.control('POST', '/clock/advance', { seconds: 31 * 60 });
    const after = (await t.control('GET', `/truth/signins?tenant=contoso&${window}`)).count;
    assert.ok(after > before, `late sign-ins arrived (${before} → ${after})`);
    const later = await t.graph(
      'contoso',
      'readwrite',
      `/v1.0/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`,
    );
    assert.equal(later.body.value.length, after);
    await reset();
  });

  test('duplicate re-publish: the same id comes back later with changed fields', async () => {
    await setFaults({ republishRate: 1, republishMinutes: 10 });
    const now = Date.parse((await t.control('GET', '/clock')).now);
    const filter = encodeURIComponent(`createdDateTime ge ${iso(now - 5 * 60_000)} and createdDateTime le ${iso(now)}`);
    const first = (await t.graph('contoso', 'readwrite', `/v1.0/auditLogs/signIns?$filter=${filter}`)).body.value;
    await t.control('POST', '/clock/advance', { seconds: 15 * 60 });
    const second = (await t.graph('contoso', 'readwrite', `/v1.0/auditLogs/signIns?$filter=${filter}`)).body.value;
    await reset();
    assert.ok(first.length > 0);
    assert.deepEqual(
      second.map((r: any) => r.id),
      first.map((r: any) => r.id),
      'same records, same ids',
    );
    const changed = second.filter((r: any, i: number) => JSON.stringify(r) !== JSON.stringify(first[i]));
    assert.ok(changed.length > 0, 're-published versions differ');
    assert.ok(
      changed.some((r: any) => r.riskState === 'atRisk'),
      'risk added',
    );
  });

  test('skiptoken expiry: an old next link is refused', async () => {
    await setFaults({ skiptokenTtl: 5 });
    const first = await t.graph('contoso', 'readwrite', '/v1.0/auditLogs/signIns?$top=2');
    await t.control('POST', '/clock/advance', { seconds: 6 });
    const stale = await t.graph('contoso', 'readwrite', first.body['@odata.nextLink']);
    await reset();
    assert.equal(stale.status, 400);
    assert.equal(stale.body.error.code, 'BadRequest');
  });

  test('bad knobs are refused with the knob named; the faults stay as they were', async () => {
    await assert.rejects(setFaults({ rate429: 2 }), /rate429/);
    await assert.rejects(setFaults({ nonsense: 1 }), /nonsense/);
    assert.equal((await t.control('GET', '/faults')).rate429, 0);
  });
});

describe('control API and determinism', () => {
  const sim = useSimulator({ throttle: 'off', seed: 7 });
  let t: TestSimulator;
  before(() => {
    t = sim();
  });

  test('the control API needs its token', async () => {
    const res = await fetch(`${t.sim.url}/_sim/clock`, { dispatcher: t.dispatcher });
    assert.equal(res.status, 401);
    const wrong = await fetch(`${t.sim.url}/_sim/clock`, {
      headers: { authorization: 'Bearer nope' },
      dispatcher: t.dispatcher,
    });
    assert.equal(wrong.status, 401);
  });

  test('the control API is absent unless enabled', async () => {
    const off = await startTestSimulator({ control: false });
    after(() => off.close());
    const res = await fetch(`${off.sim.url}/_sim/clock`, { dispatcher: off.dispatcher });
    assert.equal(res.status, 404);
  });

  test('the same seed serves byte-identical pages; another seed does not', async () => {
    const twin = await startTestSimulator({ throttle: 'off', seed: 7 });
    const other = await startTestSimulator({ throttle: 'off', seed: 8 });
    after(async () => {
      await twin.close();
      await other.close();
    });
    const path = '/v1.0/auditLogs/signIns?$top=300';
    const a = await t.graph('contoso', 'readwrite', path);
    const b = await twin.graph('contoso', 'readwrite', path);
    const c = await other.graph('contoso', 'readwrite', path);
    const strip = (text: string, url: string) => text.replaceAll(url, 'ROOT');
    assert.equal(strip(a.text, t.sim.url), strip(b.text, twin.sim.url));
    assert.notEqual(strip(a.text, t.sim.url), strip(c.text, other.sim.url));
    const nextA = await t.graph('contoso', 'readwrite', a.body['@odata.nextLink']);
    const nextB = await twin.graph('contoso', 'readwrite', b.body['@odata.nextLink']);
    assert.equal(strip(nextA.text, t.sim.url), strip(nextB.text, twin.sim.url));
    assert.equal(t.tenant('contoso').id, twin.tenant('contoso').id);
    assert.equal(
      t.app('contoso', 'readwrite').secrets[0]!.secretText,
      twin.app('contoso', 'readwrite').secrets[0]!.secretText,
    );
  });

  test('the clock moves only forward', async () => {
    const before = Date.parse((await t.control('GET', '/clock')).now);
    assert.equal(before, T0);
    const moved = await t.control('POST', '/clock/advance', { seconds: 3600 });
    assert.equal(Date.parse(moved.now), T0 + HOUR);
    await assert.rejects(t.control('POST', '/clock/advance', { seconds: -5 }), /400/);
  });
});

/** A second client on the same simulator (its own MSAL cache), for token-lifetime tests. */
async function startTestSimulatorSharing(t: TestSimulator): Promise<Pick<TestSimulator, 'token'>> {
  const { ConfidentialClientApplication } = await import('@azure/msal-node');
  const { msalNetworkClient } = await import('../../src/entra/network.js');
  return {
    async token(key, state) {
      const tenant = t.tenant(key);
      const app = t.app(key, state);
      const cca = new ConfidentialClientApplication({
        auth: {
          clientId: app.appId,
          authority: `${t.sim.url}/${tenant.id}`,
          clientSecret: app.secrets[0]!.secretText,
          knownAuthorities: [new URL(t.sim.url).host],
        },
        system: { networkClient: msalNetworkClient(t.dispatcher) },
      });
      return (await cca.acquireTokenByClientCredential({ scopes: [`${t.sim.url}/.default`] }))!.accessToken;
    },
  };
}
