// Throttle budgets: one per (tenant, app, API family), shared by everything that talks to that
// integration — collectors running concurrently and the connectivity test — so that together
// they stay under Microsoft Graph's documented limits (reference/graph-facts.md §6) and a
// well-behaved run sees no 429 at all. Identity protection and conditional access are limited
// per tenant for all apps, so that family is shared by every app of a tenant.
//
// Each family is a FIFO lane in front of a limiter: a sliding window of request counts (identity
// and access reports 5 per 10 s, signInActivity 10 per minute, identity protection 1 per second,
// Intune) or a token bucket of resource units (directory reads: 3,500 RU per 10 s, the smallest
// tenant's quota, each request costing what Microsoft documents). Graph counts a request when it
// arrives, and we only know when it was sent and when it was answered: a window slot counts from
// the answer (it arrived before), or from the send plus `skewMs` when the answer is slow, so the
// next request in that slot can never reach Graph inside the window. A 429 pauses the whole
// family — every caller — for Retry-After, or for a jittered backoff that grows with consecutive
// throttles when Graph sends none (identity protection never does).
import { setTimeout as delay } from 'node:timers/promises';

export type Family = 'reports' | 'signInActivity' | 'identityProtection' | 'directory' | 'intune';
export const FAMILIES: readonly Family[] = ['reports', 'signInActivity', 'identityProtection', 'directory', 'intune'];

/** A sliding window of `limit` requests per `windowMs`, or a bucket of `capacity` units refilled every `refillMs`. */
export type FamilyLimit =
  { kind: 'window'; limit: number; windowMs: number } | { kind: 'bucket'; capacity: number; refillMs: number };

/** Microsoft's documented limits per app per tenant (identity protection: per tenant), as of 2025. */
export const MICROSOFT_LIMITS: Readonly<Record<Family, FamilyLimit>> = {
  reports: { kind: 'window', limit: 5, windowMs: 10_000 },
  signInActivity: { kind: 'window', limit: 10, windowMs: 60_000 },
  identityProtection: { kind: 'window', limit: 1, windowMs: 1_000 },
  // S tenants (< 50 users) get 3,500 RU per 10 s, larger ones 5,000 or 8,000: the smallest is safe for all
  directory: { kind: 'bucket', capacity: 3_500, refillMs: 10_000 },
  // Intune publishes no per-app figure for these reads that applies here; generous but bounded
  intune: { kind: 'window', limit: 100, windowMs: 20_000 },
};

export interface FamilyStats {
  /** Requests granted a slot. */
  requests: number;
  /** 429 answers reported through penalize. */
  throttled: number;
  /** Time callers spent waiting in acquire, ms. */
  waitedMs: number;
}

/** A granted slot. Call done() when Graph answers (or the attempt fails): it dates the slot. */
export interface BudgetPermit {
  readonly family: Family;
  /** How long this acquire waited, ms. */
  readonly waitedMs: number;
  /** The request was answered (`status`) or ended without an answer (no status); a 2xx clears the family's throttle streak. */
  done(status?: number): void;
}

export interface IntegrationBudget {
  readonly tenantId: string;
  readonly appId: string;
  /** The throttling family of a Graph path or URL. */
  family(pathOrUrl: string): Family;
  /** Directory resource units a request costs (1 for the other families' purposes). */
  cost(pathOrUrl: string, method?: string): number;
  /** Requests per second the family allows over time (directory: resource units per second). */
  throughput(family: Family): number;
  /**
   * Waits for a slot of `family` (`cost` resource units for directory): first come first served,
   * except that a lower `priority` (default 0) goes before a higher one waiting.
   */
  acquire(family: Family, signal?: AbortSignal, cost?: number, priority?: number): Promise<BudgetPermit>;
  /**
   * Graph answered 429: pauses the family for every caller, `retryAfterMs` when Graph said how
   * long, else a jittered backoff growing with consecutive throttles. Returns the pause, ms.
   */
  penalize(family: Family, retryAfterMs?: number): number;
  /** Counters per family, for this tenant and app. */
  stats(): Record<Family, FamilyStats>;
}

