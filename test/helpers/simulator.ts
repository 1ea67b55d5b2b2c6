// Boots the simulated tenant in-process for a test (HTTPS on 127.0.0.1, a temp state dir, a
// fixed clock unless told otherwise) and gives the test clients that trust only its CA.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { fetch, type Dispatcher } from 'undici';
import { createEntraDispatcher, msalNetworkClient } from '../../src/entra/network.js';
import { startSimulator, type Simulator } from '../../src/simulator/server.js';
import type { SimulatorOptionsInput } from '../../src/simulator/options.js';
import type { AppState, SimApp, SimTenant } from '../../src/simulator/tenants.js';
import { tempDir } from './databases.js';

export const SIM_T0 = '2026-11-20T12:00:00.000Z';

export interface TestSimulator {
  sim: Simulator;
  dispatcher: Dispatcher;
  tenant(key: SimTenant['key']): SimTenant;
  app(tenant: SimTenant['key'], state: AppState): SimApp;
  /** A token for the app from the token endpoint, through MSAL (cached per app). */
  token(tenant: SimTenant['key'], state: AppState): Promise<string>;
  /** GET/PATCH/… a Graph path ("/v1.0/users?$top=1") or full URL as that app. */
  graph(
    tenant: SimTenant['key'],
    state: AppState,
    pathOrUrl: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; headers: Headers; body: any; text: string }>;
  /** Calls the control API. */
  control(method: string, path: string, body?: unknown): Promise<any>;
  /** Every URL MSAL requested. */
  msalCalls: string[];
  close(): Promise<void>;
}

