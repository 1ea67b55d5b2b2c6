// Test Connectivity: acquire a token with the given credentials, read what it grants, then probe
// every data type once, cheaply and gently, within a time limit, and say in an administrator's
// words either "Connected!" or the first thing that blocks — with what each data type and
// remediation action needs. No secret ever appears in the report: it is used for the token
// request and to compare its first three characters (the hint Entra itself shows).
import { setTimeout as sleep } from 'node:timers/promises';
import { systemClock, type Clock } from '../clock.js';
import { ValidationError } from '../errors.js';
import type { CloudEndpoints } from '../entra/clouds.js';
import {
  createTokenSource,
  validateCredentials,
  type AccessToken,
  type CredentialInput,
} from '../entra/credentials.js';
import {
  APP_REGISTRATION_DOC,
  EntraError,
  formatSeconds,
  GraphRequestError,
  hostOf,
  isGuid,
  redact,
  timeoutProblem,
  untrusted,
  type EntraProblem,
  type ProblemCode,
} from '../entra/errors.js';
import type { IntegrationBudget } from '../entra/budget.js';
import { createGraphClient, type GraphClient } from '../entra/graph.js';
import { createEntraDispatcher, type OutboundProxy } from '../entra/network.js';
import {
  actionCapabilities,
  DATA_TYPES,
  missingPermissions,
  modeOf,
  OWN_SECRET_PERMISSIONS,
  ownSecretUnavailable,
  permissionGap,
  type ActionCapability,
  type Capability,
  type DataTypeDef,
  type DataTypeId,
} from './capabilities.js';

export type { ProblemCode } from '../entra/errors.js';
export type { ActionCapability, Capability } from './capabilities.js';

export interface Credentials extends CredentialInput {
  cloud: CloudEndpoints;
}

export interface LicenceInfo {
  skuPartNumber: string;
  skuId: string;
  enabled: number;
  consumed: number;
}

export interface OwnSecret {
  keyId: string;
  /** First three characters of the secret, as Entra shows them. */
  hint: string;
  displayName: string | null;
  endDateTime: string;
  /** Whole days until endDateTime (negative once past). */
  daysLeft: number;
}

export interface ConnectionReport {
  connected: boolean;
  /** "Connected!" or the first blocking problem, in words a tenant admin can act on. */
  message: string;
  problem?: {
    code: ProblemCode;
    microsoftCode?: string;
    httpStatus?: number;
    guidance: string;
    field?: EntraProblem['field'];
  };
  /** The tenant GUID from the token (`tid`). */
  tenantId?: string;
  /** The token's `roles` claim as listed ([] when absent). */
  grantedRoles: string[];
  capabilities: Capability[];
  mode: 'read-only' | 'read-write';
  actions: ActionCapability[];
  licences: LicenceInfo[];
  ownSecret?: OwnSecret | { unavailable: string };
  /** Things worth knowing that do not block (data types not checked in time, throttling). */
  warnings: string[];
  checkedAt: string;
  /** How long the test took, ms. */
  elapsedMs: number;
}

export interface TestConnectionOptions {
  /** Overall time limit, token included (default 30 s). */
  timeoutMs?: number;
  /** For checkedAt and the secret's days left (the simulator's clock in tests). */
  clock?: Clock;
  /** Sees every URL MSAL requests. */
  observeToken?: (method: string, url: string) => void;
  /** The integration's throttle budget, shared with its collectors (none: the probes pace themselves). */
  budget?: IntegrationBudget;
  /** The outbound proxy to Microsoft's endpoints, when one is set. */
  proxy?: OutboundProxy;
}

const DAY = 86_400_000;
/** Identity protection and conditional access: 1 request per second per tenant, for all apps. */
const IDENTITY_PROTECTION_SPACING_MS = 1_000;
/** Authentication_RequestFromNonPremiumTenantOrB2CTenant is reported intermittently on licensed tenants. */
const NON_PREMIUM_RETRY_MS = 1_000;
const NON_PREMIUM = 'Authentication_RequestFromNonPremiumTenantOrB2CTenant';
const PERMISSION_CODES = new Set([
  'Authorization_RequestDenied',
  'Authentication_MSGraphPermissionMissing',
  'Authentication_ApplicationHasNoReadAuditLogDataAccess',
]);

class Deadline extends Error {
  constructor() {
    super('the connection test reached its time limit');
  }
}

type ProbeOutcome =
  | { kind: 'ok'; body: unknown }
  | { kind: 'graph'; error: GraphRequestError }
  | { kind: 'network'; problem: EntraProblem }
  | { kind: 'stopped'; why: 'deadline' | 'throttled'; error?: GraphRequestError };

