// One HTTPS connection pool per integration, shared by its token requests (through MSAL) and
// its Graph calls, carrying that integration's trust: the CA bundle of a custom cloud (the
// simulator, private test rigs) or the system's roots. MSAL's own client cannot take a CA or
// a dispatcher, hence this INetworkModule (DESIGN §3).
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent, fetch } from 'undici';

export interface EntraDispatcherOptions {
  /** PEM CA certificates to trust instead of the system roots (custom clouds). */
  ca?: string;
  /** Connect timeout, ms. */
  connectTimeoutMs?: number;
}

export function createEntraDispatcher(opts: EntraDispatcherOptions = {}): Agent {
  return new Agent({
    connect: { ...(opts.ca ? { ca: opts.ca } : {}), timeout: opts.connectTimeoutMs ?? 10_000 },
    keepAliveTimeout: 30_000,
  });
}

/** MSAL's network module over our dispatcher; `observe` sees every URL MSAL calls. */
export function msalNetworkClient(dispatcher: Agent, observe?: (method: string, url: string) => void): INetworkModule {
  async function call<T>(method: 'GET' | 'POST', url: string, options: NetworkRequestOptions | undefined, timeout?: number): Promise<NetworkResponse<T>> {
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
