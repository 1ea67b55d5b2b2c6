// The simulator's settings: `idsight simulate` flags, validated once.
import { z } from 'zod';
import { parseFaults, type Faults } from './faults.js';
import { parseClockSpec } from './sim-clock.js';

export const simulatorOptionsSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65_535).default(0),
    seed: z.coerce
      .number()
      .int()
      .min(0)
      .max(2 ** 32 - 1)
      .default(1),
    users: z.coerce.number().int().min(12).max(1_000_000).default(500),
    days: z.coerce.number().int().min(1).max(90).default(30),
    /** Interactive sign-ins per active user per day; default 4 (0.5 in the quiet scenario). */
    signinsPerUserDay: z.coerce.number().min(0).max(1_000).optional(),
    scenario: z.enum(['default', 'quiet', 'attacks']).default('default'),
    throttle: z.enum(['microsoft', 'off']).default('microsoft'),
    /**
     * Multiplies every throttle window, refill period and Retry-After (0.05: reports 5 per
     * 500 ms), so benchmarks of pacing stay short; the limits themselves are unchanged.
     */
    throttleScale: z.coerce
      .number()
      .refine((n) => Number.isFinite(n) && n > 0 && n <= 1, 'must be a number greater than 0 and at most 1')
      .default(1),
    faults: z.string().optional(),
    clock: z
      .string()
      .default('real')
      .refine((s) => {
        try {
          parseClockSpec(s);
          return true;
        } catch {
          return false;
        }
      }, 'must be "real" or "fixed:<ISO timestamp>"'),
    stateDir: z.string().min(1),
    /** Serve the /_sim/ control API (ground truth, clock, faults, directory changes). */
    control: z.boolean().default(false),
    /** Bearer token for the control API; generated when absent. */
    controlToken: z.string().min(16).optional(),
  })
  .strict();

export type SimulatorOptionsInput = z.input<typeof simulatorOptionsSchema>;
export type SimulatorOptions = Omit<z.infer<typeof simulatorOptionsSchema>, 'signinsPerUserDay'> & {
  signinsPerUserDay: number;
  initialFaults: Faults;
};

/** A bad option; its message names the flag. */
export class SimulatorOptionError extends Error {}

/** Validates options; throws SimulatorOptionError naming the bad option. */
export function parseSimulatorOptions(input: SimulatorOptionsInput): SimulatorOptions {
  const parsed = simulatorOptionsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const name = issue.path.join('.').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    throw new SimulatorOptionError(`--${name}: ${issue.message}`);
  }
  const data = parsed.data;
  let initialFaults: Faults;
  try {
    initialFaults = parseFaults(data.faults);
  } catch (err) {
    throw new SimulatorOptionError(`--faults: ${(err as Error).message}`);
  }
  return { ...data, signinsPerUserDay: data.signinsPerUserDay ?? (data.scenario === 'quiet' ? 0.5 : 4), initialFaults };
}