export async function testConnection(creds: Credentials, opts: TestConnectionOptions = {}): Promise<ConnectionReport> {
  const clock = opts.clock ?? systemClock;
  const limit = opts.timeoutMs ?? 30_000;
  const started = performance.now();
  const remaining = () => limit - (performance.now() - started);
  const report = (
    fields: Partial<ConnectionReport> & Pick<ConnectionReport, 'connected' | 'message'>,
  ): ConnectionReport => ({
    grantedRoles: [],
    capabilities: [],
    mode: 'read-only',
    actions: actionCapabilities([]),
    licences: [],
    warnings: [],
    checkedAt: new Date(clock.now()).toISOString(),
    ...fields,
    elapsedMs: Math.round(performance.now() - started),
  });
  const failed = (p: EntraProblem, extra: Partial<ConnectionReport> = {}): ConnectionReport =>
    report({
      connected: false,
      message: p.message,
      problem: {
        code: p.code,
        guidance: p.guidance,
        ...(p.microsoftCode ? { microsoftCode: p.microsoftCode } : {}),
        ...(p.httpStatus !== undefined ? { httpStatus: p.httpStatus } : {}),
        ...(p.field ? { field: p.field } : {}),
      },
      ...extra,
    });

  let input: CredentialInput;
  try {
    input = validateCredentials(creds);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const field = (err.details as { field?: EntraProblem['field'] } | undefined)?.field;
    return failed({
      code: 'invalid_input',
      message: err.message,
      guidance: 'Correct the highlighted value and test again.',
      ...(field ? { field } : {}),
    });
  }
  const { cloud } = creds;
  const secret = input.clientSecret;
  const clean = (p: EntraProblem): EntraProblem => ({
    ...p,
    message: redact(p.message, secret),
    guidance: redact(p.guidance, secret),
  });

  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Deadline()), limit);
  const signal = controller.signal;
  const dispatcher = createEntraDispatcher({
    ...(cloud.caPem ? { ca: cloud.caPem } : {}),
    // the overall limit, not the connect timeout, decides when the test is too slow
    connectTimeoutMs: Math.min(10_000, limit + 1_000),
    ...(opts.proxy ? { proxy: opts.proxy } : {}),
  });
  try {
    const tokens = createTokenSource({
      ...input,
      cloud,
      dispatcher,
      ...(opts.observeToken ? { observe: opts.observeToken } : {}),
    });

    // ---------------------------------------------------------------- the token
    let token: AccessToken;
    try {
      token = await tokens.acquire({ signal });
    } catch (err) {
      if (signal.aborted && signal.reason instanceof Deadline)
        return failed(timeoutProblem(hostOf(cloud.authorityHost), 'token', limit));
      if (err instanceof EntraError) return failed(clean(err.problem));
      throw err;
    }
    const roles = token.claims.roles;
    const tenantId = token.claims.tenantId;
    const known = {
      grantedRoles: roles,
      ...(tenantId ? { tenantId } : {}),
      mode: modeOf(roles),
      actions: actionCapabilities(roles),
    };
    const gaps = new Map<DataTypeId, Capability>();
    for (const def of DATA_TYPES) {
      const gap = permissionGap(def, roles);
      if (gap) gaps.set(def.id, gap);
    }
    if (roles.length === 0 || gaps.size === DATA_TYPES.length) {
      const none = roles.length === 0;
      return failed(
        {
          code: 'admin_consent_missing',
          message: none
            ? 'The app signed in, but its token carries no application permissions: admin consent has not been granted.'
            : 'The app signed in, but none of the application permissions idsight reads has admin consent.',
          guidance:
            'In the Entra admin center, open App registrations → the app → API permissions, ' +
            "add the Microsoft Graph application permissions of idsight's read-only set " +
            '(`idsight integrations permissions` lists them) and select "Grant admin consent for" your tenant; ' +
            `step by step in ${APP_REGISTRATION_DOC}. Consent can take a few minutes to reach new tokens.`,
        },
        {
          ...known,
          capabilities: DATA_TYPES.map((d) => gaps.get(d.id)!),
          ownSecret: { unavailable: ownSecretUnavailable(roles) ?? 'Not read: admin consent is missing.' },
        },
      );
    }

    // ---------------------------------------------------------------- the probes
    const graph = createGraphClient({
      graphUrl: cloud.graphUrl,
      dispatcher,
      tokens,
      maxAttempts: 3,
      maxRetryWaitMs: 15_000,
      ...(opts.budget ? { budget: opts.budget } : {}),
    });
    let throttled = 0;
    const probe = (path: string): Promise<ProbeOutcome> => runProbe(graph, path, signal, remaining, () => throttled++);
    const outcomes = new Map<DataTypeId, ProbeOutcome>();
    const wanted = DATA_TYPES.filter((d) => !gaps.has(d.id));
    const lane = (family: (d: DataTypeDef) => boolean) => wanted.filter(family);
    const reports = lane((d) => d.family === 'reports');
    const protection = lane((d) => d.family === 'identityProtection');
    // licences first: the SKUs explain the licence refusals that follow
    const directory = lane(
      (d) => d.family === 'directory' || d.family === 'signInActivity' || d.family === 'intune',
    ).sort((a, b) => Number(b.id === 'licences') - Number(a.id === 'licences'));
    const ownSecretAllowed = missingPermissions(OWN_SECRET_PERMISSIONS, roles).length === 0;
    let ownSecretOutcome: ProbeOutcome | undefined;

    /** One data type, with the licence refusal retried once (it is intermittent on licensed tenants). */
    async function probeType(def: DataTypeDef): Promise<void> {
      let outcome = await probe(def.probe);
      if (outcome.kind === 'graph' && outcome.error.graphCode === NON_PREMIUM && remaining() > NON_PREMIUM_RETRY_MS) {
        await pause(NON_PREMIUM_RETRY_MS, signal);
        if (!signal.aborted) outcome = await probe(def.probe);
      }
      outcomes.set(def.id, outcome);
    }
    /** One lane: its probes one at a time, `spacingMs` apart (counted from the previous answer, so arrivals are too). */
    async function sequence(defs: DataTypeDef[], spacingMs = 0): Promise<void> {
      let last = -Infinity;
      for (const def of defs) {
        if (signal.aborted) return;
        const wait = last + spacingMs - performance.now();
        if (wait > 0) await pause(wait, signal);
        if (signal.aborted) return;
        await probeType(def);
        last = performance.now();
      }
    }
    await Promise.all([
      sequence(reports),
      sequence(protection, IDENTITY_PROTECTION_SPACING_MS),
      (async () => {
        await sequence(directory);
        if (ownSecretAllowed && !signal.aborted) {
          ownSecretOutcome = await probe(
            `/v1.0/applications?$filter=appId eq '${input.clientId}'&$select=id,appId,displayName,passwordCredentials`,
          );
        }
      })(),
    ]);

    // ---------------------------------------------------------------- the answers
    const skus = outcomes.get('licences');
    const licences = skus?.kind === 'ok' ? readLicences(skus.body) : [];
    const plans = skus?.kind === 'ok' ? servicePlans(skus.body) : undefined;
    const capabilities = DATA_TYPES.map(
      (def) => gaps.get(def.id) ?? capabilityFrom(def, outcomes.get(def.id), plans, limit),
    );
    const warnings: string[] = [];
    const unknown = capabilities.filter((c) => c.status === 'unknown');
    if (unknown.length > 0)
      warnings.push(
        `${unknown.length} data type${unknown.length > 1 ? 's were' : ' was'} not checked: ${unknown.map((c) => c.label).join(', ')}.`,
      );
    if (throttled > 0)
      warnings.push(
        `Microsoft Graph throttled ${throttled} request${throttled > 1 ? 's' : ''}; idsight waited as asked.`,
      );
    const ownSecret = ownSecretAllowed
      ? readOwnSecret(ownSecretOutcome, secret, clock.now(), limit)
      : { unavailable: ownSecretUnavailable(roles)! };
    const full = { ...known, capabilities, licences, ownSecret, warnings };

    // Blocking: Graph itself unreachable, rejecting the token, or silent until the deadline.
    const ran = [...outcomes.values()];
    const answered = ran.filter((o) => o.kind === 'ok' || o.kind === 'graph');
    const network = ran.find((o): o is Extract<ProbeOutcome, { kind: 'network' }> => o.kind === 'network');
    if (answered.length === 0 && network) return failed(clean(network.problem), full);
    if (answered.length === 0 && signal.aborted)
      return failed(timeoutProblem(hostOf(cloud.graphUrl), 'graph', limit), full);
    if (answered.length > 0 && answered.every((o) => o.kind === 'graph' && o.error.graphStatus === 401)) {
      const first = answered[0] as Extract<ProbeOutcome, { kind: 'graph' }>;
      return failed(
        {
          code: 'unexpected',
          microsoftCode: first.error.graphCode,
          httpStatus: 401,
          message: `Microsoft Graph at ${hostOf(cloud.graphUrl)} rejected the token${first.error.graphMessage ? `: ${first.error.graphMessage}` : '.'}`,
          guidance:
            'The token service and Graph do not belong together: ' +
            "check the cloud setting (a custom cloud's Graph URL must be the Graph of the same cloud as its authority host).",
        },
        full,
      );
    }
    return report({ connected: true, message: 'Connected!', ...full });
  } finally {
    clearTimeout(timer);
    // Ends anything still in flight (an abandoned token request, a probe past the deadline).
    await dispatcher.destroy().catch(() => {});
  }
}