export interface ThrottleBudgets {
  /** The budget of one app in one tenant: the same object for the same pair (ids compared case-insensitively). */
  for(tenantId: string, appId: string): IntegrationBudget;
}

export interface ThrottleBudgetOptions {
  /** Multiplies every window, refill period and computed backoff (0.01: 10 s → 100 ms), for scaled simulators. */
  scale?: number;
  /** Monotonic ms (default performance.now). */
  now?: () => number;
  /** Waits `ms` or until `signal` aborts (resolving or rejecting); default node's timers. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<unknown>;
  /** Jitter source for backoffs (default Math.random). */
  random?: () => number;
  /** Overrides of Microsoft's limits, before scaling. */
  limits?: Partial<Record<Family, FamilyLimit>>;
  /**
   * Longest a request may take to reach Graph after it is sent, ms. Default 250; a rig whose
   * throttle is scaled down answers over loopback, so its allowance shrinks with it, but not below
   * 50 ms (a busy machine's event loop delays a request's count by tens of milliseconds).
   */
  skewMs?: number;
}

// ------------------------------------------------------------------ classification

const REPORTS = /^(auditLogs\/(signIns|directoryAudits|provisioning)|reports)(\/|$)/i;
const PROTECTION = /^(identityProtection|identity\/conditionalAccess|riskyUsers|riskDetections)(\/|$)/i;
const INTUNE = /^deviceManagement(\/|$)/i;
const SIGN_IN_ACTIVITY = /(^|,)\s*signInActivity\s*(,|$)/i;

/** The path after the Graph version ("users/delta") and the query of a Graph path or URL. */
function splitGraphUrl(pathOrUrl: string): { path: string; query: URLSearchParams } {
  let url: URL;
  try {
    url = new URL(pathOrUrl, 'https://graph.invalid');
  } catch {
    return { path: pathOrUrl, query: new URLSearchParams() };
  }
  let path: string;
  try {
    path = decodeURIComponent(url.pathname);
  } catch {
    path = url.pathname;
  }
  const versioned = /\/(?:v1\.0|beta)\/(.*)$/i.exec(path);
  return { path: (versioned ? versioned[1]! : path.replace(/^\/+/, '')).replace(/\/+$/, ''), query: url.searchParams };
}

