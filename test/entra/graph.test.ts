// The Graph client: Retry-After honoured (decimal seconds or HTTP date), backoff when absent,
// one token refresh on 401, bounded and cancellable waits, nextLinks followed only inside the
// Graph root — against a scripted HTTPS server, and paging against the simulator.
import assert from 'node:assert/strict';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import selfsigned from 'selfsigned';
import type { Agent } from 'undici';
import { resolveCloud } from '../../src/entra/clouds.js';
import { createTokenSource } from '../../src/entra/credentials.js';
import { EntraError, GraphRequestError } from '../../src/entra/errors.js';
import { backoffMs, createGraphClient, parseRetryAfter, type GraphTokenSource } from '../../src/entra/graph.js';
import { createEntraDispatcher } from '../../src/entra/network.js';
import { graphPages, useSimulator } from '../helpers/simulator.js';

describe('Retry-After and backoff', () => {
  test('Retry-After is decimal seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('2.128'), 2128);
    assert.equal(parseRetryAfter('10'), 10_000);
    assert.equal(parseRetryAfter(' 0 '), 0);
    const now = Date.parse('2026-11-20T12:00:00Z');
    assert.equal(parseRetryAfter('Fri, 20 Nov 2026 12:00:05 GMT', now), 5_000);
    assert.equal(parseRetryAfter('Fri, 20 Nov 2026 11:00:00 GMT', now), 0);
    for (const bad of ['soon', '-1', '', '1e3', null, undefined]) assert.equal(parseRetryAfter(bad), undefined, String(bad));
  });

  test('backoff doubles per attempt with jitter in its upper half, capped at 30 s', () => {
    assert.equal(backoffMs(1, () => 0), 500);
    assert.equal(backoffMs(1, () => 1), 1_000);
    assert.equal(backoffMs(3, () => 1), 4_000);
    assert.equal(backoffMs(12, () => 1), 30_000);
  });
});