async function runProbe(
  graph: GraphClient,
  path: string,
  signal: AbortSignal,
  remaining: () => number,
  onThrottled: () => void,
): Promise<ProbeOutcome> {
  try {
    const body = await graph.get(path, {
      signal,
      remainingMs: () => remaining() - 250,
      onRetry: (r) => {
        if (r.status === 429) onThrottled();
      },
    });
    return { kind: 'ok', body };
  } catch (err) {
    if (signal.aborted) return { kind: 'stopped', why: 'deadline' };
    if (err instanceof GraphRequestError)
      return err.graphStatus === 429
        ? { kind: 'stopped', why: 'throttled', error: err }
        : { kind: 'graph', error: err };
    if (err instanceof EntraError) return { kind: 'network', problem: err.problem };
    throw err;
  }
}

/** Sleeps, ending early (without throwing) when the signal aborts. */
async function pause(ms: number, signal: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch(() => {});
}

/** Which service plans the tenant's subscriptions include (for licence explanations). */
interface PlanSummary {
  p1: boolean;
  p2: boolean;
  intune: boolean;
}

function servicePlans(body: unknown): PlanSummary {
  const names = new Set<string>();
  for (const sku of valueOf(body)) {
    if (typeof sku.skuPartNumber === 'string') names.add(sku.skuPartNumber.toUpperCase());
    if (Array.isArray(sku.servicePlans)) {
      for (const plan of sku.servicePlans as unknown[]) {
        const name = plan && typeof plan === 'object' ? (plan as Record<string, unknown>).servicePlanName : undefined;
        if (typeof name === 'string') names.add(name.toUpperCase());
      }
    }
  }
  const p2 = names.has('AAD_PREMIUM_P2');
  return {
    p2,
    p1: p2 || names.has('AAD_PREMIUM'),
    intune: [...names].some((n) => n.startsWith('INTUNE_A') || n === 'INTUNE_EDU' || n === 'INTUNE_SMBIZ'),
  };
}

