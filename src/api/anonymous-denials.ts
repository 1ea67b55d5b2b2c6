// Requests refused for want of credentials cost an attacker nothing, so they must not cost the
// audit log a row each: per address and minute they are counted, and one summary row says how
// many were refused and on what; past a limit an address is refused at once with 429.
import type { AuditLog } from '../audit/log.js';
import type { Clock } from '../clock.js';

/** Refusals an address may draw in a minute before it is answered 429 without being looked at. */
export const ANONYMOUS_DENIALS_PER_MINUTE = 60;
/** Addresses counted at once (a flood from many addresses writes its summaries early). */
const MAX_ADDRESSES = 10_000;

interface Tally {
  minute: number;
  from: number;
  to: number;
  requests: number;
  tooMany: number;
  actions: Map<string, number>;
}

export function createAnonymousDenials(deps: { audit: Pick<AuditLog, 'record'>; clock: Clock }) {
  const tallies = new Map<string, Tally>();
  const minuteOf = (ms: number) => Math.floor(ms / 60_000);

  async function write(ip: string, t: Tally): Promise<void> {
    await deps.audit.record({
      actor: { type: 'anonymous', id: null, label: null },
      action: 'anonymous.denied',
      ip,
      outcome: 'denied',
      status: t.tooMany > 0 ? 429 : 401,
      detail: {
        requests: t.requests,
        refusedAsTooMany: t.tooMany,
        actions: Object.fromEntries(t.actions),
        from: new Date(t.from).toISOString(),
        to: new Date(t.to).toISOString(),
      },
    });
  }

  /** Writes the summaries of the minutes that are over (all of them with `all`). */
  async function flush(all = false): Promise<void> {
    const now = minuteOf(deps.clock.now());
    for (const [ip, t] of [...tallies]) {
      if (!all && t.minute >= now) continue;
      tallies.delete(ip);
      await write(ip, t);
    }
  }

  return {
    /** True when the address has drawn more refusals this minute than it may. */
    overLimit(ip: string): boolean {
      const t = tallies.get(ip);
      return t !== undefined && t.minute === minuteOf(deps.clock.now()) && t.requests >= ANONYMOUS_DENIALS_PER_MINUTE;
    },

    /** Counts one refused anonymous request (its audit action, and whether it was refused as too many). */
    async note(ip: string, action: string, tooMany: boolean): Promise<void> {
      const now = deps.clock.now();
      let t = tallies.get(ip);
      if (t && t.minute !== minuteOf(now)) {
        tallies.delete(ip);
        await write(ip, t);
        t = undefined;
      }
      if (!t) {
        if (tallies.size >= MAX_ADDRESSES) {
          const [oldest, tally] = tallies.entries().next().value!;
          tallies.delete(oldest);
          await write(oldest, tally);
        }
        t = { minute: minuteOf(now), from: now, to: now, requests: 0, tooMany: 0, actions: new Map() };
        tallies.set(ip, t);
      }
      t.requests++;
      t.to = now;
      if (tooMany) t.tooMany++;
      t.actions.set(action, (t.actions.get(action) ?? 0) + 1);
    },

    flush,
  };
}
export type AnonymousDenials = ReturnType<typeof createAnonymousDenials>;
