// Microsoft's errors as problems an administrator can act on: AADSTS codes from MSAL's errors
// (with Microsoft's own bodies, graph-facts §1.6), network/TLS failures found in error causes,
// Graph's error envelope read defensively, and untrusted text made safe to show.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ClientAuthError, ServerError } from '@azure/msal-node';
import { resolveCloud } from '../../src/entra/clouds.js';
import { AppError } from '../../src/errors.js';
import {
  classifyNetworkError,
  EntraError,
  graphErrorOf,
  networkProblem,
  redact,
  secretLooksLikeId,
  tokenProblem,
  untrusted,
} from '../../src/entra/errors.js';

const cloud = resolveCloud('global');
const ctx = {
  tenantId: 'contoso.onmicrosoft.com',
  clientId: '535fb089-9ff3-47b6-9bfb-4f1264799865',
  cloud,
  secretLooksLikeId: false,
};

/** An MSAL ServerError as msal-common builds it from a token endpoint error body. */
function serverError(
  body: { error: string; error_description: string; error_codes: number[] },
  status: number,
): ServerError {
  const message =
    `Error(s): ${body.error_codes.join(',')} - Timestamp: 2023-05-06 06:03:00Z - ` +
    `Description: ${body.error_description} - Correlation ID: 5fc87507 - Trace ID: 6f6c4645`;
  return new ServerError(
    body.error,
    '5fc87507-4086-4e77-b415-cee677eb232e',
    message,
    undefined,
    String(body.error_codes[0]),
    status,
  );
}
const trailer =
  '\r\nTrace ID: 6f6c4645-0202-4486-b625-fa957dfc4700\r\nCorrelation ID: 5fc87507-4086-4e77-b415-cee677eb232e\r\nTimestamp: 2023-05-06 06:03:00Z';

describe('token errors', () => {
  test("Microsoft's malformed-tenant body (900023, 400) is tenant_malformed", () => {
    const err = serverError(
      {
        error: 'invalid_request',
        error_description: `AADSTS900023: Specified tenant identifier 'undefined' is neither a valid DNS name, nor a valid external domain.${trailer}`,
        error_codes: [900023],
      },
      400,
    );
    const p = tokenProblem(err, { ...ctx, tenantId: 'undefined' });
    assert.equal(p.code, 'tenant_malformed');
    assert.equal(p.microsoftCode, 'AADSTS900023');
    assert.equal(p.httpStatus, 400);
    assert.match(p.message, /"undefined" is neither a tenant GUID nor a domain name/);
    assert.match(p.guidance, /Directory \(tenant\) ID exactly as the Overview page/);
  });

  test('no secret sent (7000218, 401) is no_secret', () => {
    const err = serverError(
      {
        error: 'invalid_client',
        error_description: `AADSTS7000218: The request body must contain the following parameter: 'client_assertion' or 'client_secret'.${trailer}`,
        error_codes: [7000218],
      },
      401,
    );
    const p = tokenProblem(err, ctx);
    assert.deepEqual([p.code, p.microsoftCode, p.httpStatus], ['no_secret', 'AADSTS7000218', 401]);
    assert.match(p.guidance, /secret's Value/);
  });

  test('the AADSTS code is found in the description even without error_codes', () => {
    const err = new ServerError(
      'invalid_client',
      'c',
      `AADSTS7000222: The provided client secret keys for app '${ctx.clientId}' are expired.`,
    );
    assert.equal(tokenProblem(err, ctx).code, 'expired_secret');
  });

  test("an AADSTS code without a mapping is unexpected, with Microsoft's first line only", () => {
    const err = serverError(
      {
        error: 'invalid_scope',
        error_description: `AADSTS70011: The provided value for the input parameter 'scope' is not valid. The scope https://x/.default is not valid.${trailer}`,
        error_codes: [70011],
      },
      400,
    );
    const p = tokenProblem(err, ctx);
    assert.equal(p.code, 'unexpected');
    assert.equal(p.microsoftCode, 'AADSTS70011');
    assert.equal(
      p.message,
      "Microsoft Entra refused the token request: The provided value for the input parameter 'scope' is not valid. The scope https://x/.default is not valid.",
    );
    assert.doesNotMatch(p.message, /Trace ID/);
    assert.match(p.guidance, /AADSTS70011/);
  });

  test("MSAL's bare network_error is explained by the cause our network module saw", () => {
    const msal = new ClientAuthError('network_error', 'Network request failed');
    const cause = Object.assign(new TypeError('fetch failed'), {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    });
    const p = tokenProblem(msal, { ...ctx, networkCause: cause });
    assert.equal(p.code, 'network');
    assert.equal(p.microsoftCode, 'ECONNREFUSED');
    assert.equal(
      p.message,
      "Could not reach Microsoft's token service at login.microsoftonline.com: the connection was refused (nothing listens there).",
    );
  });

  test('any other failure is unexpected and names the host', () => {
    const p = tokenProblem(new ClientAuthError('openid_config_error', 'Could not retrieve endpoints.'), ctx);
    assert.equal(p.code, 'unexpected');
    assert.equal(p.microsoftCode, 'openid_config_error');
    assert.match(p.message, /^The token request to login\.microsoftonline\.com failed: openid_config_error/);
  });

  test('a GUID-shaped secret is recognised as a secret ID', () => {
    assert.equal(secretLooksLikeId(' 0a1b2c3d-4e5f-6789-abcd-ef0123456789 '), true);
    assert.equal(secretLooksLikeId('abc8Q~0123456789abcdefghijklmnopqrstuvwxy'), false);
  });
});

describe('network failures', () => {
  test('TLS, network and time-out codes are found anywhere in the cause chain', () => {
    const wrap = (code: string) =>
      Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(`boom ${code}`), { code }) });
    assert.equal(classifyNetworkError(wrap('SELF_SIGNED_CERT_IN_CHAIN'))?.kind, 'tls');
    assert.equal(classifyNetworkError(wrap('UNABLE_TO_VERIFY_LEAF_SIGNATURE'))?.kind, 'tls');
    assert.equal(classifyNetworkError(wrap('ERR_TLS_CERT_ALTNAME_INVALID'))?.kind, 'tls');
    assert.equal(classifyNetworkError(wrap('ENOTFOUND'))?.kind, 'network');
    assert.equal(classifyNetworkError(wrap('UND_ERR_HEADERS_TIMEOUT'))?.kind, 'timeout');
    assert.equal(classifyNetworkError(new AggregateError([wrap('ECONNRESET')]))?.errno, 'ECONNRESET');
    assert.equal(classifyNetworkError(new Error('plain')), undefined);
    assert.equal(classifyNetworkError(undefined), undefined);
  });

  test('problems say what failed and what to check', () => {
    const tls = networkProblem(
      { kind: 'tls', errno: 'SELF_SIGNED_CERT_IN_CHAIN', detail: 'self-signed certificate in certificate chain' },
      'rig.example:8443',
      'graph',
    );
    assert.equal(tls.code, 'tls');
    assert.equal(
      tls.message,
      'The TLS certificate of rig.example:8443 (Microsoft Graph) is not trusted: self-signed certificate in certificate chain.',
    );
    assert.match(tls.guidance, /CA certificate \(PEM\) that issued the server's certificate/);
    const dns = networkProblem(
      { kind: 'network', errno: 'ENOTFOUND', detail: 'getaddrinfo ENOTFOUND x' },
      'x',
      'token',
    );
    assert.equal(dns.message, "Could not reach Microsoft's token service at x: the host name does not resolve.");
    assert.match(dns.guidance, /DNS, firewall, outbound proxy/);
  });
});

