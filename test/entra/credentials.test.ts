// Credentials: input checks before anything reaches Microsoft, and app-only tokens from the
// simulated token endpoint through real MSAL over HTTPS — with no discovery calls for a custom
// cloud and every AADSTS error turned into a typed problem.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import selfsigned from 'selfsigned';
import { resolveCloud, type CloudEndpoints } from '../../src/entra/clouds.js';
import { createTokenSource, readTokenClaims, validateCredentials } from '../../src/entra/credentials.js';
import { EntraError, type EntraProblem } from '../../src/entra/errors.js';
import { createEntraDispatcher } from '../../src/entra/network.js';
import { ValidationError } from '../../src/errors.js';
import { freePort, hangingServer } from '../helpers/net.js';
import { useSimulator, type TestSimulator } from '../helpers/simulator.js';

const sim = useSimulator({ throttle: 'off' });
let t: TestSimulator;
let cloud: CloudEndpoints;
const dispatchers: Array<{ close(): Promise<void> }> = [];

after(async () => {
  for (const d of dispatchers) await d.close();
});

function source(
  over: { tenantId?: string; clientId?: string; clientSecret?: string; cloud?: CloudEndpoints } = {},
  observe?: (m: string, u: string) => void,
) {
  const c = over.cloud ?? cloud;
  const dispatcher = createEntraDispatcher({ ...(c.caPem ? { ca: c.caPem } : {}), connectTimeoutMs: 5_000 });
  dispatchers.push(dispatcher);
  const app = t.app('contoso', 'readonly');
  return createTokenSource({
    tenantId: over.tenantId ?? t.tenant('contoso').id,
    clientId: over.clientId ?? app.appId,
    clientSecret: over.clientSecret ?? app.secrets[0]!.secretText,
    cloud: c,
    dispatcher,
    ...(observe ? { observe } : {}),
  });
}

/** The problem a failed acquire carries. */
async function problemOf(p: Promise<unknown>): Promise<EntraProblem> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof EntraError, `expected an EntraError, got ${String(err)}`);
    return err.problem;
  }
  assert.fail('the token request succeeded');
}

describe('input checks', () => {
  const ok = {
    tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
    clientId: '535FB089-9FF3-47B6-9BFB-4F1264799865',
    clientSecret: ' abc8Q~value \n',
  };
  const invalid = (re: RegExp, field: string) => (err: unknown) => {
    assert.ok(err instanceof ValidationError);
    assert.match(err.message, re);
    assert.deepEqual(err.details, { field });
    assert.doesNotMatch(err.message, /abc8Q~value/);
    return true;
  };

  test('values are trimmed; the client id is lower-cased; domains are accepted as tenants', () => {
    assert.deepEqual(validateCredentials(ok), {
      tenantId: ok.tenantId,
      clientId: ok.clientId.toLowerCase(),
      clientSecret: 'abc8Q~value',
    });
    assert.equal(
      validateCredentials({ ...ok, tenantId: ' contoso.onmicrosoft.com ' }).tenantId,
      'contoso.onmicrosoft.com',
    );
    assert.equal(validateCredentials({ ...ok, tenantId: 'tailspintoys.example' }).tenantId, 'tailspintoys.example');
  });

  test('each bad value gets its own message naming the field', () => {
    assert.throws(
      () => validateCredentials({ ...ok, tenantId: '  ' }),
      invalid(/Directory \(tenant\) ID is required/, 'tenantId'),
    );
    assert.throws(
      () => validateCredentials({ ...ok, tenantId: 'common' }),
      invalid(/"common" is not a tenant/, 'tenantId'),
    );
    assert.throws(
      () => validateCredentials({ ...ok, tenantId: 'Organizations' }),
      invalid(/"organizations" is not a tenant/, 'tenantId'),
    );
    assert.throws(
      () => validateCredentials({ ...ok, tenantId: 'contoso' }),
      invalid(/must be a GUID .* or a domain name .*; "contoso" is neither/, 'tenantId'),
    );
    assert.throws(
      () => validateCredentials({ ...ok, tenantId: '72f988bf-86f1-41af-91ab' }),
      invalid(/is neither/, 'tenantId'),
    );
    assert.throws(
      () => validateCredentials({ ...ok, clientId: '' }),
      invalid(/Application \(client\) ID is required/, 'clientId'),
    );
    assert.throws(
      () => validateCredentials({ ...ok, clientId: 'idsight' }),
      invalid(/Application \(client\) ID must be a GUID.*"idsight" is not one/, 'clientId'),
    );
    assert.throws(
      () => validateCredentials({ ...ok, clientSecret: ' \t\n' }),
      invalid(/client secret is empty/, 'clientSecret'),
    );
  });
});

