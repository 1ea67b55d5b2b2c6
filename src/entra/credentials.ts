// App-only tokens for Microsoft Graph: one MSAL ConfidentialClientApplication per credential set,
// talking through the integration's own dispatcher (its CA bundle), never making discovery
// calls for custom clouds, and failing with problems an administrator can act on. Token claims
// are decoded, never validated: Graph tokens are opaque to clients (reference/graph-facts.md
// §1.5); we read them only to learn the tenant and the granted application permissions.
import {
  ConfidentialClientApplication,
  LogLevel,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { decodeJwt } from 'jose';
import type { Dispatcher } from 'undici';
import { ValidationError } from '../errors.js';
import type { CloudEndpoints } from './clouds.js';
import { EntraError, isGuid, secretLooksLikeId, tokenProblem, untrusted } from './errors.js';
import { msalNetworkClient } from './network.js';

export interface CredentialInput {
  tenantId: string;
  clientId: string;
  clientSecret: string;
}

// A DNS name: labels of letters, digits and hyphens, at least one dot, a letter (or IDN) TLD.
const DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+([a-z]{2,63}|xn--[a-z0-9-]{1,59})$/i;
/** Authorities that are not a tenant: client credentials need the tenant itself (AADSTS9001023). */
const NOT_A_TENANT = new Set(['common', 'organizations', 'consumers']);

/**
 * Checks and trims credentials before anything is sent to Microsoft. Throws ValidationError
 * whose `details.field` names the input at fault; the message never contains the secret.
 */
export function validateCredentials(input: CredentialInput): CredentialInput {
  const tenantId = typeof input.tenantId === 'string' ? input.tenantId.trim() : '';
  const clientId = typeof input.clientId === 'string' ? input.clientId.trim() : '';
  const clientSecret = typeof input.clientSecret === 'string' ? input.clientSecret.trim() : '';
  if (!tenantId) {
    throw new ValidationError(
      'The Directory (tenant) ID is required: copy it from the Overview page of the app registration in the Entra admin center.',
      { field: 'tenantId' },
    );
  }
  if (NOT_A_TENANT.has(tenantId.toLowerCase())) {
    throw new ValidationError(
      `"${tenantId.toLowerCase()}" is not a tenant: an app signing in on its own needs the tenant's Directory (tenant) ID or one of its domain names.`,
      { field: 'tenantId' },
    );
  }
  if (!isGuid(tenantId) && !DOMAIN.test(tenantId)) {
    throw new ValidationError(
      'The Directory (tenant) ID must be a GUID (such as 72f988bf-86f1-41af-91ab-2d7cd011db47) or a domain name ' +
        `of the tenant (such as contoso.onmicrosoft.com); "${untrusted(tenantId, 80)}" is neither.`,
      { field: 'tenantId' },
    );
  }
  if (!clientId) {
    throw new ValidationError(
      'The Application (client) ID is required: copy it from the Overview page of the app registration.',
      { field: 'clientId' },
    );
  }
  if (!isGuid(clientId)) {
    throw new ValidationError(
      `The Application (client) ID must be a GUID, as the app registration's Overview page shows it; "${untrusted(clientId, 80)}" is not one.`,
      { field: 'clientId' },
    );
  }
  if (!clientSecret) {
    throw new ValidationError(
      "The client secret is empty: paste the secret's Value from App registrations → the app → Certificates & secrets.",
      { field: 'clientSecret' },
    );
  }
  return { tenantId, clientId: clientId.toLowerCase(), clientSecret };
}

export interface TokenClaims {
  /** Tenant GUID (`tid`). */
  tenantId?: string;
  /** Client application id (`appid` in v1.0 tokens, `azp` in v2.0). */
  appId?: string;
  /** Application permissions granted with admin consent (`roles`), [] when the claim is absent. */
  roles: string[];
  /** Whether the token had a `roles` claim at all (no claim: admin consent missing). */
  hasRolesClaim: boolean;
  /** `exp` as epoch ms. */
  expiresAt?: number;
}

export interface AccessToken {
  token: string;
  claims: TokenClaims;
}

/** Reads the claims of an access token without validating it (Graph tokens are opaque to us). */
export function readTokenClaims(token: string): TokenClaims {
  const payload = decodeJwt(token);
  const str = (v: unknown, max = 100): string | undefined =>
    typeof v === 'string' && v ? untrusted(v, max) : undefined;
  const roles = Array.isArray(payload.roles)
    ? payload.roles.filter((r): r is string => typeof r === 'string' && r.length > 0).map((r) => untrusted(r, 100))
    : [];
  const tenantId = str(payload.tid);
  const appId = str(payload.appid) ?? str(payload.azp);
  return {
    ...(tenantId ? { tenantId } : {}),
    ...(appId ? { appId } : {}),
    roles,
    hasRolesClaim: Array.isArray(payload.roles),
    ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp * 1000 } : {}),
  };
}