describe('untrusted text', () => {
  test('control characters go, whitespace collapses, length is bounded', () => {
    assert.equal(untrusted('a\r\nb\u0000c\u001b[31m  d\u2028e'), 'a b c [31m d e');
    assert.equal(untrusted('x'.repeat(500), 10), `${'x'.repeat(9)}…`);
    assert.equal(untrusted(42), '');
  });

  test('redact blanks every copy of the secret', () => {
    assert.equal(redact('abc8Q~secret and abc8Q~secret', 'abc8Q~secret'), '[redacted] and [redacted]');
    assert.equal(redact('nothing here', 'abc8Q~secret'), 'nothing here');
  });

  test('Graph error envelopes are read defensively', () => {
    const headers = new Headers({ 'request-id': 'r-1' });
    const denied = graphErrorOf(
      403,
      {
        error: {
          code: 'Authorization_RequestDenied',
          message: 'Insufficient privileges\r\nto complete the operation.',
          innerError: { 'request-id': 'r-2' },
        },
      },
      headers,
    );
    assert.deepEqual(
      [denied.graphStatus, denied.graphCode, denied.graphMessage, denied.requestId],
      [403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.', 'r-1'],
    );
    const html = graphErrorOf(502, undefined, new Headers());
    assert.deepEqual([html.graphCode, html.graphMessage], ['HTTP 502', '']);
    const odd = graphErrorOf(400, { error: 'not an object' }, new Headers(), 1500);
    assert.deepEqual([odd.graphCode, odd.retryAfterMs], ['HTTP 400', 1500]);
    const inner = graphErrorOf(
      404,
      { error: { code: 42, message: ['x'], innerError: { 'request-id': 'r-3' } } },
      new Headers(),
    );
    assert.deepEqual([inner.graphCode, inner.graphMessage, inner.requestId], ['HTTP 404', '', 'r-3']);
  });

  test("Microsoft's failures are the application's upstream errors: 502, with Graph's code and request id, or the problem and its guidance", () => {
    const denied = graphErrorOf(
      403,
      { error: { code: 'Authorization_RequestDenied', message: 'Insufficient privileges' } },
      new Headers({ 'request-id': 'r-9' }),
    );
    assert.ok(denied instanceof AppError);
    assert.deepEqual(
      [denied.code, denied.status, denied.details],
      ['upstream', 502, { graphStatus: 403, graphCode: 'Authorization_RequestDenied', requestId: 'r-9' }],
    );
    const problem = tokenProblem(
      serverError(
        {
          error: 'invalid_client',
          error_description: `AADSTS7000222: The provided client secret keys for app are expired.${trailer}`,
          error_codes: [7000222],
        },
        401,
      ),
      ctx,
    );
    const entra = new EntraError(problem);
    assert.ok(entra instanceof AppError);
    assert.deepEqual(
      [entra.code, entra.status, entra.name, entra.message],
      ['upstream', 502, 'EntraError', problem.message],
    );
    assert.deepEqual(entra.details, {
      problem: 'expired_secret',
      microsoftCode: 'AADSTS7000222',
      guidance: problem.guidance,
    });
  });
});