describe('token claims', () => {
  const sign = (payload: Record<string, unknown>) =>
    new SignJWT(payload).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('k'.repeat(32)));

  test('tid, appid and roles are read without validation; no roles claim is reported as such', async () => {
    const claims = readTokenClaims(
      await sign({ tid: 't-1', appid: 'a-1', roles: ['User.Read.All', 7, ''], exp: 2_000_000_000 }),
    );
    assert.deepEqual(claims, {
      tenantId: 't-1',
      appId: 'a-1',
      roles: ['User.Read.All'],
      hasRolesClaim: true,
      expiresAt: 2_000_000_000_000,
    });
    assert.deepEqual(readTokenClaims(await sign({ tid: 't-1', azp: 'a-2' })), {
      tenantId: 't-1',
      appId: 'a-2',
      roles: [],
      hasRolesClaim: false,
    });
    assert.throws(() => readTokenClaims('not-a-jwt'));
  });
});

describe('token source against the simulator', () => {
  before(() => {
    t = sim();
    cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
  });

  test('a custom cloud costs one request: the token endpoint, no discovery or OpenID configuration', async () => {
    const calls: string[] = [];
    const tokens = source({}, (m, u) => calls.push(`${m} ${u}`));
    const { token, claims } = await tokens.acquire();
    assert.ok(token.length > 100);
    assert.equal(claims.tenantId, t.tenant('contoso').id);
    assert.equal(claims.appId, t.app('contoso', 'readonly').appId);
    assert.deepEqual(claims.roles, [...t.app('contoso', 'readonly').roles]);
    assert.deepEqual(
      calls.map((c) => c.split('?')[0]),
      [`POST ${t.sim.url}/${t.tenant('contoso').id}/oauth2/v2.0/token`],
    );
    assert.equal(tokens.scope, `${t.sim.url}/.default`);
    // MSAL's cache answers the second time; a forced refresh asks again
    await tokens.acquire();
    assert.equal(calls.length, 1);
    await tokens.acquire({ forceRefresh: true });
    assert.equal(calls.length, 2);
  });

  test('the tenant may be given by domain name', async () => {
    const { claims } = await source({ tenantId: 'contoso.onmicrosoft.com' }).acquire();
    assert.equal(claims.tenantId, t.tenant('contoso').id);
  });

  test('unknown tenant: 400 AADSTS90002 → tenant_not_found', async () => {
    const p = await problemOf(source({ tenantId: 'northwind.onmicrosoft.com' }).acquire());
    assert.deepEqual([p.code, p.microsoftCode, p.httpStatus], ['tenant_not_found', 'AADSTS90002', 400]);
    assert.match(p.message, /no tenant "northwind\.onmicrosoft\.com" in the custom cloud/);
    assert.match(p.guidance, /another Microsoft cloud/);
  });

  test('malformed tenant the token service rejects: 400 AADSTS900023 → tenant_malformed', async () => {
    // passes our check (an IDN top-level domain) but not the simulated service's DNS-name rule
    const p = await problemOf(source({ tenantId: 'contoso.xn--p1ai' }).acquire());
    assert.deepEqual([p.code, p.microsoftCode, p.httpStatus], ['tenant_malformed', 'AADSTS900023', 400]);
  });

  test('wrong secret: 401 AADSTS7000215 → wrong_secret, value vs secret ID', async () => {
    const p = await problemOf(source({ clientSecret: 'abc8Q~not-the-right-value-0123456789abcdef' }).acquire());
    assert.deepEqual([p.code, p.microsoftCode, p.httpStatus], ['wrong_secret', 'AADSTS7000215', 401]);
    assert.match(p.guidance, /Enter the secret's Value, not its Secret ID/);
    assert.doesNotMatch(p.guidance, /looks like a Secret ID/);
    // the secret ID pasted instead of the value
    const byId = await problemOf(source({ clientSecret: t.app('contoso', 'readonly').secrets[0]!.keyId }).acquire());
    assert.equal(byId.code, 'wrong_secret');
    assert.match(byId.guidance, /^The secret you entered looks like a Secret ID \(a GUID\), not the secret itself\./);
  });

  test('expired secret: 401 AADSTS7000222 → expired_secret, pointing to Reset Credentials', async () => {
    const app = t.app('contoso', 'expired');
    const p = await problemOf(source({ clientId: app.appId, clientSecret: app.secrets[0]!.secretText }).acquire());
    assert.deepEqual([p.code, p.microsoftCode, p.httpStatus], ['expired_secret', 'AADSTS7000222', 401]);
    assert.match(p.guidance, /New client secret.*Reset Credentials/);
  });

  test('app not in the tenant: 400 AADSTS700016 → app_not_found', async () => {
    // fabrikam's app used against contoso: registered elsewhere
    const p = await problemOf(source({ clientId: t.app('fabrikam', 'readonly').appId }).acquire());
    assert.deepEqual([p.code, p.microsoftCode, p.httpStatus], ['app_not_found', 'AADSTS700016', 400]);
    assert.match(p.message, /No application with client ID .* was found in tenant/);
    assert.match(p.guidance, /the cloud is the one the tenant lives in/);
  });

  test('closed port → network', async () => {
    const port = await freePort();
    const closed = resolveCloud('custom', {
      authorityHost: `https://127.0.0.1:${port}`,
      graphUrl: `https://127.0.0.1:${port}`,
      caPem: t.sim.ca,
    });
    const p = await problemOf(source({ cloud: closed }).acquire());
    assert.deepEqual([p.code, p.microsoftCode], ['network', 'ECONNREFUSED']);
    assert.equal(
      p.message,
      `Could not reach Microsoft's token service at 127.0.0.1:${port}: the connection was refused (nothing listens there).`,
    );
  });

  test('a CA that did not issue the server certificate → tls', async () => {
    const other = await selfsigned.generate([{ name: 'commonName', value: 'some other CA' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true, critical: true }],
    });
    const wrongCa = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: other.cert });
    const p = await problemOf(source({ cloud: wrongCa }).acquire());
    assert.equal(p.code, 'tls');
    assert.match(p.microsoftCode!, /CERT|SELF_SIGNED|UNABLE/);
    assert.match(p.message, /^The TLS certificate of 127\.0\.0\.1:\d+ \(Microsoft's token service\) is not trusted/);
    // the system roots do not trust the simulator either
    const noCa = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url });
    assert.equal((await problemOf(source({ cloud: noCa }).acquire())).code, 'tls');
  });

  test('a server that never answers: acquire ends with the signal', async () => {
    const hang = await hangingServer();
    try {
      const silent = resolveCloud('custom', {
        authorityHost: `https://127.0.0.1:${hang.port}`,
        graphUrl: `https://127.0.0.1:${hang.port}`,
        caPem: t.sim.ca,
      });
      const started = performance.now();
      const reason = new Error('deadline');
      await assert.rejects(
        source({ cloud: silent }).acquire({ signal: AbortSignal.timeout(300) }),
        (err: Error) => err.name === 'TimeoutError',
      );
      assert.ok(performance.now() - started < 3_000);
      const controller = new AbortController();
      controller.abort(reason);
      await assert.rejects(source({ cloud: silent }).acquire({ signal: controller.signal }), (err) => err === reason);
    } finally {
      hang.close();
    }
  });
});
