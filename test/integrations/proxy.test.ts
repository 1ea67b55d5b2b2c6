// The outbound proxy (HTTPS_PROXY, NO_PROXY) for every Microsoft endpoint: a CONNECT proxy
// written here, on 127.0.0.1, in front of the simulated tenant. The token service is reached as
// https://localhost:P and Graph as https://127.0.0.1:P (the same simulator; its certificate
// names both), so the proxy can tell the two apart by the tunnels it is asked for.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';
import { classifyNetworkError, networkProblem, ProxyError } from '../../src/entra/errors.js';
import { testConnection, type ConnectionReport, type Credentials } from '../../src/integrations/connectivity.js';
import { resolveCloud } from '../../src/entra/clouds.js';
import { startApp, type TestApp } from '../helpers/app.js';
import { ApiClient } from '../helpers/http.js';
import { freePort } from '../helpers/net.js';
import { simulatedCredentials, SIM_T0, startTestSimulator, type TestSimulator } from '../helpers/simulator.js';

const PROXY_USER = 'idsight-proxy';
const PROXY_PASSWORD = 'Pr0xy@S3cret';
const PROXY_AUTH = `Basic ${Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')}`;
const PW = 'correct horse battery staple';

interface Tunnel {
  target: string;
  authorization: string | undefined;
  status: number;
}