/** The throttling family Graph applies to a path or URL (reference/graph-facts.md §6). */
export function classifyFamily(pathOrUrl: string): Family {
  const { path, query } = splitGraphUrl(pathOrUrl);
  if (REPORTS.test(path)) return 'reports';
  if (PROTECTION.test(path)) return 'identityProtection';
  if (INTUNE.test(path)) return 'intune';
  if (
    /^users(\/|$)/i.test(path) &&
    (SIGN_IN_ACTIVITY.test(query.get('$select') ?? '') || /signInActivity\//i.test(query.get('$filter') ?? ''))
  ) {
    return 'signInActivity';
  }
  return 'directory';
}

/**
 * Directory resource units, as documented: GET users 2, applications 2, groups/{id}/members 3,
 * transitiveMembers 5, subscribedSkus 3, servicePrincipals/{id}/appRoleAssignments 2,
 * POST directoryObjects/getByIds 5, any other request 1 (writes 1); $select −1, $expand +1,
 * $top under 20 −1; at least 1.
 */
export function resourceUnits(pathOrUrl: string, method = 'GET'): number {
  const { path, query } = splitGraphUrl(pathOrUrl);
  const p = path.toLowerCase();
  let cost = 1;
  if (method.toUpperCase() === 'GET') {
    if (/^users(\/|$)/.test(p) && !/^users\/[^/]+\/./.test(p)) cost = 2;
    else if (/^applications(\/[^/]+)?$/.test(p)) cost = 2;
    else if (/^groups\/[^/]+\/members$/.test(p)) cost = 3;
    else if (/^groups\/[^/]+\/transitivemembers$/.test(p)) cost = 5;
    else if (p === 'subscribedskus') cost = 3;
    else if (/^serviceprincipals\/[^/]+\/approleassignments$/.test(p)) cost = 2;
  } else if (method.toUpperCase() === 'POST' && p === 'directoryobjects/getbyids') {
    cost = 5;
  }
  if (query.has('$select')) cost -= 1;
  if (query.has('$expand')) cost += 1;
  const top = query.get('$top');
  if (top !== null && Number(top) < 20) cost -= 1;
  return Math.max(1, cost);
}

/** Exponential backoff with jitter in the upper half: streak 1 → 0.5–1 s, 2 → 1–2 s, … capped at 30 s. */
export function jitteredBackoffMs(streak: number, random: () => number = Math.random): number {
  const cap = Math.min(30_000, 1000 * 2 ** Math.max(0, streak - 1));
  return Math.round(cap / 2 + (random() * cap) / 2);
}

// ------------------------------------------------------------------ limiters

interface Slot {
  grantedAt: number;
  doneAt?: number;
}

interface Limiter {
  /** When a request of `cost` could go, given the slots in use (≤ t: now). */
  readyAt(t: number, cost: number): number;
  take(t: number, cost: number): Slot;
}

function windowLimiter(limit: number, windowMs: number, skewMs: number): Limiter {
  let slots: Slot[] = [];
  // the time Graph counted the request at the latest: its answer, or its send plus the skew
  const expiry = (s: Slot) => Math.min(s.doneAt ?? Infinity, s.grantedAt + skewMs) + windowMs;
  return {
    readyAt(t) {
      slots = slots.filter((s) => expiry(s) > t);
      if (slots.length < limit) return t;
      const ends = slots.map(expiry).sort((a, b) => a - b);
      return ends[slots.length - limit]!;
    },
    take(t) {
      const slot = { grantedAt: t };
      slots.push(slot);
      return slot;
    },
  };
}

function bucketLimiter(capacity: number, refillMs: number): Limiter {
  const rate = capacity / refillMs;
  let tokens = capacity;
  let at = -Infinity;
  const refill = (t: number) => {
    tokens = at === -Infinity ? capacity : Math.min(capacity, tokens + (t - at) * rate);
    at = t;
  };
  return {
    readyAt(t, cost) {
      refill(t);
      const need = Math.min(cost, capacity);
      return tokens >= need ? t : t + (need - tokens) / rate;
    },
    take(t, cost) {
      refill(t);
      tokens -= Math.min(cost, capacity);
      return { grantedAt: t };
    },
  };
}

// ------------------------------------------------------------------ lanes

interface Waiter {
  cost: number;
  priority: number;
  since: number;
  resolve(slot: Slot): void;
  reject(reason: unknown): void;
  unlisten(): void;
}

/** One family's queue in front of its limiter, shared by every caller of that family. */
class Lane {
  private readonly queue: Waiter[] = [];
  private timer: AbortController | undefined;
  private pausedUntil = -Infinity;
  /** Consecutive 429s without a success in between. */
  streak = 0;

  constructor(
    private readonly limiter: Limiter,
    private readonly now: () => number,
    private readonly sleep: (ms: number, signal: AbortSignal) => Promise<unknown>,
  ) {}

  acquire(cost: number, signal: AbortSignal | undefined, priority = 0): Promise<{ slot: Slot; waitedMs: number }> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const since = this.now();
      const onAbort = () => {
        const i = this.queue.indexOf(waiter);
        if (i >= 0) this.queue.splice(i, 1);
        reject(signal!.reason);
        this.pump();
      };
      const waiter: Waiter = {
        cost,
        priority,
        since,
        resolve: (slot) => resolve({ slot, waitedMs: Math.max(0, slot.grantedAt - since) }),
        reject,
        unlisten: () => signal?.removeEventListener('abort', onAbort),
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      // behind every waiter of its priority or a more urgent one
      const at = this.queue.findIndex((w) => w.priority > priority);
      this.queue.splice(at < 0 ? this.queue.length : at, 0, waiter);
      this.pump();
    });
  }

  pause(ms: number): void {
    this.pausedUntil = Math.max(this.pausedUntil, this.now() + ms);
    this.pump();
  }

  /** Grants what can go now, in order; otherwise sleeps until the head could go. */
  pump(): void {
    this.timer?.abort();
    this.timer = undefined;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const t = this.now();
      const at = Math.max(this.pausedUntil, this.limiter.readyAt(t, head.cost));
      if (at > t) {
        const timer = new AbortController();
        this.timer = timer;
        this.sleep(Math.max(1, Math.ceil(at - t)), timer.signal).then(
          () => {
            if (this.timer !== timer) return;
            this.timer = undefined;
            this.pump();
          },
          () => {},
        );
        return;
      }
      this.queue.shift();
      head.unlisten();
      head.resolve(this.limiter.take(t, head.cost));
    }
  }
}