function valueOf(body: unknown): Record<string, unknown>[] {
  const value = body && typeof body === 'object' ? (body as { value?: unknown }).value : undefined;
  return Array.isArray(value) ? value.filter((v): v is Record<string, unknown> => !!v && typeof v === 'object') : [];
}

function readLicences(body: unknown): LicenceInfo[] {
  const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return valueOf(body)
    .filter((s) => typeof s.skuId === 'string' && isGuid(s.skuId))
    .map((s) => ({
      skuPartNumber: untrusted(s.skuPartNumber, 100),
      skuId: (s.skuId as string).toLowerCase(),
      enabled: num(
        s.prepaidUnits && typeof s.prepaidUnits === 'object'
          ? (s.prepaidUnits as Record<string, unknown>).enabled
          : undefined,
      ),
      consumed: num(s.consumedUnits),
    }));
}

/** Permission names quoted in a Graph message ("…required MSGraph permissions AuditLog.Read.All"). */
function permissionsIn(message: string): string[] {
  return [...new Set(message.match(/\b[A-Z][A-Za-z]+(?:\.[A-Z][A-Za-z]+)+\b/g) ?? [])];
}

function capabilityFrom(
  def: DataTypeDef,
  outcome: ProbeOutcome | undefined,
  plans: PlanSummary | undefined,
  limit: number,
): Capability {
  const base = { dataType: def.id, label: def.label };
  if (!outcome || outcome.kind === 'stopped') {
    const why =
      outcome?.why === 'throttled'
        ? 'Not checked: Microsoft Graph throttled the request and asked to wait longer than the time left' +
          `${outcome.error?.retryAfterMs ? ` (${formatSeconds(outcome.error.retryAfterMs)})` : ''}. Test again later.`
        : `Not checked: the connection test reached its ${formatSeconds(limit)} limit first.`;
    return { ...base, available: false, status: 'unknown', reasonCode: 'not_checked', reason: why };
  }
  if (outcome.kind === 'ok') return { ...base, available: true, status: 'available' };
  if (outcome.kind === 'network')
    return {
      ...base,
      available: false,
      status: 'unknown',
      reasonCode: 'not_checked',
      reason: `Not checked: ${outcome.problem.message}`,
    };
  const { error } = outcome;
  const graphCode = error.graphCode;
  const said = error.graphMessage ? `${graphCode}: ${error.graphMessage}` : graphCode;
  const unavailable = { ...base, available: false, status: 'unavailable' as const, graphCode };
  if (error.graphCode === NON_PREMIUM) {
    if (def.licence === 'p2') {
      const has = plans?.p1 ? ' (the tenant has P1)' : '';
      return {
        ...unavailable,
        reasonCode: 'no_p2',
        reason: `Needs Microsoft Entra ID P2${has}: Microsoft Graph refused for lack of a premium licence.`,
      };
    }
    return {
      ...unavailable,
      reasonCode: 'no_premium',
      reason: 'Needs Microsoft Entra ID P1 or P2: Microsoft Graph serves this only to tenants with a premium licence.',
    };
  }
  if (def.licence === 'intune' && error.graphStatus === 403 && !PERMISSION_CODES.has(error.graphCode)) {
    const plan = plans && !plans.intune ? " (no Intune plan among the tenant's subscriptions)" : '';
    return {
      ...unavailable,
      reasonCode: 'no_intune',
      reason: `Needs an active Microsoft Intune licence${plan}: Intune refused the request.`,
    };
  }
  if (
    error.graphStatus === 403 &&
    def.licence === 'p2' &&
    plans &&
    !plans.p2 &&
    !PERMISSION_CODES.has(error.graphCode)
  ) {
    return { ...unavailable, reasonCode: 'no_p2', reason: `Needs Microsoft Entra ID P2 (${said}).` };
  }
  if (error.graphStatus === 403 && PERMISSION_CODES.has(error.graphCode)) {
    const named = permissionsIn(error.graphMessage);
    const missing = named.length > 0 ? named : def.permissions.map((set) => set[0]!);
    return {
      ...unavailable,
      reasonCode: 'missing_permission',
      reason: `Microsoft Graph refused for lack of permission (${said}). Grant ${missing.join(' and ')} with admin consent (${APP_REGISTRATION_DOC}).`,
      missingPermissions: missing,
    };
  }
  return { ...unavailable, reasonCode: 'graph_error', reason: `Microsoft Graph answered ${error.graphStatus} ${said}` };
}

