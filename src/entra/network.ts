// One HTTPS connection pool per integration, shared by its token requests (through MSAL) and
// its Graph calls, carrying that integration's trust: the CA bundle of a custom cloud (the
// simulator, private test rigs) or the system's roots, and the outbound proxy when one is set.
// MSAL's own client cannot take a CA, a proxy or a dispatcher, hence this INetworkModule
// (DESIGN §3).
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, EnvHttpProxyAgent, fetch, Pool, type Dispatcher } from 'undici';
import { ProxyError } from './errors.js';

/** The outbound proxy for Microsoft's endpoints (HTTPS_PROXY and NO_PROXY, validated by config). */
export interface OutboundProxy {
  /** http:// or https:// URL of the proxy, credentials (if any) in it. */
  url: string;
  /** Hosts reached directly, undici's NO_PROXY conventions ("" for none). */
  noProxy: string;
}

export interface EntraDispatcherOptions {
  /** PEM CA certificates to trust instead of the system roots (custom clouds). */
  ca?: string;
  /** Connect timeout, ms. */
  connectTimeoutMs?: number;
  proxy?: OutboundProxy;
}

/** A proxy URL as it may be shown and logged: scheme, host and port, never its credentials. */
export function proxyLabel(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}`;
}

export function createEntraDispatcher(opts: EntraDispatcherOptions = {}): Dispatcher {
  const timeout = opts.connectTimeoutMs ?? 10_000;
  const targetTls = { ...(opts.ca ? { ca: opts.ca } : {}), timeout };
  if (!opts.proxy) return new Agent({ connect: targetTls, keepAliveTimeout: 30_000 });
  const label = proxyLabel(opts.proxy.url);
  // undici's EnvHttpProxyAgent, given every value so it reads no environment of its own: https
  // URLs tunnel (CONNECT) through the proxy unless NO_PROXY names their host, and http URLs
  // (Microsoft has none) go direct. The CA is for the TLS to Microsoft inside the tunnel and for
  // direct connections; an https proxy's own certificate is checked against the system's roots.
  // Credentials in the URL become Proxy-Authorization on the CONNECT request only.
  return new EnvHttpProxyAgent({
    httpsProxy: opts.proxy.url,
    httpProxy: '',
    noProxy: opts.proxy.noProxy,
    connect: targetTls,
    requestTls: targetTls,
    proxyTls: { timeout },
    keepAliveTimeout: 30_000,
    clientFactory: (origin, o) => proxyClient(origin, o, label),
  });
}

/**
 * The connection to the proxy itself, whose failures become ProxyError (naming the proxy, not
 * the host behind it): a proxy that cannot be reached, or that answers CONNECT with anything
 * but 200 (407 without or with wrong credentials, 403 by its rules, 502 when it cannot reach
 * the host).
 */
function proxyClient(origin: URL, opts: object, label: string): Dispatcher {
  const pool = new Pool(origin, opts as Pool.Options);
  const connect = pool.connect.bind(pool) as (o: Dispatcher.ConnectOptions) => Promise<Dispatcher.ConnectData>;
  const tunnel = async (o: Dispatcher.ConnectOptions): Promise<Dispatcher.ConnectData> => {
    let data: Dispatcher.ConnectData;
    try {
      data = await connect(o);
    } catch (err) {
      throw new ProxyError(label, undefined, { cause: err });
    }
    if (data.statusCode !== 200) {
      data.socket.on('error', () => {}).destroy();
      throw new ProxyError(label, data.statusCode);
    }
    return data;
  };
  // ProxyAgent opens every tunnel with this client's connect(); the rest of the pool is as is.
  return Object.assign(pool, { connect: tunnel });
}

/** MSAL's network module over our dispatcher; `observe` sees every URL MSAL calls. */
export function msalNetworkClient(
  dispatcher: Dispatcher,
  observe?: (method: string, url: string) => void,
): INetworkModule {
  async function call<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    observe?.(method, url);
    const res = await fetch(url, {
      method,
      ...(options?.headers ? { headers: options.headers } : {}),
      ...(options?.body !== undefined ? { body: options.body } : {}),
      dispatcher,
      ...(timeout ? { signal: AbortSignal.timeout(timeout) } : {}),
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // MSAL reports a non-JSON body (an HTML error page) through the status it sees
      body = {};
    }
    return { headers: Object.fromEntries(res.headers), body: body as T, status: res.status };
  }
  return {
    sendGetRequestAsync: (url, options, timeout) => call('GET', url, options, timeout),
    sendPostRequestAsync: (url, options) => call('POST', url, options),
  };
}