// ------------------------------------------------------------------ the registry

const emptyStats = (): Record<Family, FamilyStats> =>
  Object.fromEntries(FAMILIES.map((f) => [f, { requests: 0, throttled: 0, waitedMs: 0 }])) as Record<
    Family,
    FamilyStats
  >;

export function createThrottleBudgets(opts: ThrottleBudgetOptions = {}): ThrottleBudgets {
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && Number.isFinite(scale)))
    throw new Error(`throttle budget scale must be a positive number, not ${scale}`);
  const now = opts.now ?? (() => performance.now());
  const sleep = opts.sleep ?? ((ms: number, signal: AbortSignal) => delay(ms, undefined, { signal }));
  const random = opts.random ?? Math.random;
  const skewMs = opts.skewMs ?? Math.max(50, 250 * scale);
  const limits = { ...MICROSOFT_LIMITS, ...opts.limits };
  const lanes = new Map<string, Lane>();
  const budgets = new Map<string, IntegrationBudget>();

  function lane(tenantId: string, appId: string, family: Family): Lane {
    // identity protection and conditional access: one budget per tenant, for all apps
    const key = family === 'identityProtection' ? `${tenantId}\n\n${family}` : `${tenantId}\n${appId}\n${family}`;
    let l = lanes.get(key);
    if (!l) {
      const limit = limits[family];
      const limiter =
        limit.kind === 'window'
          ? windowLimiter(limit.limit, limit.windowMs * scale, skewMs)
          : bucketLimiter(limit.capacity, limit.refillMs * scale);
      l = new Lane(limiter, now, sleep);
      lanes.set(key, l);
    }
    return l;
  }

  function create(tenantId: string, appId: string): IntegrationBudget {
    const counters = emptyStats();
    return {
      tenantId,
      appId,
      family: classifyFamily,
      cost: resourceUnits,
      throughput(family) {
        const limit = limits[family];
        return limit.kind === 'window'
          ? (limit.limit / (limit.windowMs * scale)) * 1000
          : (limit.capacity / (limit.refillMs * scale)) * 1000;
      },
      async acquire(family, signal, cost = 1, priority = 0) {
        const l = lane(tenantId, appId, family);
        const { slot, waitedMs } = await l.acquire(family === 'directory' ? Math.max(1, cost) : 1, signal, priority);
        const c = counters[family];
        c.requests++;
        c.waitedMs += waitedMs;
        return {
          family,
          waitedMs,
          done(status) {
            if (slot.doneAt !== undefined) return;
            slot.doneAt = now();
            if (status !== undefined && status >= 200 && status < 300) l.streak = 0;
            l.pump();
          },
        };
      },
      penalize(family, retryAfterMs) {
        const l = lane(tenantId, appId, family);
        counters[family].throttled++;
        l.streak++;
        const ms =
          retryAfterMs !== undefined && Number.isFinite(retryAfterMs)
            ? Math.max(0, retryAfterMs)
            : Math.round(jitteredBackoffMs(l.streak, random) * scale);
        l.pause(ms);
        return ms;
      },
      stats() {
        return Object.fromEntries(FAMILIES.map((f) => [f, { ...counters[f] }])) as Record<Family, FamilyStats>;
      },
    };
  }

  return {
    for(tenantId, appId) {
      const t = tenantId.trim().toLowerCase();
      const a = appId.trim().toLowerCase();
      const key = `${t}\n${a}`;
      let b = budgets.get(key);
      if (!b) {
        b = create(t, a);
        budgets.set(key, b);
      }
      return b;
    },
  };
}
