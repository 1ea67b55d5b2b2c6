// What goes wrong between idsight and Microsoft, as typed problems a tenant administrator can act
// on: the token service's AADSTS errors (reference/graph-facts.md §1.6), Graph's error envelope
// (§7), and the network below both (refused connections, untrusted certificates, time-outs).
// Everything Microsoft sends is treated as untrusted text: cut to one line, stripped of control
// characters, bounded in length.
import { UpstreamError } from '../errors.js';
import { CLOUD_LABELS, type CloudEndpoints } from './clouds.js';

/** Where the repository explains registering the app, its permissions and secret (linked from guidance). */
export const APP_REGISTRATION_DOC = 'docs/entra-app-registration.md';

export type ProblemCode =
  | 'invalid_input'
  | 'tenant_not_found'
  | 'tenant_malformed'
  | 'wrong_secret'
  | 'expired_secret'
  | 'app_not_found'
  | 'no_secret'
  | 'admin_consent_missing'
  | 'network'
  | 'proxy'
  | 'tls'
  | 'timeout'
  | 'unexpected';

export interface EntraProblem {
  code: ProblemCode;
  /** Microsoft's code behind it: "AADSTS7000215", or a Graph error code. */
  microsoftCode?: string;
  /** HTTP status of the answer that revealed it, when there was one. */
  httpStatus?: number;
  /** One line: what is wrong. */
  message: string;
  /** What to do about it, in the Entra admin center's words. */
  guidance: string;
  /** The input at fault (invalid_input). */
  field?: 'tenantId' | 'clientId' | 'clientSecret';
}

/** A problem reaching or authenticating to Microsoft, carrying its user-facing description. */
export class EntraError extends UpstreamError {
  constructor(readonly problem: EntraProblem) {
    super(problem.message, {
      problem: problem.code,
      ...(problem.microsoftCode ? { microsoftCode: problem.microsoftCode } : {}),
      guidance: problem.guidance,
    });
  }
}

/**
 * A failure at the outbound proxy rather than at Microsoft: it could not be reached (the cause
 * says why), or it answered the tunnel request (CONNECT) with `tunnelStatus` instead of 200.
 * `proxy` is the proxy's scheme, host and port, never its credentials.
 */
export class ProxyError extends Error {
  readonly code = 'IDSIGHT_PROXY';
  constructor(
    readonly proxy: string,
    readonly tunnelStatus?: number,
    options?: ErrorOptions,
  ) {
    super(
      tunnelStatus === undefined
        ? `could not reach the outbound proxy ${proxy}`
        : `the outbound proxy ${proxy} answered ${tunnelStatus} to the tunnel request`,
      options,
    );
    this.name = 'ProxyError';
  }
}

/** A Graph answer outside 2xx, with Graph's own code and message (untrusted, cleaned). */
export class GraphRequestError extends UpstreamError {
  constructor(
    readonly graphStatus: number,
    /** Graph's error.code ("Authorization_RequestDenied"), or "HTTP <status>" when the body had none. */
    readonly graphCode: string,
    /** Graph's error.message, cleaned; may be empty. */
    readonly graphMessage: string,
    readonly requestId?: string,
    /** Retry-After in ms, when the answer carried one. */
    readonly retryAfterMs?: number,
  ) {
    super(`Microsoft Graph answered ${graphStatus} ${graphCode}${graphMessage ? `: ${graphMessage}` : ''}`, {
      graphStatus,
      graphCode,
      ...(requestId ? { requestId } : {}),
    });
  }
}

// ------------------------------------------------------------------ untrusted text

