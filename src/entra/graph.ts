// A small Microsoft Graph client on undici: the integration's dispatcher, a token source, and
// Graph's rules for being a good citizen (reference/graph-facts.md §6–7): honour Retry-After
// (decimal seconds or an HTTP date), back off with jitter when it is absent, refresh the token
// once on 401, and never send the token anywhere but the cloud's Graph root (a nextLink is
// followed only if it points there). Waits are bounded and cancellable.
import { setTimeout as sleep } from 'node:timers/promises';
import { fetch, type Agent } from 'undici';
import { classifyNetworkError, EntraError, graphErrorOf, GraphRequestError, networkProblem } from './errors.js';

export interface GraphTokenSource {
  acquire(opts?: { forceRefresh?: boolean; signal?: AbortSignal }): Promise<{ token: string }>;
}

export interface GraphClientOptions {
  /** The cloud's Graph root, e.g. https://graph.microsoft.com (no version). */
  graphUrl: string;
  dispatcher: Agent;
  tokens: GraphTokenSource;
  /** Attempts per request, the first included (default 4). */
  maxAttempts?: number;
  /** Longest single wait before a retry (default 60 s); a longer Retry-After ends the request. */
  maxRetryWaitMs?: number;
  /** For tests: jitter source (default Math.random). */
  random?: () => number;
}

export interface GraphRequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  /** Time left for the whole operation (ms): a retry wait that would not fit is not started. */
  remainingMs?: () => number;
  /** Attempts for this request (overrides the client's). */
  maxAttempts?: number;
  /** Called before each retry wait. */
  onRetry?: (info: { attempt: number; status?: number; code: string; waitMs: number }) => void;
}

export interface GraphResponse<T = unknown> {
  status: number;
  headers: Headers;
  /** Parsed JSON, or undefined for an empty body. */
  body: T;
}

export interface GraphPage<T> {
  value: T[];
  nextLink?: string;
  deltaLink?: string;
}

export interface GraphClient {
  readonly graphUrl: string;
  request<T = unknown>(pathOrUrl: string, opts?: GraphRequestOptions): Promise<GraphResponse<T>>;
  get<T = unknown>(pathOrUrl: string, opts?: Omit<GraphRequestOptions, 'method' | 'body'>): Promise<T>;
  /** Every page of a collection, following the whole @odata.nextLink; the last page carries any deltaLink. */
  pages<T = unknown>(pathOrUrl: string, opts?: Omit<GraphRequestOptions, 'method' | 'body'>): AsyncGenerator<GraphPage<T>>;
}

/** Statuses Graph asks to retry (with Retry-After when it knows): throttling and gateway trouble. */
const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * Retry-After as milliseconds: decimal seconds ("2.128") or an HTTP date; undefined when absent
 * or unreadable. `now` is wall-clock ms (an HTTP date is the server's wall clock).
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}

