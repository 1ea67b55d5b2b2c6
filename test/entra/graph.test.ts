// The Graph client: Retry-After honoured (decimal seconds or HTTP date), backoff when absent,
// one token refresh on 401, bounded and cancellable waits, per-attempt time limits, strict pages,
// nextLinks followed only inside the Graph root, the throttle budget (a 429 pauses the family),
// per-attempt events and counters — against a scripted HTTPS server; paging, time-outs and
// malformed pages against the simulator (with Microsoft's throttling).
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import selfsigned from 'selfsigned';
import type { Dispatcher } from 'undici';
import { resolveCloud } from '../../src/entra/clouds.js';
import { createTokenSource } from '../../src/entra/credentials.js';
import { createThrottleBudgets } from '../../src/entra/budget.js';
import { EntraError, GraphRequestError } from '../../src/entra/errors.js';
import {
  backoffMs,
  createGraphClient,
  parseRetryAfter,
  type GraphClientOptions,
  type GraphRequestEvent,
  type GraphTokenSource,
} from '../../src/entra/graph.js';
import { createEntraDispatcher } from '../../src/entra/network.js';
import { graphPages, useSimulator, type TestSimulator } from '../helpers/simulator.js';

describe('Retry-After and backoff', () => {
  test('Retry-After is decimal seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('2.128'), 2128);
    assert.equal(parseRetryAfter('10'), 10_000);
    assert.equal(parseRetryAfter(' 0 '), 0);
    const now = Date.parse('2026-11-20T12:00:00Z');
    assert.equal(parseRetryAfter('Fri, 20 Nov 2026 12:00:05 GMT', now), 5_000);
    assert.equal(parseRetryAfter('Fri, 20 Nov 2026 11:00:00 GMT', now), 0);
    for (const bad of ['soon', '-1', '', '1e3', null, undefined])
      assert.equal(parseRetryAfter(bad), undefined, String(bad));
  });

  test('backoff doubles per attempt with jitter in its upper half, capped at 30 s', () => {
    assert.equal(
      backoffMs(1, () => 0),
      500,
    );
    assert.equal(
      backoffMs(1, () => 1),
      1_000,
    );
    assert.equal(
      backoffMs(3, () => 1),
      4_000,
    );
    assert.equal(
      backoffMs(12, () => 1),
      30_000,
    );
  });
});

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer this late (ms). */
  delayMs?: number;
}