/** Untrusted text as one bounded line: control characters become spaces, runs of space collapse. */
export function untrusted(text: unknown, max = 300): string {
  if (typeof text !== 'string') return '';
  const line = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `text` with every occurrence of `secret` blanked (defence in depth: no message may carry it). */
export function redact(text: string, secret: string | undefined): string {
  if (!secret || secret.length < 3) return text;
  return text.split(secret).join('[redacted]');
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isGuid = (s: string): boolean => GUID.test(s);

/** A secret shaped like a GUID is almost certainly the Secret ID the portal shows next to the value. */
export const secretLooksLikeId = (secret: string): boolean => GUID.test(secret.trim());

// ------------------------------------------------------------------ token service (AADSTS)

export interface TokenFailureContext {
  tenantId: string;
  clientId: string;
  cloud: CloudEndpoints;
  secretLooksLikeId: boolean;
  /** The lowest-level error our network module saw during the attempt, if any. */
  networkCause?: unknown;
  /** HTTP status of the token endpoint's last answer, if any. */
  httpStatus?: number;
}

interface MsalLikeError {
  name?: unknown;
  errorCode?: unknown;
  errorMessage?: unknown;
  errorNo?: unknown;
  status?: unknown;
  message?: unknown;
}

/** "AADSTS7000215" from an MSAL error (its message carries the description), if any. */
export function aadstsCode(err: unknown): string | undefined {
  const e = (err ?? {}) as MsalLikeError;
  for (const text of [e.errorMessage, e.message]) {
    const m = typeof text === 'string' ? /AADSTS(\d{5,8})/.exec(text) : null;
    if (m) return `AADSTS${m[1]}`;
  }
  const no = typeof e.errorNo === 'number' || typeof e.errorNo === 'string' ? String(e.errorNo) : '';
  return /^\d{5,8}$/.test(no) ? `AADSTS${no}` : undefined;
}

/** The description of an AADSTS error, first line only, without the AADSTS prefix. */
function aadstsDescription(err: unknown): string {
  const e = (err ?? {}) as MsalLikeError;
  const text = typeof e.errorMessage === 'string' ? e.errorMessage : typeof e.message === 'string' ? e.message : '';
  // MSAL wraps it: "Error(s): 7000215 - Timestamp: … - Description: AADSTS7000215: Invalid … \r\nTrace ID: …"
  const m = /AADSTS\d+:\s*([^\r\n]*)/.exec(text);
  return untrusted(m ? m[1] : text, 400);
}

/** Maps a failed token request to a problem an administrator can act on. */
export function tokenProblem(err: unknown, ctx: TokenFailureContext): EntraProblem {
  if (err instanceof EntraError) return err.problem;
  const cloud = CLOUD_LABELS[ctx.cloud.name];
  const host = hostOf(ctx.cloud.authorityHost);
  const e = (err ?? {}) as MsalLikeError;
  const code = aadstsCode(err);
  const status = typeof e.status === 'number' ? e.status : ctx.httpStatus;
  const withStatus = (p: EntraProblem): EntraProblem => (status !== undefined ? { ...p, httpStatus: status } : p);
  switch (code) {
    case 'AADSTS90002':
      return withStatus({
        code: 'tenant_not_found',
        microsoftCode: code,
        message: `Microsoft Entra has no tenant "${ctx.tenantId}" in the ${cloud} cloud.`,
        guidance:
          'Check the Directory (tenant) ID: it is on the Overview page of the app registration (and of Microsoft Entra ID) ' +
          "in the Entra admin center, as a GUID or one of the tenant's domain names. " +
          `If the tenant lives in another Microsoft cloud (US Government, China), choose that cloud (${APP_REGISTRATION_DOC}, National clouds).`,
      });
    case 'AADSTS900023':
      return withStatus({
        code: 'tenant_malformed',
        microsoftCode: code,
        message: `"${ctx.tenantId}" is neither a tenant GUID nor a domain name Microsoft Entra recognises.`,
        guidance:
          'Give the Directory (tenant) ID exactly as the Overview page of the app registration shows it ' +
          "(a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47), or the tenant's initial domain (contoso.onmicrosoft.com).",
      });
    case 'AADSTS7000215':
      return withStatus({
        code: 'wrong_secret',
        microsoftCode: code,
        message: 'Microsoft Entra rejected the client secret: it is not a current secret of this app.',
        guidance:
          (ctx.secretLooksLikeId
            ? 'The secret you entered looks like a Secret ID (a GUID), not the secret itself. '
            : '') +
          "Enter the secret's Value, not its Secret ID: under App registrations → the app → Certificates & secrets, " +
          'the Value column is shown in full only right after the secret is created. ' +
          `If it was not copied then, create a new client secret and paste its Value (${APP_REGISTRATION_DOC}, step 4).`,
      });
    case 'AADSTS7000222':
      return withStatus({
        code: 'expired_secret',
        microsoftCode: code,
        message: 'The client secret has expired.',
        guidance:
          'Create a new client secret (App registrations → the app → Certificates & secrets → New client secret), ' +
          'then store its Value in idsight with Reset Credentials. ' +
          'idsight tests the new secret before it replaces the old one.',
      });
    case 'AADSTS700016':
      return withStatus({
        code: 'app_not_found',
        microsoftCode: code,
        message: `No application with client ID ${ctx.clientId} was found in tenant "${ctx.tenantId}" (${cloud} cloud).`,
        guidance:
          "Check the Application (client) ID on the app registration's Overview page. " +
          'The app must be registered in this tenant or, for a multitenant app, consented to by an administrator of this tenant. ' +
          `Also check the Directory (tenant) ID points at that tenant and the cloud is the one the tenant lives in (${APP_REGISTRATION_DOC}).`,
      });
    case 'AADSTS7000218':
      return withStatus({
        code: 'no_secret',
        microsoftCode: code,
        message: 'Microsoft Entra received no client secret.',
        guidance: "Enter the client secret's Value (App registrations → the app → Certificates & secrets).",
      });
    default:
      break;
  }
  const net = classifyNetworkError(ctx.networkCause) ?? classifyNetworkError(err);
  if (net) return networkProblem(net, host, 'token');
  if (code) {
    return withStatus({
      code: 'unexpected',
      microsoftCode: code,
      message: `Microsoft Entra refused the token request: ${aadstsDescription(err)}`,
      guidance:
        `Look up ${code} in Microsoft's "Microsoft Entra authentication and authorization error codes" reference; ` +
        `if it names the scope or resource, check the cloud (${cloud}) and its Graph URL.`,
    });
  }
  const what = untrusted(
    typeof e.errorCode === 'string' ? `${e.errorCode}: ${String(e.errorMessage ?? '')}` : (e.message ?? String(err)),
    300,
  );
  return withStatus({
    code: 'unexpected',
    ...(typeof e.errorCode === 'string' && e.errorCode ? { microsoftCode: e.errorCode } : {}),
    message: `The token request to ${host} failed: ${what}`,
    guidance:
      "Try again in a few minutes; if it keeps failing, check the cloud setting and that the host answers as Microsoft's token service does.",
  });
}

// ------------------------------------------------------------------ network and TLS

export interface NetworkFailure {
  kind: 'network' | 'tls' | 'timeout' | 'proxy';
  /** The system or library code: ECONNREFUSED, SELF_SIGNED_CERT_IN_CHAIN, UND_ERR_CONNECT_TIMEOUT… */
  errno?: string;
  detail: string;
  /** kind proxy: the proxy (no credentials), and its answer to CONNECT when it refused the tunnel. */
  proxy?: string;
  tunnelStatus?: number;
  /** kind proxy, proxy unreachable: what went wrong on the way to it. */
  via?: NetworkFailure;
}

const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS|ERR_SSL|EPROTO|HOSTNAME_MISMATCH/;
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
  'UND_ERR_DESTROYED',
]);
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ABORT_ERR', 'TimeoutError']);