export interface TokenSourceOptions extends CredentialInput {
  cloud: CloudEndpoints;
  /** The integration's connection pool (createEntraDispatcher: the cloud's CA, the outbound proxy). */
  dispatcher: Dispatcher;
  /** Sees every URL MSAL requests (tests check no discovery call is made). */
  observe?: (method: string, url: string) => void;
}

export interface TokenSource {
  /** A token for `${graphUrl}/.default`, from MSAL's cache unless `forceRefresh`. Throws EntraError. */
  acquire(opts?: { forceRefresh?: boolean; signal?: AbortSignal }): Promise<AccessToken>;
  readonly scope: string;
}

/**
 * One ConfidentialClientApplication for one credential set. Throws ValidationError for bad
 * input; `acquire` throws EntraError (a typed, user-facing problem) or the signal's reason.
 */
export function createTokenSource(opts: TokenSourceOptions): TokenSource {
  const { tenantId, clientId, clientSecret } = validateCredentials(opts);
  const { cloud } = opts;
  const authority = `${cloud.authorityHost}/${tenantId}`;
  const scope = `${cloud.graphUrl}/.default`;

  // MSAL turns any failure of the network module into a bare "network_error": keep the cause.
  let lastCause: unknown;
  let lastStatus: number | undefined;
  const inner = msalNetworkClient(opts.dispatcher, opts.observe);
  const networkClient: INetworkModule = {
    async sendGetRequestAsync<T>(
      url: string,
      options?: NetworkRequestOptions,
      timeout?: number,
    ): Promise<NetworkResponse<T>> {
      try {
        const res = await inner.sendGetRequestAsync<T>(url, options, timeout);
        lastStatus = res.status;
        return res;
      } catch (err) {
        lastCause = err;
        throw err;
      }
    },
    async sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
      try {
        const res = await inner.sendPostRequestAsync<T>(url, options);
        lastStatus = res.status;
        return res;
      } catch (err) {
        lastCause = err;
        throw err;
      }
    },
  };

  const custom = cloud.name === 'custom';
  const host = new URL(cloud.authorityHost).host;
  const cca = new ConfidentialClientApplication({
    auth: {
      clientId,
      clientSecret,
      authority,
      // Custom clouds: the host is trusted as is (no instance discovery) and its endpoints are
      // given (no OpenID configuration fetch), so the only call is the token request itself and
      // its errors reach us with Microsoft's AADSTS text. National clouds use MSAL's built-in
      // metadata.
      ...(custom
        ? {
            knownAuthorities: [host],
            authorityMetadata: JSON.stringify({
              token_endpoint: `${authority}/oauth2/v2.0/token`,
              authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
              end_session_endpoint: `${authority}/oauth2/v2.0/logout`,
              jwks_uri: `${authority}/discovery/v2.0/keys`,
              issuer: `${authority}/v2.0`,
            }),
          }
        : {}),
    },
    system: {
      networkClient,
      loggerOptions: { loggerCallback: () => {}, piiLoggingEnabled: false, logLevel: LogLevel.Error },
    },
  });

  async function acquire(o: { forceRefresh?: boolean; signal?: AbortSignal } = {}): Promise<AccessToken> {
    o.signal?.throwIfAborted();
    lastCause = undefined;
    lastStatus = undefined;
    const attempt = cca.acquireTokenByClientCredential({
      scopes: [scope],
      ...(o.forceRefresh ? { skipCache: true } : {}),
    });
    let result: Awaited<typeof attempt>;
    try {
      result = await abortable(attempt, o.signal);
    } catch (err) {
      if (o.signal?.aborted && err === o.signal.reason) throw err;
      throw new EntraError(
        tokenProblem(err, {
          tenantId,
          clientId,
          cloud,
          secretLooksLikeId: secretLooksLikeId(clientSecret),
          networkCause: lastCause,
          ...(lastStatus !== undefined ? { httpStatus: lastStatus } : {}),
        }),
      );
    }
    const token = result?.accessToken ?? '';
    if (!token) {
      throw new EntraError({
        code: 'unexpected',
        message: `Microsoft's token service at ${host} answered without an access token.`,
        guidance: 'Try again in a few minutes; Microsoft returns an empty token on some server-side errors.',
      });
    }
    let claims: TokenClaims;
    try {
      claims = readTokenClaims(token);
    } catch {
      throw new EntraError({
        code: 'unexpected',
        message: `The access token from ${host} is not a JWT.`,
        guidance:
          'Check the cloud setting: the authority host must be a Microsoft identity platform endpoint (or the simulator).',
      });
    }
    return { token, claims };
  }

  return { acquire, scope };
}

/** `promise`, or the signal's reason as soon as it aborts. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e as Error);
      },
    );
  });
}