export async function startTestSimulator(options: Partial<SimulatorOptionsInput> = {}): Promise<TestSimulator> {
  const sim = await startSimulator({
    stateDir: tempDir('idsight-sim-'),
    users: 60,
    clock: `fixed:${SIM_T0}`,
    control: true,
    ...options,
  });
  const dispatcher = createEntraDispatcher({ ca: sim.ca });
  const msalCalls: string[] = [];
  const apps = new Map<string, ConfidentialClientApplication>();
  const tenant = (key: SimTenant['key']) => sim.tenants.find((t) => t.key === key)!;
  const app = (key: SimTenant['key'], state: AppState) => tenant(key).apps.find((a) => a.state === state)!;

  async function token(key: SimTenant['key'], state: AppState): Promise<string> {
    const t = tenant(key);
    const a = app(key, state);
    let cca = apps.get(`${key}/${state}`);
    if (!cca) {
      cca = new ConfidentialClientApplication({
        auth: {
          clientId: a.appId,
          authority: `${sim.url}/${t.id}`,
          clientSecret: a.secrets[0]!.secretText,
          knownAuthorities: [new URL(sim.url).host],
        },
        system: { networkClient: msalNetworkClient(dispatcher, (_m, url) => msalCalls.push(url)) },
      });
      apps.set(`${key}/${state}`, cca);
    }
    const result = await cca.acquireTokenByClientCredential({ scopes: [`${sim.url}/.default`] });
    if (!result?.accessToken) throw new Error('no token');
    return result.accessToken;
  }

  async function graph(
    key: SimTenant['key'],
    state: AppState,
    pathOrUrl: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) {
    const url = pathOrUrl.startsWith('https://') ? pathOrUrl : `${sim.url}${pathOrUrl}`;
    const res = await fetch(url, {
      method: init.method ?? 'GET',
      headers: {
        authorization: `Bearer ${await token(key, state)}`,
        ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...init.headers,
      },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
      dispatcher,
    });
    const text = await res.text();
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, headers: res.headers as unknown as Headers, body, text };
  }

  async function control(method: string, path: string, body?: unknown) {
    const res = await fetch(`${sim.url}/_sim${path}`, {
      method,
      headers: {
        authorization: `Bearer ${sim.controlToken}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      dispatcher,
    });
    const json = (await res.json()) as unknown;
    if (res.status >= 400) throw new Error(`control ${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  const close = async () => {
    await dispatcher.close();
    await sim.close();
  };
  return { sim, dispatcher, tenant, app, token, graph, control, msalCalls, close };
}

/** Starts a simulator for a test file and stops it when the file's tests are done. */
export function useSimulator(options: Partial<SimulatorOptionsInput> = {}): () => TestSimulator {
  let t: TestSimulator | undefined;
  before(async () => {
    t = await startTestSimulator(options);
  });
  after(() => t?.close());
  return () => t!;
}

/** POSTs a raw token request (form body) and returns status and JSON. */
export async function tokenRequest(
  t: TestSimulator,
  tenantSegment: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${t.sim.url}/${tenantSegment}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
    dispatcher: t.dispatcher,
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

type Res = { status: number; body: any; headers?: Headers };

/** A Graph error: its status, code and message, and the innerError Graph always sends. */
export function assertGraphError(res: Res, status: number, code: string, message?: string | RegExp): void {
  assert.equal(res.status, status, JSON.stringify(res.body));
  assert.equal(res.body.error.code, code);
  if (typeof message === 'string') assert.equal(res.body.error.message, message);
  else if (message) assert.match(res.body.error.message, message);
  for (const key of ['client-request-id', 'date', 'request-id'])
    assert.equal(typeof res.body.error.innerError[key], 'string', key);
  assert.match(res.body.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
  assert.match(res.body.error.innerError.date, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  if (res.headers) assert.equal(res.headers.get('request-id'), res.body.error.innerError['request-id']);
}

/** An app's credentials as idsight takes them, for the simulated tenant ('custom' cloud trusting its CA). */
export function simulatedCredentials(
  t: TestSimulator,
  tenant: SimTenant['key'],
  state: AppState = 'readwrite',
  secretIndex = 0,
) {
  const app = t.app(tenant, state);
  return {
    tenantId: t.tenant(tenant).id,
    clientId: app.appId,
    clientSecret: app.secrets[secretIndex]!.secretText,
    cloud: 'custom' as const,
    authorityHost: t.sim.url,
    graphUrl: t.sim.url,
    caPem: t.sim.ca,
  };
}

/** Every page of a collection, following nextLinks (as the given tenant's app). */
export async function graphPages(
  t: TestSimulator,
  path: string,
  opts: { tenant?: SimTenant['key']; app?: AppState; headers?: Record<string, string> } = {},
): Promise<any[]> {
  const pages: any[] = [];
  let next: string | undefined = path;
  while (next) {
    const res = await t.graph(
      opts.tenant ?? 'contoso',
      opts.app ?? 'readonly',
      next,
      opts.headers ? { headers: opts.headers } : {},
    );
    assert.equal(res.status, 200, `${next}: ${res.text}`);
    pages.push(res.body);
    next = res.body['@odata.nextLink'];
    assert.ok(pages.length < 2000, 'paging ends');
  }
  return pages;
}

/** A full delta round: every page, its items, and the deltaLink it ends with. */
export async function deltaRound(
  t: TestSimulator,
  start: string,
  opts: { tenant?: SimTenant['key']; app?: AppState } = {},
): Promise<{ pages: any[]; items: any[]; deltaLink: string }> {
  const pages: any[] = [];
  let next: string | undefined = start;
  let deltaLink: string | undefined;
  while (next) {
    const res = await t.graph(opts.tenant ?? 'contoso', opts.app ?? 'readonly', next);
    assert.equal(res.status, 200, `${next}: ${res.text}`);
    pages.push(res.body);
    next = res.body['@odata.nextLink'];
    deltaLink = res.body['@odata.deltaLink'];
    assert.ok(!(next && deltaLink), 'a page has a nextLink or a deltaLink, never both');
    assert.ok(pages.length < 2000, 'the round ends');
  }
  assert.ok(deltaLink, 'the round ends with a deltaLink');
  return { pages, items: pages.flatMap((p) => p.value), deltaLink };
}

/** An ISO timestamp as a $filter literal (whole seconds print without a fraction). */
export const isoLiteral = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