interface Scripted {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

describe('Graph client against a scripted server', () => {
  let server: Server;
  let base: string;
  let dispatcher: Agent;
  let script: Scripted[] = [];
  const seen: Array<{ url: string; auth: string }> = [];
  const refreshes: boolean[] = [];
  const tokens: GraphTokenSource = {
    acquire: async (o = {}) => {
      refreshes.push(!!o.forceRefresh);
      return { token: o.forceRefresh ? 'fresh' : 'cached' };
    },
  };
  const ok = (value: unknown[] = [], extra: Record<string, unknown> = {}): Scripted => ({ status: 200, body: JSON.stringify({ ...extra, value }) });
  const graphError = (status: number, code: string, headers: Record<string, string> = {}): Scripted => ({ status, headers, body: JSON.stringify({ error: { code, message: `${code} happened`, innerError: { 'request-id': 'r' } } }) });

  before(async () => {
    const made = await selfsigned.generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    server = createHttpsServer({ key: made.private, cert: made.cert }, (req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization ?? '' });
      const next = script.shift() ?? { status: 500, body: '{}' };
      res.writeHead(next.status, { 'content-type': 'application/json', ...next.headers });
      res.end(next.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
    dispatcher = createEntraDispatcher({ ca: made.cert });
  });
  after(async () => {
    await dispatcher.close();
    server.close();
  });
  const client = (over: { maxRetryWaitMs?: number } = {}) => createGraphClient({ graphUrl: `${base}/`, dispatcher, tokens, random: () => 0, ...over });
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
    assert.deepEqual(seen.map((s) => s.url), ['/v1.0/users?$top=1', '/v1.0/users?$top=1']);
    assert.equal(seen[0]!.auth, 'Bearer cached');
  });

  test('503 without Retry-After backs off; a broken 2xx body is read again', async () => {
    reset([graphError(503, 'serviceNotAvailable'), { status: 200, body: '{"value":[' }, ok()]);
    const retries: Array<{ code: string; waitMs: number }> = [];
    await client().get('/v1.0/groups', { onRetry: (r) => retries.push(r) });
    assert.deepEqual(retries.map((r) => [r.code, r.waitMs]), [['serviceNotAvailable', 500], ['MalformedResponse', 1_000]]);
  });

  test('401 gets one fresh token, then the error stands', async () => {
    reset([graphError(401, 'InvalidAuthenticationToken'), ok()]);
    await client().get('/v1.0/users');
    assert.deepEqual(refreshes, [false, true]);
    assert.deepEqual(seen.map((s) => s.auth), ['Bearer cached', 'Bearer fresh']);
    reset([graphError(401, 'InvalidAuthenticationToken'), graphError(401, 'InvalidAuthenticationToken')]);
    await assert.rejects(client().get('/v1.0/users'), (err) => err instanceof GraphRequestError && err.status === 401 && err.code === 'InvalidAuthenticationToken');
    assert.equal(seen.length, 2);
  });

  test('other errors are not retried and carry Graph\'s code and message', async () => {
    reset([graphError(403, 'Authorization_RequestDenied')]);
    await assert.rejects(client().get('/v1.0/users'), (err) => err instanceof GraphRequestError && err.code === 'Authorization_RequestDenied' && err.graphMessage === 'Authorization_RequestDenied happened');
    assert.equal(seen.length, 1);
  });

  test('a wait longer than allowed, or than the time left, is not started', async () => {
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '120' })]);
    await assert.rejects(client({ maxRetryWaitMs: 60_000 }).get('/v1.0/auditLogs/signIns'), (err) => err instanceof GraphRequestError && err.status === 429 && err.retryAfterMs === 120_000);
    assert.equal(seen.length, 1);
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '2' })]);
    const started = performance.now();
    await assert.rejects(client().get('/v1.0/auditLogs/signIns', { remainingMs: () => 1_000 }), (err) => err instanceof GraphRequestError && err.status === 429);
    assert.ok(performance.now() - started < 500);
  });

  test('an abort during a wait ends the request with the signal\'s reason', async () => {
    reset([graphError(429, 'TooManyRequests', { 'retry-after': '5' })]);
    const controller = new AbortController();
    const reason = new Error('stop');
    setTimeout(() => controller.abort(reason), 100);
    await assert.rejects(client().get('/v1.0/users', { signal: controller.signal }), (err) => err === reason);
  });

  test('pages follow the whole nextLink and end with the deltaLink', async () => {
    reset([ok([{ id: 'a' }], { '@odata.nextLink': `${base}/v1.0/users/delta?$skiptoken=x1` }), ok([{ id: 'b' }], { '@odata.deltaLink': `${base}/v1.0/users/delta?$deltatoken=d1` })]);
    const pages = [];
    for await (const page of client().pages('/v1.0/users/delta')) pages.push(page);
    assert.deepEqual(pages, [
      { value: [{ id: 'a' }], nextLink: `${base}/v1.0/users/delta?$skiptoken=x1` },
      { value: [{ id: 'b' }], deltaLink: `${base}/v1.0/users/delta?$deltatoken=d1` },
    ]);
  });

  test('the token never leaves the Graph root: foreign links are refused before any request', async () => {
    reset([ok([{ id: 'a' }], { '@odata.nextLink': 'https://attacker.example/v1.0/users?$skiptoken=x' })]);
    const pages = client().pages('/v1.0/users');
    await pages.next();
    await assert.rejects(pages.next(), /Refusing to send the Graph token outside https:\/\/127\.0\.0\.1:\d+ \(link to https:\/\/attacker\.example\)/);
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
    await assert.rejects(closed.get('/v1.0/users'), (err) => err instanceof EntraError && err.problem.code === 'network' && /^Could not reach Microsoft Graph at 127\.0\.0\.1:\d+: the connection was refused/.test(err.problem.message));
  });
});

describe('Graph client against the simulator', () => {
  const sim = useSimulator({ throttle: 'off' });

  test('pages of users match the simulator\'s own paging', async () => {
    const t = sim();
    const cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
    const dispatcher = createEntraDispatcher({ ca: t.sim.ca });
    try {
      const app = t.app('contoso', 'readonly');
      const tokens = createTokenSource({ tenantId: t.tenant('contoso').id, clientId: app.appId, clientSecret: app.secrets[0]!.secretText, cloud, dispatcher });
      const graph = createGraphClient({ graphUrl: cloud.graphUrl, dispatcher, tokens });
      const ids: string[] = [];
      let count = 0;
      for await (const page of graph.pages<{ id: string }>('/v1.0/users?$top=7&$select=id')) {
        count++;
        ids.push(...page.value.map((u) => u.id));
      }
      const expected = (await graphPages(t, '/v1.0/users?$top=7&$select=id')).flatMap((p) => p.value.map((u: { id: string }) => u.id));
      assert.deepEqual(ids, expected);
      assert.ok(count > 1);
      await assert.rejects(graph.get('/v1.0/auditLogs/signIns?$filter=createdDateTime ge \'2026-11-01\''), (err) => err instanceof GraphRequestError && err.status === 400 && err.code === 'BadRequest' && err.graphMessage === 'Invalid filter clause');
    } finally {
      await dispatcher.close();
    }
  });
});
