// Microsoft Graph's throttling as documented (reference/graph-facts.md §6): identity and access
// reports 5 requests per 10 s per app per tenant, signInActivity 10 per minute, identity
// protection and conditional access 1 per second per tenant with no Retry-After, and directory
// reads as resource-unit token buckets sized by the tenant. Runs on real elapsed time even when
// the simulated clock is fixed: throttling is about how fast a client calls. `scale` (the
// --throttle-scale flag) multiplies every window, refill period and so every Retry-After, for
// benchmarks that measure pacing in less time: 0.05 makes the reports limit 5 per 500 ms.
import { Rng } from '../random.js';

export type ThrottleFamily = 'reports' | 'signInActivity' | 'identityProtection' | 'directory' | 'none';

export interface ThrottleDecision {
  /** Seconds to wait (Graph's Retry-After), null when Microsoft sends none; undefined = allowed. */
  retryAfter?: string | null;
  /** Resource units charged (directory requests), for the x-ms-resource-unit header. */
  resourceUnits?: number;
}

const WINDOWS: Record<'reports' | 'signInActivity' | 'identityProtection', { limit: number; windowMs: number }> = {
  reports: { limit: 5, windowMs: 10_000 },
  signInActivity: { limit: 10, windowMs: 60_000 },
  identityProtection: { limit: 1, windowMs: 1_000 },
};

/** Resource units per 10 s for an app+tenant pair by tenant size (S < 50 users, M ≤ 500, L). */
export const resourceUnitQuota = (users: number): number => (users < 50 ? 3_500 : users <= 500 ? 5_000 : 8_000);

/** The directory buckets refill their whole quota over this period (before scaling). */
const DIRECTORY_REFILL_MS = 10_000;

export interface ThrottleOptions {
  enabled: () => boolean;
  now?: () => number;
  scale?: number;
  /** Uniform in [0, 1): rounds the reports family's Retry-After (seeded, so runs repeat). */
  random?: () => number;
}

export function createThrottle(opts: ThrottleOptions) {
  const now = opts.now ?? (() => performance.now());
  const random = opts.random ?? seededRandom(0);
  const scale = opts.scale ?? 1;
  if (!(scale > 0 && scale <= 1)) throw new Error(`throttle scale must be greater than 0 and at most 1, not ${scale}`);
  const refillMs = DIRECTORY_REFILL_MS * scale;
  const windows = new Map<string, number[]>();
  const buckets = new Map<string, { tokens: number; at: number }>();

  function slidingWindow(key: string, limit: number, windowMs: number): number | undefined {
    const t = now();
    const log = (windows.get(key) ?? []).filter((at) => at > t - windowMs);
    windows.set(key, log);
    if (log.length >= limit) return log[0]! + windowMs - t;
    log.push(t);
    return undefined;
  }

  return {
    /**
     * Charges one request. `scope` names the budget's owner: tenant and app (reports,
     * directory) or the tenant alone (identity protection and conditional access).
     */
    check(
      family: ThrottleFamily,
      tenantId: string,
      appId: string,
      opts2: { cost?: number; tenantUsers?: number } = {},
    ): ThrottleDecision {
      if (family === 'none') return {};
      if (family === 'directory') {
        const cost = opts2.cost ?? 1;
        if (!opts.enabled()) return { resourceUnits: cost };
        const quota = resourceUnitQuota(opts2.tenantUsers ?? 0);
        const key = `${tenantId}/${appId}`;
        const t = now();
        const b = buckets.get(key) ?? { tokens: quota, at: t };
        b.tokens = Math.min(quota, b.tokens + ((t - b.at) * quota) / refillMs);
        b.at = t;
        buckets.set(key, b);
        if (b.tokens < cost)
          return { retryAfter: seconds(((cost - b.tokens) * refillMs) / quota), resourceUnits: cost };
        b.tokens -= cost;
        return { resourceUnits: cost };
      }
      if (!opts.enabled()) return {};
      const w = WINDOWS[family];
      const key = family === 'identityProtection' ? `${family}/${tenantId}` : `${family}/${tenantId}/${appId}`;
      const wait = slidingWindow(key, w.limit, w.windowMs * scale);
      if (wait === undefined) return {};
      // Identity protection and conditional access do not send Retry-After.
      return { retryAfter: family === 'identityProtection' ? null : wholeSeconds(wait, scale, random) };
    },
    reset() {
      windows.clear();
      buckets.clear();
    },
  };
}
export type Throttle = ReturnType<typeof createThrottle>;

/** A seeded source of uniform numbers in [0, 1) for the throttle (the simulator passes its --seed). */
export const seededRandom = (seed: number): (() => number) => {
  const rng = new Rng(seed ^ 0x7e7a11e);
  return () => rng.next();
};

/** Seconds as a header value: whole when whole, else up to three decimals ("2.128"). */
const decimal = (s: number): string => (Number.isInteger(s) ? String(s) : s.toFixed(3).replace(/\.?0+$/, ''));

/**
 * The reports family's Retry-After: whole seconds, as Graph sends them for the reports APIs, so
 * an approximation of the wait its window needs. The exact wait is rounded down or up at random,
 * in proportion to its fraction (stochastic rounding): on average the hint is exact, but a client
 * that obeys it arrives up to a second early (and meets another 429) or late, as it does against
 * Graph. It is never under 1 s and never a second or more off the exact wait. Rounding happens
 * on Microsoft's clock (the wait divided by `scale`) and the result is scaled back, so with
 * --throttle-scale the header is fractional: a whole "3" at scale 0.05 reads "0.15" (three
 * decimals at most, never under "0.001").
 */
export function wholeSeconds(ms: number, scale: number, random: () => number): string {
  const exact = ms / scale / 1000;
  const whole = Math.max(1, Math.floor(exact + random()));
  return decimal(Math.max(0.001, whole * scale));
}

/**
 * The directory buckets' Retry-After: fractional seconds ("2.128", Microsoft's throttling sample
 * shows that form), rounded up to the millisecond. Kept exact: no document says how Graph rounds
 * it for resource-unit throttling, and these waits are milliseconds long.
 */
function seconds(ms: number): string {
  return decimal(Math.max(1, Math.ceil(ms - 1e-6)) / 1000);
}