/** Walks an error's causes for a network, TLS or time-out failure; undefined when it is none. */
export function classifyNetworkError(err: unknown): NetworkFailure | undefined {
  const seen = new Set<unknown>();
  const queue: unknown[] = [err];
  while (queue.length > 0) {
    const e = queue.shift();
    if (!e || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    if (e instanceof ProxyError) return proxyFailure(e);
    const { code, name, message } = e as { code?: unknown; name?: unknown; message?: unknown };
    const c = typeof code === 'string' ? code : undefined;
    const text = untrusted(message, 200);
    if (c && TLS_CODES.test(c)) return { kind: 'tls', errno: c, detail: text || c };
    if (c && TIMEOUT_CODES.has(c)) return { kind: 'timeout', errno: c, detail: text || c };
    if (name === 'TimeoutError') return { kind: 'timeout', errno: 'TimeoutError', detail: text || 'timed out' };
    if (c && NETWORK_CODES.has(c)) return { kind: 'network', errno: c, detail: text || c };
    const cause = (e as { cause?: unknown }).cause;
    if (cause) queue.push(cause);
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors)) queue.push(...errors);
  }
  return undefined;
}

function proxyFailure(e: ProxyError): NetworkFailure {
  if (e.tunnelStatus !== undefined)
    return {
      kind: 'proxy',
      errno: `HTTP ${e.tunnelStatus}`,
      detail: e.message,
      proxy: e.proxy,
      tunnelStatus: e.tunnelStatus,
    };
  const via = classifyNetworkError(e.cause);
  return {
    kind: 'proxy',
    ...(via?.errno ? { errno: via.errno } : {}),
    detail: via?.detail ?? untrusted((e.cause as { message?: unknown } | undefined)?.message, 200),
    proxy: e.proxy,
    ...(via ? { via } : {}),
  };
}