describe('Graph client against a scripted server', () => {
  let server: Server;
  let base: string;
  let dispatcher: Dispatcher;
  let script: Scripted[] = [];
  const seen: Array<{ url: string; auth: string }> = [];
  const refreshes: boolean[] = [];
  const tokens: GraphTokenSource = {
    acquire: async (o = {}) => {
      refreshes.push(!!o.forceRefresh);
      return { token: o.forceRefresh ? 'fresh' : 'cached' };
    },
  };
  const ok = (value: unknown[] = [], extra: Record<string, unknown> = {}): Scripted => ({
    status: 200,
    body: JSON.stringify({ ...extra, value }),
  });
  const graphError = (status: number, code: string, headers: Record<string, string> = {}): Scripted => ({
    status,
    headers,
    body: JSON.stringify({ error: { code, message: `${code} happened`, innerError: { 'request-id': 'r' } } }),
  });

  before(async () => {
    const made = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    server = createHttpsServer({ key: made.private, cert: made.cert }, (req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '' });
      const next = script.shift() ?? { status: 500, body: '{}' };
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
        res.end(next.body ?? '');
      };
      if (next.delayMs) setTimeout(answer, next.delayMs);
      else answer();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    dispatcher = createEntraDispatcher({ ca: made.cert });
  });
  after(async () => {
    await dispatcher.close();
    server.close();
  });
  const client = (over: Partial<GraphClientOptions> = {}) =>
    createGraphClient({ graphUrl: `${base}/`, dispatcher, tokens, random: () => 0, ...over });
  const reset = (steps: Scripted[]) => {
    script = steps;
    seen.length = 0;
    refreshes.length = 0;
  };

  test('429 waits the Retry-After Graph gives (fractional seconds), then succeeds', async () => {
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '0.2' }), ok([{ id: '1' }])]);
    const retries: unknown[] = [];
    const started = performance.now();
    const body = await client().get<{ value: unknown[] }>('/v1.0/users?$top=1', { onRetry: (r) => retries.push(r) });
    assert.deepEqual(body.value, [{ id: '1' }]);
    assert.ok(performance.now() - started >= 190);
    assert.deepEqual(retries, [{ attempt: 1, code: 'TooManyRequests', waitMs: 200, status: 429 }]);
    assert.deepEqual(
      seen.map((s) => s.url),
      ['/v1.0/users?$top=1', '/v1.0/users?$top=1'],
    );
    assert.equal(seen[0]!.auth, 'Bearer cached');
  });

  test('503 without Retry-After backs off; a broken 2xx body is read again', async () => {
    reset([graphError(503, 'serviceNotAvailable'), { status: 200, body: '{"value":[' }, ok()]);
    const retries: Array<{ code: string; waitMs: number }> = [];
    await client().get('/v1.0/groups', { onRetry: (r) => retries.push(r) });
    assert.deepEqual(
      retries.map((r) => [r.code, r.waitMs]),
      [
        ['serviceNotAvailable', 500],
        ['MalformedResponse', 1_000],
      ],
    );
  });

  test('401 gets one fresh token, then the error stands', async () => {
    reset([graphError(401, 'InvalidAuthenticationToken'), ok()]);
    await client().get('/v1.0/users');
    assert.deepEqual(refreshes, [false, true]);
    assert.deepEqual(
      seen.map((s) => s.auth),
      ['Bearer cached', 'Bearer fresh'],
    );
    reset([graphError(401, 'InvalidAuthenticationToken'), graphError(401, 'InvalidAuthenticationToken')]);
    await assert.rejects(
      client().get('/v1.0/users'),
      (err) =>
        err instanceof GraphRequestError && err.graphStatus === 401 && err.graphCode === 'InvalidAuthenticationToken',
    );
    assert.equal(seen.length, 2);
  });

  test("other errors are not retried and carry Graph's code and message", async () => {
    reset([graphError(403, 'Authorization_RequestDenied')]);
    await assert.rejects(
      client().get('/v1.0/users'),
      (err) =>
        err instanceof GraphRequestError &&
        err.graphCode === 'Authorization_RequestDenied' &&
        err.graphMessage === 'Authorization_RequestDenied happened',
    );
    assert.equal(seen.length, 1);
  });

  test('a wait longer than allowed, or than the time left, is not started', async () => {
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '120' })]);
    await assert.rejects(
      client({ maxRetryWaitMs: 60_000 }).get('/v1.0/auditLogs/signIns'),
      (err) => err instanceof GraphRequestError && err.graphStatus === 429 && err.retryAfterMs === 120_000,
    );
    assert.equal(seen.length, 1);
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '2' })]);
    const started = performance.now();
    await assert.rejects(
      client().get('/v1.0/auditLogs/signIns', { remainingMs: () => 1_000 }),
      (err) => err instanceof GraphRequestError && err.graphStatus === 429,
    );
    assert.ok(performance.now() - started < 500);
  });

  test("an abort during a wait ends the request with the signal's reason", async () => {
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '5' })]);
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 100);
    await assert.rejects(client().get('/v1.0/users', { signal: controller.signal }), (err) => err === reason);
  });

  test('pages follow the whole nextLink and end with the deltaLink', async () => {
    reset([
      ok([{ id: 'a' }], { '@odata.nextLink': `${base}/v1.0/users/delta?$skiptoken=x1` }),
      ok([{ id: 'b' }], { '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=d1` }),
    ]);
    const pages = [];
    for await (const page of client().pages('/v1.0/users/delta')) pages.push(page);
    assert.ok(
      pages.every((p) => typeof p.latencyMs === 'number' && p.latencyMs >= 0),
      'each page says how long Graph took',
    );
    assert.deepEqual(
      pages.map(({ bytes: _bytes, latencyMs: _latency, ...page }) => page),
      [
        { value: [{ id: 'a' }], nextLink: `${base}/v1.0/users/delta?$skiptoken=x1` },
        { value: [{ id: 'b' }], deltaLink: `${base}/v1.0/users/delta?$deltatoken=d1` },
      ],
    );
    // each page carries its body as received
    assert.deepEqual(
      pages.map((p) => JSON.parse(Buffer.from(p.bytes!).toString('utf8'))),
      [
        { '@odata.nextLink': `${base}/v1.0/users/delta?$skiptoken=x1`, value: [{ id: 'a' }] },
        { '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=d1`, value: [{ id: 'b' }] },
      ],
    );
  });

  test('a page of many chunks arrives whole, byte for byte, with or without Content-Length', async () => {
    // ~1.6 MB with multi-byte UTF-8 (names are not all ASCII): many chunks, more than the first buffer (1 MiB) holds without Content-Length
    const value = Array.from({ length: 8_000 }, (_, i) => ({
      id: `u${i}`,
      displayName: `Zoë 漢字 ${'x'.repeat(150)} ${i}`,
    }));
    const body = JSON.stringify({ value });
    const declared: Scripted = { status: 200, headers: { 'content-length': String(Buffer.byteLength(body)) }, body };
    reset([{ status: 200, body }, declared]);
    for (const how of ['chunked', 'Content-Length']) {
      const pages = [];
      for await (const page of client().pages('/v1.0/users')) pages.push(page);
      assert.equal(pages.length, 1, how);
      assert.ok(Buffer.from(pages[0]!.bytes!).equals(Buffer.from(body)), `${how}: the body as sent`);
      assert.deepEqual(pages[0]!.value, value, how);
    }
  });

  test('a 2xx page that is not a collection is MalformedResponse: read again, then refused, nothing yielded', async () => {
    const shapes = [
      '{"foo":1}',
      '{"value":{}}',
      '[]',
      '"value"',
      '',
      '{"value":[],"@odata.nextLink":5}',
      '{"value":[],"@odata.deltaLink":{}}',
    ];
    for (const body of shapes) {
      reset([{ status: 200, body }]);
      const yielded: unknown[] = [];
      await assert.rejects(
        (async () => {
          for await (const page of client().pages('/v1.0/users', { maxAttempts: 1 })) yielded.push(page);
        })(),
        (err) =>
          err instanceof GraphRequestError &&
          err.graphStatus === 200 &&
          err.graphCode === 'MalformedResponse' &&
          /^Microsoft Graph answered 200 MalformedResponse: The page/.test(err.message),
        body,
      );
      assert.deepEqual(yielded, [], body);
    }
    // a later page that breaks fails the run after the good pages, never as an empty page
    reset([
      ok([{ id: 'a' }], { '@odata.nextLink': `${base}/v1.0/users?$skiptoken=x` }),
      { status: 200, body: '{"error":"proxy"}' },
      { status: 200, body: '{"value":[' },
    ]);
    const seenPages: unknown[] = [];
    const retries: string[] = [];
    await assert.rejects(
      (async () => {
        for await (const { bytes: _bytes, latencyMs: _latency, ...page } of client().pages('/v1.0/users', {
          maxAttempts: 2,
          onRetry: (r) => retries.push(r.code),
        }))
          seenPages.push(page);
      })(),
      (err) =>
        err instanceof GraphRequestError &&
        err.graphCode === 'MalformedResponse' &&
        /not valid JSON/.test(err.graphMessage),
    );
    assert.deepEqual(seenPages, [{ value: [{ id: 'a' }], nextLink: `${base}/v1.0/users?$skiptoken=x` }]);
    assert.deepEqual(retries, ['MalformedResponse']);
    // get() and request() do not judge a body's shape
    reset([{ status: 200, body: '{"id":"x"}' }]);
    assert.deepEqual(await client().get('/v1.0/users/x'), { id: 'x' });
  });

  test('each attempt has a time limit: a slow read is tried again, a slow write is not repeated', async () => {
    reset([{ ...ok([{ id: 'late' }]), delayMs: 400 }, ok([{ id: 'b' }])]);
    const retries: unknown[] = [];
    const graph = client({ timeoutMs: 100 });
    const body = await graph.get<{ value: unknown[] }>('/v1.0/users', { onRetry: (r) => retries.push(r) });
    assert.deepEqual(body.value, [{ id: 'b' }]);
    assert.deepEqual(retries, [{ attempt: 1, code: 'Timeout', waitMs: 500 }]);
    assert.deepEqual(graph.stats, { requests: 2, throttled: 0, retries: 1 });
    reset([{ status: 204, delayMs: 400 }]);
    await assert.rejects(
      client({ timeoutMs: 100 }).request('/v1.0/users/u1', { method: 'PATCH', body: { userType: 'Guest' } }),
      (err) =>
        err instanceof EntraError &&
        err.problem.code === 'timeout' &&
        /did not answer PATCH \/v1\.0\/users\/u1 within 100 ms \(1 attempt\)\.$/.test(err.message),
    );
    assert.equal(seen.length, 1);
    // the caller's own signal still wins over the attempt's limit
    reset([{ ...ok(), delayMs: 400 }]);
    await assert.rejects(
      client({ timeoutMs: 10_000 }).get('/v1.0/users', { signal: AbortSignal.timeout(50) }),
      (err) => err instanceof DOMException && err.name === 'TimeoutError',
    );
  });

  test('onRequest sees every attempt and the counters add up', async () => {
    reset([
      graphError(429, 'TooManyRequests', { 'retry-after': '0.05' }),
      graphError(503, 'serviceNotAvailable', { 'retry-after': '0.05' }),
      graphError(401, 'InvalidAuthenticationToken'),
      ok(),
    ]);
    const events: GraphRequestEvent[] = [];
    const graph = client({ onRequest: (e) => events.push(e) });
    await graph.get('/v1.0/users');
    assert.deepEqual(
      events.map((e) => [e.attempt, e.status, e.code, e.retryAfterMs]),
      [
        [1, 429, 'TooManyRequests', 50],
        [2, 503, 'serviceNotAvailable', 50],
        [3, 401, 'InvalidAuthenticationToken', undefined],
        [4, 200, undefined, undefined],
      ],
    );
    assert.ok(
      events.every(
        (e) =>
          e.method === 'GET' &&
          e.url === `${base}/v1.0/users` &&
          e.durationMs >= 0 &&
          e.family === undefined &&
          e.waitedMs === 0,
      ),
    );
    assert.deepEqual(graph.stats, { requests: 4, throttled: 1, retries: 3 });
  });

  test("with a budget: a 429 pauses the family for every caller of the integration, and a nextLink keeps its first page's family", async () => {
    const budget = createThrottleBudgets().for('t', 'a');
    const events: GraphRequestEvent[] = [];
    let other: Promise<unknown> | undefined;
    const graph = client({
      budget,
      onRequest: (e) => {
        events.push(e);
        // a second collector asks while the family is paused
        if (e.status === 429 && !other) other = graph.get('/v1.0/groups');
      },
    });
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '0.3' }), ok(), ok()]);
    await graph.get('/v1.0/users');
    await other;
    const [throttled, ...rest] = events as [GraphRequestEvent, ...GraphRequestEvent[]];
    const end = throttled.sentAt + throttled.durationMs;
    assert.equal(rest.length, 2);
    for (const e of rest) {
      assert.equal(e.status, 200);
      assert.ok(e.sentAt >= end + 299, `sent ${Math.round(e.sentAt - end)} ms after the 429`);
    }
    assert.deepEqual(
      events.map((e) => e.family),
      ['directory', 'directory', 'directory'],
    );
    assert.deepEqual([budget.stats().directory.requests, budget.stats().directory.throttled], [3, 1]);
    // a 429 whose Retry-After is too long still pauses the family, then fails
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '120' })]);
    await assert.rejects(
      graph.get('/v1.0/users'),
      (err) => err instanceof GraphRequestError && err.graphStatus === 429,
    );
    assert.equal(budget.stats().directory.throttled, 2);
    await assert.rejects(
      graph.get('/v1.0/users', { signal: AbortSignal.timeout(100) }),
      (err) => err instanceof DOMException && err.name === 'TimeoutError',
    );
    assert.equal(seen.length, 1, 'nothing sent while paused');
    // signInActivity pages: the skiptoken link no longer says signInActivity, the budget still charges it
    const paging = createThrottleBudgets().for('t', 'a');
    events.length = 0;
    reset([ok([{ id: 'a' }], { '@odata.nextLink': `${base}/v1.0/users?$top=500&$skiptoken=x` }), ok([{ id: 'b' }])]);
    const ids = [];
    for await (const page of client({ budget: paging, onRequest: (e) => events.push(e) }).pages<{ id: string }>(
      '/v1.0/users?$select=id,signInActivity&$top=500',
    ))
      ids.push(...page.value.map((u) => u.id));
    assert.deepEqual(ids, ['a', 'b']);
    assert.deepEqual(
      events.map((e) => e.family),
      ['signInActivity', 'signInActivity'],
    );
    assert.equal(paging.stats().signInActivity.requests, 2);
  });

  test('the token never leaves the Graph root: foreign links are refused before any request', async () => {
    reset([ok([{ id: 'a' }], { '@odata.nextLink': 'https://attacker.example/v1.0/users?$skiptoken=x' })]);
    const pages = client().pages('/v1.0/users');
    await pages.next();
    await assert.rejects(
      pages.next(),
      /Refusing to send the Graph token outside https:\/\/127\.0\.0\.1:\d+ \(link to https:\/\/attacker\.example\)/,
    );
    assert.equal(seen.length, 1);
    const rooted = createGraphClient({ graphUrl: `${base}/graph`, dispatcher, tokens });
    await assert.rejects(rooted.get(`${base}/graphx/v1.0/users`), /Refusing/);
    await assert.rejects(rooted.get(`http://127.0.0.1:${new URL(base).port}/graph/v1.0/users`), /Refusing/);
  });

  test('a closed port is a network problem naming Microsoft Graph', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const closed = createGraphClient({ graphUrl: `https://127.0.0.1:${port}`, dispatcher, tokens });
    await assert.rejects(
      closed.get('/v1.0/users'),
      (err) =>
        err instanceof EntraError &&
        err.problem.code === 'network' &&
        /^Could not reach Microsoft Graph at 127\.0\.0\.1:\d+: the connection was refused/.test(err.problem.message),
    );
  });
});