/** A CONNECT proxy on 127.0.0.1: tunnels to any target, or answers `refuse` (407 when credentials are required and wrong). */
async function startProxy(opts: { authorization?: string; refuse?: number } = {}) {
  const tunnels: Tunnel[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => res.writeHead(405).end());
  server.on('connect', (req: IncomingMessage, client: Socket) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    const authorization = req.headers['proxy-authorization'];
    const answer = (status: number, reason: string, extra = '') => {
      tunnels.push({ target: req.url ?? '', authorization, status });
      client.end(`HTTP/1.1 ${status} ${reason}\r\n${extra}Content-Length: 0\r\n\r\n`);
    };
    if (opts.authorization && authorization !== opts.authorization)
      return answer(407, 'Proxy Authentication Required', 'Proxy-Authenticate: Basic realm="test"\r\n');
    if (opts.refuse) return answer(opts.refuse, 'Refused');
    const [host, port] = [
      req.url!.slice(0, req.url!.lastIndexOf(':')),
      Number(req.url!.slice(req.url!.lastIndexOf(':') + 1)),
    ];
    const upstream = netConnect({ host: host === 'localhost' ? '127.0.0.1' : host, port }, () => {
      tunnels.push({ target: req.url!, authorization, status: 200 });
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    tunnels,
    /** Targets tunnelled (status 200), each once. */
    targets: () => [...new Set(tunnels.filter((t) => t.status === 200).map((t) => t.target))].sort(),
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
type Proxy = Awaited<ReturnType<typeof startProxy>>;

describe('outbound proxy settings', () => {
  const base = { IDSIGHT_DATA_DIR: '/tmp/idsight-proxy-config' };
  const load = (env: Record<string, string>) => loadConfig({ ...base, ...env });
  const refused = (env: Record<string, string>): string => {
    try {
      load(env);
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.message;
    }
    assert.fail(`accepted ${JSON.stringify(env)}`);
  };

  test('HTTPS_PROXY and NO_PROXY, lower-case spellings first; host:port alone is http', () => {
    assert.equal(load({}).httpsProxy, undefined);
    assert.equal(load({}).noProxy, '');
    assert.equal(load({ HTTPS_PROXY: 'http://proxy.corp:3128' }).httpsProxy, 'http://proxy.corp:3128/');
    assert.equal(
      load({ HTTPS_PROXY: 'http://upper:3128', https_proxy: 'http://lower:3128' }).httpsProxy,
      'http://lower:3128/',
    );
    assert.equal(load({ HTTPS_PROXY: 'proxy.corp:8080' }).httpsProxy, 'http://proxy.corp:8080/');
    assert.equal(load({ HTTPS_PROXY: 'https://u:p%40ss@proxy.corp' }).httpsProxy, 'https://u:p%40ss@proxy.corp/');
    assert.equal(
      load({ no_proxy: 'Localhost, .corp.example  10.1.2.3,::1,[fe80::1]:8443,*.internal:443' }).noProxy,
      'localhost,.corp.example,10.1.2.3,[::1],[fe80::1]:8443,*.internal:443',
    );
    assert.equal(load({ NO_PROXY: 'localhost,*' }).noProxy, '*', 'a * anywhere means every host');
  });

  test('a bad value names the variable and what is wrong, and never echoes a proxy URL', () => {
    assert.match(
      refused({ HTTPS_PROXY: 'socks5://u:hunter2@proxy:1080' }),
      /^HTTPS_PROXY: must be an http:\/\/ or https:\/\/ proxy URL, not socks5:\/\//,
    );
    assert.match(
      refused({ https_proxy: 'http://u:hunter2@proxy:3128/path' }),
      /^https_proxy: must be the proxy's scheme, credentials, host and port only/,
    );
    assert.match(
      refused({ HTTPS_PROXY: 'http://u:hunter2@proxy:99999' }),
      /^HTTPS_PROXY: must be a proxy URL such as http:\/\/proxy\.example\.com:3128/,
    );
    assert.match(
      refused({ HTTPS_PROXY: 'http://u:hunter2%zz@proxy:3128' }),
      /^HTTPS_PROXY: has a user name or password that is not valid percent-encoding/,
    );
    for (const env of [
      { HTTPS_PROXY: 'socks5://u:hunter2@proxy:1080' },
      { HTTPS_PROXY: 'http://u:hunter2@proxy:99999' },
    ])
      assert.doesNotMatch(refused(env), /hunter2/);
    assert.match(
      refused({ NO_PROXY: 'localhost,10.0.0.0/8' }),
      /^NO_PROXY: "10\.0\.0\.0\/8" is an address range, which NO_PROXY cannot express/,
    );
    assert.match(
      refused({ no_proxy: 'bad host!' }),
      /^no_proxy: "host!" is not a host name, domain suffix, IP address or host:port/,
    );
    assert.match(refused({ NO_PROXY: 'example.com:70000' }), /^NO_PROXY: "example\.com:70000"/);
  });

  test('proxy failures are problems that name the proxy and say what to do', () => {
    const refusedErr = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    const unreachable = classifyNetworkError(
      new TypeError('fetch failed', {
        cause: new ProxyError('http://proxy.corp:3128', undefined, { cause: refusedErr }),
      }),
    );
    assert.deepEqual(
      { kind: unreachable?.kind, errno: unreachable?.errno, proxy: unreachable?.proxy },
      { kind: 'proxy', errno: 'ECONNREFUSED', proxy: 'http://proxy.corp:3128' },
    );
    const p = networkProblem(unreachable!, 'graph.microsoft.com', 'graph');
    assert.equal(p.code, 'proxy');
    assert.equal(
      p.message,
      'Could not reach the outbound proxy http://proxy.corp:3128 on the way to Microsoft Graph at graph.microsoft.com: ' +
        'the connection was refused (nothing listens there).',
    );
    assert.match(p.guidance, /HTTPS_PROXY .* NO_PROXY/);
    const auth = networkProblem(
      classifyNetworkError(new ProxyError('http://proxy.corp:3128', 407))!,
      'login.microsoftonline.com',
      'token',
    );
    assert.equal(auth.httpStatus, 407);
    assert.match(
      auth.message,
      new RegExp(
        "refused to open a connection to login\\.microsoftonline\\.com \\(Microsoft's token service\\): " +
          'it requires authentication \\(407 Proxy Authentication Required\\)',
      ),
    );
    assert.match(auth.guidance, /HTTPS_PROXY=http:\/\/user:password@host:port/);
    assert.match(
      networkProblem(classifyNetworkError(new ProxyError('http://p:1', 403))!, 'h', 'graph').guidance,
      /allow HTTPS \(CONNECT\) to h/,
    );
    assert.match(
      networkProblem(classifyNetworkError(new ProxyError('http://p:1', 502))!, 'h', 'graph').message,
      /could not open a connection to h .*502 Bad Gateway/,
    );
  });
});

describe('outbound proxy against the simulated tenant', () => {
  let sim: TestSimulator;
  let open: Proxy;
  let authed: Proxy;
  const clock = { now: () => Date.parse(SIM_T0) };

  before(async () => {
    sim = await startTestSimulator({ throttle: 'off' });
    open = await startProxy();
    authed = await startProxy({ authorization: PROXY_AUTH });
  });
  after(async () => {
    await open.close();
    await authed.close();
    await sim.close();
  });

  const simPort = () => new URL(sim.sim.url).port;
  /** Contoso's read-only app, with the token service as localhost and Graph as 127.0.0.1. */
  function credentials(): Credentials {
    const c = simulatedCredentials(sim, 'contoso', 'readonly');
    return {
      ...c,
      cloud: resolveCloud('custom', {
        authorityHost: `https://localhost:${simPort()}`,
        graphUrl: c.graphUrl,
        caPem: c.caPem,
      }),
    };
  }
  const test_ = (proxy: { url: string; noProxy?: string }): Promise<ConnectionReport> =>
    testConnection(credentials(), { clock, proxy: { noProxy: '', ...proxy } });

  test('the token service and Graph are both reached through the proxy', async () => {
    open.tunnels.length = 0;
    const r = await test_({ url: `http://127.0.0.1:${open.port}` });
    assert.equal(r.connected, true, r.message);
    assert.deepEqual(open.targets(), [`127.0.0.1:${simPort()}`, `localhost:${simPort()}`]);
  });

  test('NO_PROXY exempts a host (and only on its port, when it names one)', async () => {
    open.tunnels.length = 0;
    assert.equal((await test_({ url: `http://127.0.0.1:${open.port}`, noProxy: 'localhost' })).connected, true);
    assert.deepEqual(open.targets(), [`127.0.0.1:${simPort()}`], 'the token service went direct');
    open.tunnels.length = 0;
    assert.equal(
      (await test_({ url: `http://127.0.0.1:${open.port}`, noProxy: `example.com,127.0.0.1:${simPort()}` })).connected,
      true,
    );
    assert.deepEqual(open.targets(), [`localhost:${simPort()}`], 'Graph went direct');
    open.tunnels.length = 0;
    assert.equal((await test_({ url: `http://127.0.0.1:${open.port}`, noProxy: 'localhost:1' })).connected, true);
    assert.equal(open.targets().length, 2, 'another port of the host is still proxied');
    open.tunnels.length = 0;
    assert.equal((await test_({ url: `http://127.0.0.1:${open.port}`, noProxy: '*' })).connected, true);
    assert.equal(open.tunnels.length, 0);
  });

  test('credentials in the proxy URL become Proxy-Authorization; without them the problem says so', async () => {
    const r = await test_({
      url: `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${authed.port}`,
    });
    assert.equal(r.connected, true, r.message);
    assert.ok(
      authed.tunnels.length > 0 && authed.tunnels.every((t) => t.authorization === PROXY_AUTH && t.status === 200),
      JSON.stringify(authed.tunnels),
    );
    const without = await test_({ url: `http://127.0.0.1:${authed.port}` });
    assert.equal(without.connected, false);
    assert.equal(without.problem?.code, 'proxy');
    assert.equal(without.problem?.httpStatus, 407);
    assert.equal(
      without.message,
      `The outbound proxy http://127.0.0.1:${authed.port} refused to open a connection to localhost:${simPort()} ` +
        "(Microsoft's token service): it requires authentication (407 Proxy Authentication Required).",
    );
  });

  test('a proxy that refuses the host, and one that cannot be reached, are named in the problem', async () => {
    const strict = await startProxy({ refuse: 403 });
    try {
      const r = await test_({ url: `http://127.0.0.1:${strict.port}` });
      assert.equal(r.problem?.code, 'proxy');
      assert.match(
        r.message,
        new RegExp(
          `^The outbound proxy http://127\\.0\\.0\\.1:${strict.port} refused to open a connection to localhost:${simPort()} .*403 Forbidden`,
        ),
      );
    } finally {
      await strict.close();
    }
    const port = await freePort();
    const down = await test_({ url: `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${port}` });
    assert.equal(down.connected, false);
    assert.equal(down.problem?.code, 'proxy');
    assert.equal(down.problem?.microsoftCode, 'ECONNREFUSED');
    assert.equal(
      down.message,
      `Could not reach the outbound proxy http://127.0.0.1:${port} on the way to Microsoft's token service at localhost:${simPort()}: ` +
        'the connection was refused (nothing listens there).',
    );
    assert.doesNotMatch(JSON.stringify(down), /S3cret|idsight-proxy/);
  });
});

describe('outbound proxy through the application (HTTPS_PROXY with credentials)', () => {
  let sim: TestSimulator;
  let proxy: Proxy;
  let app: TestApp;
  let admin: ApiClient;
  const secrets: string[] = [];

  before(async () => {
    sim = await startTestSimulator({ throttle: 'off' });
    proxy = await startProxy({ authorization: PROXY_AUTH });
    app = await startApp('sqlite', {
      HTTPS_PROXY: `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${proxy.port}`,
    });
    await app.ctx.auth.createUser({ email: 'admin@example.com', role: 'admin', password: PW });
    admin = new ApiClient(app.url);
    assert.equal((await admin.login('admin@example.com', PW)).status, 200);
  });
  after(async () => {
    await app.close();
    await proxy.close();
    await sim.close();
  });

  const simPort = () => new URL(sim.sim.url).port;
  const body = () => {
    const c = simulatedCredentials(sim, 'contoso', 'readwrite');
    secrets.push(c.clientSecret);
    return { ...c, authorityHost: `https://localhost:${simPort()}` };
  };
  let id = '';

  test('a connectivity test and a collection go through the proxy, token service and Graph alike', async () => {
    const tested = await admin.post<any>('/api/integrations/test', body());
    assert.equal(tested.status, 200, tested.text);
    assert.equal(tested.body.report.connected, true, tested.body.report.message);
    assert.deepEqual(proxy.targets(), [`127.0.0.1:${simPort()}`, `localhost:${simPort()}`]);

    const added = await admin.post<any>('/api/integrations', { name: 'Contoso via proxy', ...body() });
    assert.equal(added.status, 201, added.text);
    id = added.body.integration.id;
    proxy.tunnels.length = 0;
    const outcomes = await app.ctx.collector.run(id, { types: ['users', 'signIns'] });
    assert.deepEqual(outcomes.map((o) => o.dataType).sort(), ['signIns', 'users']);
    assert.ok(
      outcomes.every((o) => o.status === 'succeeded'),
      JSON.stringify(outcomes),
    );
    assert.deepEqual(
      proxy.targets(),
      [`127.0.0.1:${simPort()}`, `localhost:${simPort()}`],
      'the collection opened its own tunnels to both',
    );
    assert.ok(proxy.tunnels.every((t) => t.authorization === PROXY_AUTH));
    const runs = await admin.get<any>(`/api/integrations/${id}/runs`);
    assert.equal(runs.status, 200);
  });

  test('the proxy is logged without its credentials; the password is in no log line or API answer', async () => {
    const start = app
      .logs()
      .split('\n')
      .find((l) => l.includes('outbound proxy'));
    assert.ok(start, 'the proxy in use is logged at start');
    assert.equal(JSON.parse(start).proxy, `http://127.0.0.1:${proxy.port}`);
    const everything = [app.logs(), ...admin.received].join('\n');
    for (const leak of [
      PROXY_PASSWORD,
      encodeURIComponent(PROXY_PASSWORD),
      PROXY_AUTH.slice('Basic '.length),
      ...secrets,
    ])
      assert.ok(!everything.includes(leak), `leaked ${leak.slice(0, 4)}…`);
  });
});