const NETWORK_WORDS: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused (nothing listens there)',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS did not answer)',
  ECONNRESET: 'the connection was reset',
  UND_ERR_SOCKET: 'the connection was closed before any answer',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection could not be opened in time',
  ETIMEDOUT: 'the connection timed out',
};

/** A network/TLS/time-out failure as a problem; `phase` says which service was being reached. */
export function networkProblem(f: NetworkFailure, host: string, phase: 'token' | 'graph'): EntraProblem {
  const service = phase === 'token' ? "Microsoft's token service" : 'Microsoft Graph';
  if (f.kind === 'proxy') return proxyProblem(f, host, service);
  if (f.kind === 'tls') {
    return {
      code: 'tls',
      ...(f.errno ? { microsoftCode: f.errno } : {}),
      message: `The TLS certificate of ${host} (${service}) is not trusted: ${f.detail}.`,
      guidance:
        "For a custom cloud, give the CA certificate (PEM) that issued the server's certificate. " +
        "Behind a TLS-inspecting proxy, the proxy's CA must be trusted. Check also that the host name matches the certificate.",
    };
  }
  if (f.kind === 'timeout') {
    return {
      code: 'timeout',
      ...(f.errno ? { microsoftCode: f.errno } : {}),
      message: `${service} at ${host} did not answer in time.`,
      guidance:
        'Try again; if it persists, check network latency, proxies and firewalls between idsight and Microsoft.',
    };
  }
  const words = (f.errno && NETWORK_WORDS[f.errno]) || f.detail;
  return {
    code: 'network',
    ...(f.errno ? { microsoftCode: f.errno } : {}),
    message: `Could not reach ${service} at ${host}: ${words}.`,
    guidance:
      "Check that idsight's host can open HTTPS connections to this address (DNS, firewall, outbound proxy), " +
      'and for a custom cloud that the authority host and Graph URL are right.',
  };
}