function readOwnSecret(
  outcome: ProbeOutcome | undefined,
  secret: string,
  now: number,
  limit: number,
): OwnSecret | { unavailable: string } {
  if (!outcome || outcome.kind === 'stopped')
    return {
      unavailable: `Not read: the connection test reached its ${formatSeconds(limit)} limit (or Graph's throttling) first.`,
    };
  if (outcome.kind === 'network') return { unavailable: `Not read: ${outcome.problem.message}` };
  if (outcome.kind === 'graph') {
    if (outcome.error.graphStatus === 403) {
      return {
        unavailable:
          `Microsoft Graph refused to read the app registration (${outcome.error.graphCode}): ` +
          'it needs the Application.Read.All application permission (Directory.Read.All also allows it).',
      };
    }
    return {
      unavailable: `Not read: Microsoft Graph answered ${outcome.error.graphStatus} ${outcome.error.graphCode}.`,
    };
  }
  const app = valueOf(outcome.body)[0];
  if (!app) {
    return {
      unavailable:
        'The app registration is not in this tenant (a multitenant app registered in another tenant): its secrets can be read only in its home tenant.',
    };
  }
  const hint = secret.slice(0, 3);
  const credentials = (Array.isArray(app.passwordCredentials) ? (app.passwordCredentials as unknown[]) : [])
    .filter((c): c is Record<string, unknown> => !!c && typeof c === 'object')
    .map((c) => ({
      keyId: c.keyId,
      hint: c.hint,
      displayName: c.displayName,
      end: typeof c.endDateTime === 'string' ? Date.parse(c.endDateTime) : NaN,
    }))
    .filter((c) => typeof c.keyId === 'string' && c.hint === hint && Number.isFinite(c.end));
  if (credentials.length === 0) {
    return {
      unavailable:
        "None of the app's client secrets has the hint (first three characters) of the secret in use; it may have been deleted or replaced.",
    };
  }
  // The token was issued, so the secret in use has not ended; among look-alikes, the soonest to end.
  credentials.sort((a, b) => Number(b.end > now) - Number(a.end > now) || a.end - b.end);
  const c = credentials[0]!;
  return {
    keyId: untrusted(c.keyId, 64),
    hint: untrusted(c.hint, 3),
    displayName: typeof c.displayName === 'string' ? untrusted(c.displayName, 200) : null,
    endDateTime: new Date(c.end).toISOString(),
    daysLeft: Math.floor((c.end - now) / DAY),
  };
}