/** Exponential backoff with full jitter: attempt 1 → up to 1 s, 2 → 2 s, … capped at 30 s. */
export function backoffMs(attempt: number, random: () => number = Math.random): number {
  const cap = Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

export function createGraphClient(opts: GraphClientOptions): GraphClient {
  const root = new URL(opts.graphUrl);
  const graphUrl = `${root.protocol}//${root.host}${root.pathname.replace(/\/+$/, '')}`;
  const host = root.host;
  const random = opts.random ?? Math.random;
  const maxWait = opts.maxRetryWaitMs ?? 60_000;

  /** The absolute URL for a path or link; refuses anything outside the Graph root. */
  function resolve(pathOrUrl: string): string {
    if (pathOrUrl.startsWith('/')) return `${graphUrl}${pathOrUrl}`;
    let url: URL;
    try {
      url = new URL(pathOrUrl);
    } catch {
      throw new Error(`Not a Graph path or URL: ${pathOrUrl.slice(0, 100)}`);
    }
    const base = `${url.protocol}//${url.host}${url.pathname}`;
    if (url.protocol !== root.protocol || url.host !== root.host || !(base === graphUrl || base.startsWith(`${graphUrl}/`))) {
      throw new Error(`Refusing to send the Graph token outside ${graphUrl} (link to ${url.protocol}//${url.host})`);
    }
    return url.toString();
  }

  async function request<T>(pathOrUrl: string, o: GraphRequestOptions = {}): Promise<GraphResponse<T>> {
    const url = resolve(pathOrUrl);
    const method = o.method ?? 'GET';
    const attempts = o.maxAttempts ?? opts.maxAttempts ?? 4;
    let refreshed = false;
    let forceRefresh = false;
    for (let attempt = 1; ; attempt++) {
      o.signal?.throwIfAborted();
      const { token } = await opts.tokens.acquire({ forceRefresh, ...(o.signal ? { signal: o.signal } : {}) });
      forceRefresh = false;
      let res;
      try {
        res = await fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            accept: 'application/json',
            ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}),
            ...o.headers,
          },
          ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
          dispatcher: opts.dispatcher,
          ...(o.signal ? { signal: o.signal } : {}),
        });
      } catch (err) {
        if (o.signal?.aborted) throw o.signal.reason;
        const failure = classifyNetworkError(err);
        // a reset connection on a read is worth another try; refusals and TLS failures are not
        const transient = method === 'GET' && failure?.kind === 'network' && (failure.errno === 'ECONNRESET' || failure.errno === 'UND_ERR_SOCKET');
        if (transient && attempt < attempts && (await wait(backoffMs(attempt, random), attempt, failure.errno ?? 'network', undefined, o))) continue;
        if (failure) throw new EntraError(networkProblem(failure, host, 'graph'));
        throw err;
      }
      const text = await res.text();
      let body: unknown;
      let malformed = false;
      if (text) {
        try {
          body = JSON.parse(text);
        } catch {
          malformed = true;
        }
      }
      if (res.status >= 200 && res.status < 300) {
        if (!malformed) return { status: res.status, headers: res.headers as unknown as Headers, body: body as T };
        if (method === 'GET' && attempt < attempts && (await wait(backoffMs(attempt, random), attempt, 'MalformedResponse', res.status, o))) continue;
        throw new GraphRequestError(res.status, 'MalformedResponse', 'The response body is not valid JSON.', res.headers.get('request-id') ?? undefined);
      }
      const retryAfter = parseRetryAfter(res.headers.get('retry-after'));
      const error = graphErrorOf(res.status, body, res.headers, retryAfter);
      if (res.status === 401 && !refreshed) {
        // An expired or revoked token: one fresh token, then give up (graph-facts §7).
        refreshed = true;
        forceRefresh = true;
        continue;
      }
      if (RETRYABLE.has(res.status) && attempt < attempts) {
        const delay = retryAfter ?? backoffMs(attempt, random);
        if (delay <= maxWait && (await wait(delay, attempt, error.code, res.status, o))) continue;
      }
      throw error;
    }
  }

  /** Waits before a retry if the wait fits the time left; false when it does not. */
  async function wait(ms: number, attempt: number, code: string, status: number | undefined, o: GraphRequestOptions): Promise<boolean> {
    if (o.remainingMs && ms > o.remainingMs()) return false;
    o.onRetry?.({ attempt, code, waitMs: ms, ...(status !== undefined ? { status } : {}) });
    await sleep(ms, undefined, o.signal ? { signal: o.signal } : {}).catch(() => {
      throw o.signal?.reason ?? new Error('aborted');
    });
    return true;
  }

  async function get<T>(pathOrUrl: string, o: Omit<GraphRequestOptions, 'method' | 'body'> = {}): Promise<T> {
    return (await request<T>(pathOrUrl, o)).body;
  }

  async function* pages<T>(pathOrUrl: string, o: Omit<GraphRequestOptions, 'method' | 'body'> = {}): AsyncGenerator<GraphPage<T>> {
    let next: string | undefined = pathOrUrl;
    while (next) {
      const body: unknown = await get(next, o);
      const page = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
      const value = Array.isArray(page.value) ? (page.value as T[]) : [];
      const nextLink = typeof page['@odata.nextLink'] === 'string' ? page['@odata.nextLink'] : undefined;
      const deltaLink = typeof page['@odata.deltaLink'] === 'string' ? page['@odata.deltaLink'] : undefined;
      yield { value, ...(nextLink ? { nextLink } : {}), ...(deltaLink ? { deltaLink } : {}) };
      next = nextLink;
    }
  }

  return { graphUrl, request, get, pages };
}

export { GraphRequestError };