const PROXY_STATUS_WORDS: Record<number, string> = {
  403: 'Forbidden',
  407: 'Proxy Authentication Required',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function proxyProblem(f: NetworkFailure, host: string, service: string): EntraProblem {
  const proxy = f.proxy ?? 'the outbound proxy';
  const base = { code: 'proxy' as const, ...(f.errno ? { microsoftCode: f.errno } : {}) };
  const status = f.tunnelStatus;
  if (status === undefined) {
    const via = f.via;
    const words =
      via?.kind === 'tls'
        ? `its TLS certificate is not trusted (${via.detail})`
        : via?.kind === 'timeout'
          ? 'it did not answer in time'
          : (f.errno && NETWORK_WORDS[f.errno]) || f.detail;
    return {
      ...base,
      message: `Could not reach the outbound proxy ${proxy} on the way to ${service} at ${host}: ${words}.`,
      guidance:
        "Check the proxy address in HTTPS_PROXY (scheme, host and port) and that the proxy runs and accepts connections from idsight's host. " +
        (via?.kind === 'tls' ? "An https:// proxy's certificate must be trusted by the system's CA store. " : '') +
        'Hosts idsight should reach directly belong in NO_PROXY.',
    };
  }
  const answer = `${status}${PROXY_STATUS_WORDS[status] ? ` ${PROXY_STATUS_WORDS[status]}` : ''}`;
  if (status === 407) {
    return {
      ...base,
      httpStatus: status,
      message: `The outbound proxy ${proxy} refused to open a connection to ${host} (${service}): it requires authentication (${answer}).`,
      guidance:
        "Give the proxy's user name and password in the proxy URL, HTTPS_PROXY=http://user:password@host:port " +
        '(special characters percent-encoded); if they are there, the proxy rejected them.',
    };
  }
  if (status >= 500) {
    return {
      ...base,
      httpStatus: status,
      message: `The outbound proxy ${proxy} could not open a connection to ${host} (${service}): it answered ${answer}.`,
      guidance:
        "The proxy itself could not reach the host (its DNS, its firewall, or the host is down): check with the proxy's administrators, " +
        'and for a custom cloud that the authority host and Graph URL are right.',
    };
  }
  return {
    ...base,
    httpStatus: status,
    message: `The outbound proxy ${proxy} refused to open a connection to ${host} (${service}): it answered ${answer}.`,
    guidance:
      `The proxy's rules do not let idsight reach this host: ask its administrators to allow HTTPS (CONNECT) to ${host}, ` +
      'or add the host to NO_PROXY if idsight can reach it directly.',
  };
}

/** The deadline of a whole operation passed during `phase`. */
export function timeoutProblem(host: string, phase: 'token' | 'graph', limitMs: number): EntraProblem {
  const service = phase === 'token' ? "Microsoft's token service" : 'Microsoft Graph';
  return {
    code: 'timeout',
    message: `${service} at ${host} did not answer within ${formatSeconds(limitMs)}.`,
    guidance:
      'Try again; if it persists, check network latency, proxies and firewalls between idsight and Microsoft (or raise the time limit).',
  };
}

export const formatSeconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return untrusted(url, 100);
  }
}

// ------------------------------------------------------------------ Graph's error envelope

/** Graph's `{"error":{"code","message","innerError":{…}}}`, read defensively from untrusted JSON. */
export function graphErrorOf(
  status: number,
  body: unknown,
  headers: { get(name: string): string | null },
  retryAfterMs?: number,
): GraphRequestError {
  let code = `HTTP ${status}`;
  let message = '';
  let requestId = headers.get('request-id') ?? undefined;
  if (body && typeof body === 'object' && 'error' in body) {
    const error = (body as { error: unknown }).error;
    if (error && typeof error === 'object') {
      const { code: c, message: m, innerError } = error as { code?: unknown; message?: unknown; innerError?: unknown };
      if (typeof c === 'string' && c.trim()) code = untrusted(c, 100);
      message = untrusted(m, 400);
      if (!requestId && innerError && typeof innerError === 'object') {
        const rid = (innerError as Record<string, unknown>)['request-id'];
        if (typeof rid === 'string') requestId = untrusted(rid, 64);
      }
    }
  }
  return new GraphRequestError(status, code, message, requestId ? untrusted(requestId, 64) : undefined, retryAfterMs);
}