describe('Graph client against the simulator', () => {
  const sim = useSimulator({ throttle: 'microsoft' });
  let t: TestSimulator;
  before(() => {
    t = sim();
  });

  function client(over: Partial<GraphClientOptions> = {}) {
    const cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
    const app = t.app('contoso', 'readonly');
    const tokens = createTokenSource({
      tenantId: t.tenant('contoso').id,
      clientId: app.appId,
      clientSecret: app.secrets[0]!.secretText,
      cloud,
      dispatcher: t.dispatcher,
    });
    const budget = createThrottleBudgets().for(t.tenant('contoso').id, app.appId);
    return createGraphClient({ graphUrl: cloud.graphUrl, dispatcher: t.dispatcher, tokens, budget, ...over });
  }

  test("pages of users match the simulator's own paging", async () => {
    const graph = client();
    const ids: string[] = [];
    let count = 0;
    for await (const page of graph.pages<{ id: string }>('/v1.0/users?$top=7&$select=id')) {
      count++;
      ids.push(...page.value.map((u) => u.id));
    }
    const expected = (await graphPages(t, '/v1.0/users?$top=7&$select=id')).flatMap((p) =>
      p.value.map((u: { id: string }) => u.id),
    );
    assert.deepEqual(ids, expected);
    assert.ok(count > 1);
    assert.deepEqual(graph.stats, { requests: count, throttled: 0, retries: 0 });
    await assert.rejects(
      graph.get("/v1.0/auditLogs/signIns?$filter=createdDateTime ge '2026-11-01'"),
      (err) =>
        err instanceof GraphRequestError &&
        err.graphStatus === 400 &&
        err.graphCode === 'BadRequest' &&
        err.graphMessage === 'Invalid filter clause',
    );
  });

  test('a per-request time-out (a slow Graph) is retried, then fails saying what did not answer', async () => {
    await t.control('PATCH', '/faults', { latencyMs: 400 });
    try {
      const retries: Array<{ code: string; waitMs: number }> = [];
      const events: GraphRequestEvent[] = [];
      const graph = client({ timeoutMs: 150, maxAttempts: 3, random: () => 0, onRequest: (e) => events.push(e) });
      const started = performance.now();
      await assert.rejects(graph.get('/v1.0/organization?$select=id', { onRetry: (r) => retries.push(r) }), (err) => {
        assert.ok(err instanceof EntraError);
        assert.equal(err.problem.code, 'timeout');
        assert.match(
          err.problem.message,
          /^Microsoft Graph at 127\.0\.0\.1:\d+ did not answer GET \/v1\.0\/organization within 150 ms \(3 attempts\)\.$/,
        );
        assert.match(err.problem.guidance, /try again later/);
        return true;
      });
      const elapsed = performance.now() - started;
      assert.deepEqual(
        retries.map((r) => [r.code, r.waitMs]),
        [
          ['Timeout', 500],
          ['Timeout', 1_000],
        ],
      );
      assert.deepEqual(
        events.map((e) => [e.attempt, e.code, e.status]),
        [
          [1, 'Timeout', undefined],
          [2, 'Timeout', undefined],
          [3, 'Timeout', undefined],
        ],
      );
      assert.ok(
        events.every((e) => e.durationMs >= 145 && e.durationMs < 400),
        events.map((e) => Math.round(e.durationMs)).join(),
      );
      assert.ok(elapsed >= 3 * 150 + 1_500 && elapsed < 4_000, `${Math.round(elapsed)} ms`);
      assert.deepEqual(graph.stats, { requests: 3, throttled: 0, retries: 2 });
      // a limit above the latency: answered at once
      assert.ok(
        Array.isArray(
          (await client({ timeoutMs: 2_000 }).get<{ value: unknown[] }>('/v1.0/organization?$select=id')).value,
        ),
      );
    } finally {
      await t.control('PATCH', '/faults', { latencyMs: 0 });
    }
  });

  test('a malformed page (every body cut off) makes pages() throw MalformedResponse after reading it again', async () => {
    // an odd simulated millisecond: the simulator cuts the JSON in half (an even one sends a proxy's HTML 502)
    await t.control('POST', '/clock/advance', { seconds: 0.001 });
    await t.control('PATCH', '/faults', { malformedRate: 1 });
    try {
      const yielded: unknown[] = [];
      const graph = client({ maxAttempts: 2, random: () => 0 });
      await assert.rejects(
        (async () => {
          for await (const page of graph.pages('/v1.0/users?$top=10&$select=id')) yielded.push(page);
        })(),
        (err) =>
          err instanceof GraphRequestError &&
          err.graphStatus === 200 &&
          err.graphCode === 'MalformedResponse' &&
          err.message === 'Microsoft Graph answered 200 MalformedResponse: The response body is not valid JSON.' &&
          /^[0-9a-f-]{36}$/.test(err.requestId ?? ''),
      );
      assert.deepEqual(yielded, []);
      assert.deepEqual(graph.stats, { requests: 2, throttled: 0, retries: 1 });
    } finally {
      await t.control('PATCH', '/faults', { malformedRate: 0 });
    }
  });
});
