// The simulated token endpoint: MSAL gets tokens from it over HTTPS trusting only the generated
// CA, and every error case answers with Microsoft's status and body.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { decodeJwt } from 'jose';
import { fetch } from 'undici';
import { READ_WRITE_PERMISSIONS } from '../../src/simulator/permissions.js';
import { compareShape, loadGraphFixture } from '../helpers/graph-shape.js';
import { tokenRequest, useSimulator, type TestSimulator } from '../helpers/simulator.js';

const sim = useSimulator();
let t: TestSimulator;

describe('token endpoint', () => {
  before(() => {
    t = sim();
  });

  test('MSAL obtains a v1.0 Graph token over HTTPS, calling no other host', async () => {
    const token = await t.token('contoso', 'readwrite');
    const claims = decodeJwt(token);
    const tenant = t.tenant('contoso');
    const app = t.app('contoso', 'readwrite');
    assert.equal(claims.tid, tenant.id);
    assert.equal(claims.appid, app.appId);
    assert.equal(claims.iss, `https://sts.windows.net/${tenant.id}/`);
    assert.equal(claims.aud, t.sim.url);
    assert.equal(claims.appidacr, '1');
    assert.equal(claims.idtyp, 'app');
    assert.equal(claims.ver, '1.0');
    assert.deepEqual(claims.roles, [...READ_WRITE_PERMISSIONS]);
    assert.ok(
      typeof claims.exp === 'number' &&
        typeof claims.iat === 'number' &&
        claims.nbf === claims.iat &&
        claims.exp > claims.iat,
    );
    assert.ok(t.msalCalls.length >= 2, 'MSAL read the OpenID configuration and the token endpoint');
    for (const url of t.msalCalls) assert.ok(url.startsWith(`${t.sim.url}/`), `MSAL called ${url}`);
  });

  test('an untrusted client cannot connect: the certificate chains to the generated CA only', async () => {
    await assert.rejects(fetch(`${t.sim.url}/common/discovery/instance`), (err: Error) =>
      /certificate|fetch failed/i.test(`${err.message} ${String((err as { cause?: Error }).cause?.message)}`),
    );
  });

  test('a tenant is found by its domain name as well as its GUID; HTTP Basic works', async () => {
    const tenant = t.tenant('fabrikam');
    const app = t.app('fabrikam', 'readonly');
    const basic = Buffer.from(
      `${encodeURIComponent(app.appId)}:${encodeURIComponent(app.secrets[0]!.secretText)}`,
    ).toString('base64');
    const res = await tokenRequest(
      t,
      tenant.initialDomain.toUpperCase(),
      { grant_type: 'client_credentials', scope: 'https://graph.microsoft.com/.default' },
      { authorization: `Basic ${basic}` },
    );
    assert.equal(res.status, 200);
    // Microsoft's example omits ext_expires_in, which the live service sends (graph-facts §1.3).
    assert.deepEqual(
      compareShape(res.body, loadGraphFixture('token/client-credentials-response.json'), '', {
        allowExtra: ['ext_expires_in'],
      }),
      [],
    );
    assert.deepEqual(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'ext_expires_in', 'token_type']);
    assert.equal(res.body.token_type, 'Bearer');
    assert.equal(typeof res.body.expires_in, 'number');
    assert.equal(decodeJwt(res.body.access_token).aud, 'https://graph.microsoft.com');
  });

  test('an app without admin consent gets a token with no roles claim', async () => {
    const claims = decodeJwt(await t.token('contoso', 'noconsent'));
    assert.equal(claims.roles, undefined);
    assert.equal(claims.appid, t.app('contoso', 'noconsent').appId);
  });

  const form = (app: { appId: string }, secret: string) => ({
    grant_type: 'client_credentials',
    client_id: app.appId,
    client_secret: secret,
    scope: 'https://graph.microsoft.com/.default',
  });

  function assertAadError(
    res: { status: number; body: Record<string, any> },
    status: number,
    error: string,
    code: number,
    text: RegExp,
  ) {
    assert.equal(res.status, status);
    assert.equal(res.body.error, error);
    assert.deepEqual(res.body.error_codes, [code]);
    assert.match(res.body.error_description, new RegExp(`^AADSTS${code}: `));
    assert.match(res.body.error_description, text);
    assert.match(
      res.body.error_description,
      /\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
    );
    assert.match(res.body.timestamp, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/);
    assert.match(res.body.trace_id, /^[0-9a-f-]{36}$/);
    assert.match(res.body.correlation_id, /^[0-9a-f-]{36}$/);
    assert.equal(res.body.error_uri, `${t.sim.url}/error?code=${code}`);
  }

  test('AADSTS90002: unknown tenant', async () => {
    const app = t.app('contoso', 'readwrite');
    assertAadError(
      await tokenRequest(t, '11111111-2222-4333-8444-555555555555', form(app, app.secrets[0]!.secretText)),
      400,
      'invalid_tenant',
      90002,
      /Tenant '11111111-2222-4333-8444-555555555555' not found/,
    );
    assertAadError(
      await tokenRequest(t, 'nobody.onmicrosoft.com', form(app, app.secrets[0]!.secretText)),
      400,
      'invalid_tenant',
      90002,
      /not found/,
    );
  });

  test('AADSTS900023: malformed tenant identifier', async () => {
    const app = t.app('contoso', 'readwrite');
    assertAadError(
      await tokenRequest(t, 'not_a_tenant', form(app, app.secrets[0]!.secretText)),
      400,
      'invalid_request',
      900023,
      /'not_a_tenant' is neither a valid DNS name/,
    );
  });

  test('AADSTS7000215: wrong secret, with the value-not-ID hint', async () => {
    const app = t.app('contoso', 'readwrite');
    assertAadError(
      await tokenRequest(t, t.tenant('contoso').id, form(app, app.secrets[0]!.keyId)),
      401,
      'invalid_client',
      7000215,
      /client secret value, not the client secret ID/,
    );
  });

  test('AADSTS7000222: expired secret', async () => {
    const app = t.app('contoso', 'expired');
    assertAadError(
      await tokenRequest(t, t.tenant('contoso').id, form(app, app.secrets[0]!.secretText)),
      401,
      'invalid_client',
      7000222,
      new RegExp(`keys for app '${app.appId}' are expired`),
    );
  });

  test('AADSTS700016: app not found in the tenant (an app of another tenant)', async () => {
    const app = t.app('fabrikam', 'readwrite');
    assertAadError(
      await tokenRequest(t, t.tenant('contoso').id, form(app, app.secrets[0]!.secretText)),
      400,
      'unauthorized_client',
      700016,
      new RegExp(`identifier '${app.appId}' was not found in the directory`),
    );
  });

  test('AADSTS7000218: no secret', async () => {
    const app = t.app('contoso', 'readwrite');
    const { client_secret: _omit, ...rest } = form(app, 'x');
    assertAadError(
      await tokenRequest(t, t.tenant('contoso').id, rest),
      401,
      'invalid_client',
      7000218,
      /'client_assertion' or 'client_secret'/,
    );
  });

  test('wrong or missing grant type', async () => {
    const app = t.app('contoso', 'readwrite');
    assertAadError(
      await tokenRequest(t, t.tenant('contoso').id, {
        ...form(app, app.secrets[0]!.secretText),
        grant_type: 'password',
      }),
      400,
      'unsupported_grant_type',
      70003,
      /unsupported grant type 'password'/,
    );
    const { grant_type: _g, ...rest } = form(app, app.secrets[0]!.secretText);
    assertAadError(
      await tokenRequest(t, t.tenant('contoso').id, rest),
      400,
      'invalid_request',
      900144,
      /parameter: 'grant_type'/,
    );
  });

  test('AADSTS70011: a scope that is not <resource>/.default', async () => {
    const app = t.app('contoso', 'readwrite');
    for (const scope of [
      'https://graph.microsoft.com/User.Read',
      'https://foo.example/.default',
      'https://graph.microsoft.com/.default https://management.azure.com/.default',
    ]) {
      const res = await tokenRequest(t, t.tenant('contoso').id, { ...form(app, app.secrets[0]!.secretText), scope });
      assertAadError(
        res,
        400,
        'invalid_scope',
        70011,
        /The provided value for the input parameter 'scope' is not valid/,
      );
      // Microsoft's example body, but for error_uri, which live responses carry (graph-facts §1.6)
      assert.deepEqual(
        compareShape(
          res.body,
          loadGraphFixture('errors/token-400-invalid_scope-AADSTS70011-client-credentials.json'),
          '',
          { allowExtra: ['error_uri'] },
        ),
        [],
      );
    }
  });

  test('OpenID configuration and keys are served for a tenant; an unknown tenant gets 90002', async () => {
    const tenant = t.tenant('contoso');
    const res = await fetch(`${t.sim.url}/${tenant.id}/v2.0/.well-known/openid-configuration`, {
      dispatcher: t.dispatcher,
    });
    const doc = (await res.json()) as Record<string, string>;
    assert.equal(res.status, 200);
    assert.equal(doc.token_endpoint, `${t.sim.url}/${tenant.id}/oauth2/v2.0/token`);
    assert.equal(doc.issuer, `${t.sim.url}/${tenant.id}/v2.0`);
    const keys = (await (await fetch(doc.jwks_uri!, { dispatcher: t.dispatcher })).json()) as {
      keys: Array<{ kty: string; kid: string }>;
    };
    assert.equal(keys.keys[0]!.kty, 'RSA');
    const missing = await fetch(`${t.sim.url}/nobody.example/v2.0/.well-known/openid-configuration`, {
      dispatcher: t.dispatcher,
    });
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as { error_codes: number[] }).error_codes[0], 90002);
  });
});
