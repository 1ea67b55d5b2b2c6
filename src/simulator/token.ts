// The Microsoft identity platform's v2.0 token endpoint for the client-credentials grant, with
// the discovery documents MSAL reads, Microsoft's error bodies, and v1.0-format Graph access
// tokens (reference/graph-facts.md §1). Tokens are signed so the Graph side can tell ours from
// forgeries; clients must not (and idsight does not) validate them.
import { createHash, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { exportJWK, generateKeyPair, jwtVerify, SignJWT, type CryptoKey, type JWK } from 'jose';
import type { SimClock } from './sim-clock.js';
import { findTenant, type SimApp, type SimTenant } from './tenants.js';

/** The Graph resource ids a token may be requested for. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// A DNS name: labels of letters, digits and hyphens, at least one dot.
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;

export interface AccessTokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  appidacr: string;
  idtyp: string;
  oid: string;
  roles?: string[];
  iat: number;
  nbf: number;
  exp: number;
}

export interface TokenSettings {
  /** Token lifetime in seconds (Microsoft: 60–90 minutes; the fault knob shortens it). */
  lifetimeSeconds(): number;
}

export interface TokenService {
  register(app: FastifyInstance): void;
  /** Verifies a bearer token this simulator issued; throws a message Graph would give. */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The resource URIs whose `/.default` scope we issue tokens for. */
  resources: string[];
}

