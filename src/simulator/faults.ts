// Fault knobs: what a real tenant does to a collector on a bad day. Set with --faults k=v,…
// at start and changed at run time through the control API.
import { z } from 'zod';
import { Rng } from './random.js';

const rate = z.coerce.number().min(0).max(1);
const nonNegative = z.coerce.number().min(0);

export const faultSchema = z
  .object({
    /** Extra latency per Graph page, ms. */
    latencyMs: nonNegative.default(0),
    /** Extra latency per record in a page, ms. */
    latencyPerRecordMs: nonNegative.default(0),
    /** Share of Graph requests answered 429 (with Retry-After) regardless of the budget. */
    rate429: rate.default(0),
    rate503: rate.default(0),
    rate504: rate.default(0),
    /** Share of Graph responses whose body is broken: truncated JSON or an HTML error page. */
    malformedRate: rate.default(0),
    /** Share of Graph requests whose connection is reset before any response. */
    resetRate: rate.default(0),
    /** Access token lifetime, seconds (Microsoft: 3,600–5,400). */
    tokenLifetime: z.coerce.number().int().min(5).max(86_400).default(3_900),
    /** Each sign-in becomes visible up to this many minutes after it happened. */
    lateMinutes: nonNegative.default(0),
    /** Share of sign-ins re-published later with the same id and changed fields (risk added, MFA detail aggregated). */
    republishRate: rate.default(0),
    /** The re-published version appears up to this many minutes after the first. */
    republishMinutes: nonNegative.default(120),
    /** Lifetime of a page's skiptoken, seconds of simulated time. */
    skiptokenTtl: z.coerce.number().int().min(1).default(3_600),
  })
  .strict();

export type Faults = z.infer<typeof faultSchema>;

/** Parses `k=v,k=v` (the --faults flag); throws a message naming the bad knob. */
export function parseFaults(spec: string | undefined, base: Faults = faultSchema.parse({})): Faults {
  if (!spec) return base;
  const entries: Record<string, string> = {};
  for (const part of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`"${part}" is not key=value`);
    entries[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return updateFaults(base, entries);
}

/** Returns `base` with `changes` applied, or throws naming the knob that is wrong. */
export function updateFaults(base: Faults, changes: Record<string, unknown>): Faults {
  const parsed = faultSchema.safeParse({ ...base, ...changes });
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const knob = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '');
    throw new Error(`fault ${knob}: ${issue.message}. Knobs: ${Object.keys(faultSchema.shape).join(', ')}`);
  }
  return parsed.data;
}

/** Draws which fault, if any, strikes the next Graph request (a seeded sequence: reproducible runs). */
export function createFaultDice(seed: number) {
  const rng = new Rng(seed ^ 0x5eed);
  return (f: Faults): 'reset' | '429' | '503' | '504' | 'malformed' | undefined => {
    const r = rng.next();
    let edge = f.resetRate;
    if (r < edge) return 'reset';
    if (r < (edge += f.rate429)) return '429';
    if (r < (edge += f.rate503)) return '503';
    if (r < (edge += f.rate504)) return '504';
    if (r < (edge += f.malformedRate)) return 'malformed';
    return undefined;
  };
}