export async function createTokenService(opts: {
  tenants: readonly SimTenant[];
  clock: SimClock;
  /** Base URL of this server (authority host and Graph root), without a trailing slash. */
  baseUrl: () => string;
  settings: TokenSettings;
}): Promise<TokenService> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk: JWK = await exportJWK(publicKey);
  const kid = createHash('sha1').update(JSON.stringify(jwk)).digest('base64url');
  const resources = () => ['https://graph.microsoft.com', opts.baseUrl()];

  async function sign(tenant: SimTenant, app: SimApp, aud: string): Promise<{ token: string; expiresIn: number }> {
    const now = Math.floor(opts.clock.now() / 1000);
    const lifetime = opts.settings.lifetimeSeconds();
    const issuer = `https://sts.windows.net/${tenant.id}/`;
    const payload: Record<string, unknown> = {
      aio: randomUUID().replaceAll('-', '').slice(0, 24),
      app_displayname: app.displayName,
      appid: app.appId,
      appidacr: '1',
      idp: issuer,
      idtyp: 'app',
      oid: app.servicePrincipalId,
      rh: `0.${Buffer.from(tenant.id).toString('base64url')}.`,
      // Admin consent missing: Entra still issues the token, without a roles claim.
      ...(app.roles.length > 0 ? { roles: [...app.roles] } : {}),
      sub: app.servicePrincipalId,
      tenant_region_scope: 'EU',
      tid: tenant.id,
      uti: randomUUID().replaceAll('-', '').slice(0, 22),
      ver: '1.0',
    };
    const token = await new SignJWT(payload)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', x5t: kid, kid })
      .setAudience(aud)
      .setIssuer(issuer)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + lifetime)
      .sign(privateKey as CryptoKey);
    // Entra reports one second less than the token's lifetime (3599 for an hour).
    return { token, expiresIn: Math.max(1, lifetime - 1) };
  }

  function aadError(
    reply: FastifyReply,
    status: number,
    error: string,
    code: number,
    message: string,
    correlationId: string,
  ) {
    const at = new Date(opts.clock.now()).toISOString().replace('T', ' ').slice(0, 19) + 'Z';
    const traceId = randomUUID();
    return reply
      .code(status)
      .header('content-type', 'application/json; charset=utf-8')
      .send({
        error,
        error_description: `AADSTS${code}: ${message}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${at}`,
        error_codes: [code],
        timestamp: at,
        trace_id: traceId,
        correlation_id: correlationId,
        error_uri: `${opts.baseUrl()}/error?code=${code}`,
      });
  }

  /** Resolves the {tenant} path segment, or answers with the error Entra gives. */
  function tenantOr(reply: FastifyReply, raw: string, correlationId: string): SimTenant | undefined {
    if (!GUID.test(raw) && !DNS_NAME.test(raw)) {
      void aadError(
        reply,
        400,
        'invalid_request',
        900023,
        `Specified tenant identifier '${raw}' is neither a valid DNS name, nor a valid external domain.`,
        correlationId,
      );
      return undefined;
    }
    const tenant = findTenant(opts.tenants, raw);
    if (!tenant) {
      void aadError(
        reply,
        400,
        'invalid_tenant',
        90002,
        `Tenant '${raw}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. ` +
          'Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.',
        correlationId,
      );
    }
    return tenant;
  }

  function openIdConfiguration(tenant: SimTenant) {
    const base = opts.baseUrl();
    const host = new URL(base).host;
    return {
      token_endpoint: `${base}/${tenant.id}/oauth2/v2.0/token`,
      token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
      jwks_uri: `${base}/${tenant.id}/discovery/v2.0/keys`,
      response_modes_supported: ['query', 'fragment', 'form_post'],
      subject_types_supported: ['pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      issuer: `${base}/${tenant.id}/v2.0`,
      request_uri_parameter_supported: false,
      userinfo_endpoint: `${base}/oidc/userinfo`,
      authorization_endpoint: `${base}/${tenant.id}/oauth2/v2.0/authorize`,
      device_authorization_endpoint: `${base}/${tenant.id}/oauth2/v2.0/devicecode`,
      http_logout_supported: true,
      frontchannel_logout_supported: true,
      end_session_endpoint: `${base}/${tenant.id}/oauth2/v2.0/logout`,
      claims_supported: [
        'sub',
        'iss',
        'cloud_instance_name',
        'cloud_instance_host_name',
        'cloud_graph_host_name',
        'msgraph_host',
        'aud',
        'exp',
        'iat',
        'auth_time',
        'acr',
        'nonce',
        'preferred_username',
        'name',
        'tid',
        'ver',
        'at_hash',
        'c_hash',
        'email',
      ],
      kerberos_endpoint: `${base}/${tenant.id}/kerberos`,
      tenant_region_scope: 'EU',
      cloud_instance_name: host,
      cloud_graph_host_name: host,
      msgraph_host: host,
      rbac_url: base,
    };
  }

  function register(app: FastifyInstance): void {
    app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });

    // MSAL's cloud instance discovery (skipped when the host is in knownAuthorities).
    app.get('/common/discovery/instance', async (req) => {
      const host = new URL(opts.baseUrl()).host;
      const q = req.query as Record<string, string | undefined>;
      const tenant = q.authorization_endpoint
        ? (new URL(q.authorization_endpoint).pathname.split('/')[1] ?? 'common')
        : 'common';
      return {
        tenant_discovery_endpoint: `${opts.baseUrl()}/${tenant}/v2.0/.well-known/openid-configuration`,
        'api-version': '1.1',
        metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
      };
    });

    for (const path of [
      '/:tenant/v2.0/.well-known/openid-configuration',
      '/:tenant/.well-known/openid-configuration',
    ]) {
      app.get(path, async (req, reply) => {
        const tenant = tenantOr(reply, (req.params as { tenant: string }).tenant, clientRequestId(req.headers));
        return tenant ? openIdConfiguration(tenant) : reply;
      });
    }

    app.get('/:tenant/discovery/v2.0/keys', async () => ({ keys: [{ ...jwk, kid, x5t: kid, use: 'sig' }] }));

    app.post('/:tenant/oauth2/v2.0/token', async (req, reply) => {
      const correlationId = clientRequestId(req.headers);
      const tenant = tenantOr(reply, (req.params as { tenant: string }).tenant, correlationId);
      if (!tenant) return reply;
      const body = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, string | undefined>;
      const basic = basicCredentials(req.headers.authorization);
      const clientId = body.client_id ?? basic?.id;
      const secret = body.client_secret ?? basic?.secret;
      const missing = (name: string) =>
        aadError(
          reply,
          400,
          'invalid_request',
          900144,
          `The request body must contain the following parameter: '${name}'.`,
          correlationId,
        );

      if (!body.grant_type) return missing('grant_type');
      if (body.grant_type !== 'client_credentials') {
        return aadError(
          reply,
          400,
          'unsupported_grant_type',
          70003,
          `The app requested an unsupported grant type '${body.grant_type}'.`,
          correlationId,
        );
      }
      if (!clientId) return missing('client_id');
      if (!body.scope) return missing('scope');
      const scopes = body.scope.split(' ').filter(Boolean);
      const resource =
        scopes.length === 1 && scopes[0]!.endsWith('/.default') ? scopes[0]!.slice(0, -'/.default'.length) : undefined;
      const audience =
        resource === GRAPH_APP_ID
          ? 'https://graph.microsoft.com'
          : resource !== undefined
            ? resources().find((r) => r === resource.replace(/\/$/, ''))
            : undefined;
      if (!audience) {
        return aadError(
          reply,
          400,
          'invalid_scope',
          70011,
          `The provided value for the input parameter 'scope' is not valid. The scope ${body.scope} is not valid.`,
          correlationId,
        );
      }
      const app = tenant.apps.find((a) => a.appId === clientId.toLowerCase());
      if (!app) {
        return aadError(
          reply,
          400,
          'unauthorized_client',
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant.displayName}'. ` +
            'This can happen if the application has not been installed by the administrator of the tenant ' +
            'or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.',
          correlationId,
        );
      }
      if (!secret && !body.client_assertion) {
        return aadError(
          reply,
          401,
          'invalid_client',
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
          correlationId,
        );
      }
      const matching = app.secrets.find((s) => s.secretText === secret);
      if (!matching) {
        return aadError(
          reply,
          401,
          'invalid_client',
          7000215,
          'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, ' +
            `not the client secret ID, for a secret added to app '${app.appId}'.`,
          correlationId,
        );
      }
      if (matching.endDateTime <= opts.clock.now()) {
        return aadError(
          reply,
          401,
          'invalid_client',
          7000222,
          `The provided client secret keys for app '${app.appId}' are expired. ` +
            'Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, ' +
            'or consider using certificate credentials for added security: https://aka.ms/certCreds.',
          correlationId,
        );
      }
      const { token, expiresIn } = await sign(tenant, app, audience);
      return reply
        .header('cache-control', 'no-store, no-cache')
        .header('content-type', 'application/json; charset=utf-8')
        .send({ token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: token });
    });
  }

  async function verify(token: string): Promise<AccessTokenClaims> {
    if (!token) throw new Error('Access token is empty.');
    let payload;
    try {
      ({ payload } = await jwtVerify(token, publicKey, {
        algorithms: ['RS256'],
        currentDate: new Date(opts.clock.now()),
        clockTolerance: 0,
      }));
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ERR_JWT_EXPIRED') throw new Error('Lifetime validation failed, the token is expired.');
      if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') throw new Error('Access token has expired or is not yet valid.');
      if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw new Error('Access token validation failure.');
      throw new Error('CompactToken parsing failed with error code: 80049217');
    }
    if (typeof payload.aud !== 'string' || !resources().includes(payload.aud))
      throw new Error('Access token validation failure. Invalid audience.');
    return payload as unknown as AccessTokenClaims;
  }

  return {
    register,
    verify,
    get resources() {
      return resources();
    },
  };
}

function clientRequestId(headers: Record<string, string | string[] | undefined>): string {
  const v = headers['client-request-id'];
  return typeof v === 'string' && GUID.test(v) ? v : randomUUID();
}

/** RFC 6749 §2.3.1: HTTP Basic with form-urlencoded id and secret. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return undefined;
  const dec = (s: string) => decodeURIComponent(s.replaceAll('+', ' '));
  return { id: dec(decoded.slice(0, colon)), secret: dec(decoded.slice(colon + 1)) };
}
