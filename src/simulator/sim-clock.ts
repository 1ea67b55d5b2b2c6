// The simulated tenant's clock: real time or a fixed instant, both movable forward through the
// control API so tests can make sign-ins arrive, tokens expire and delta tokens go stale.
import type { Clock } from '../clock.js';

export interface SimClock extends Clock {
  advance(ms: number): void;
  readonly mode: 'real' | 'fixed';
}

/** `real`, or `fixed:<ISO timestamp>`. */
export function parseClockSpec(spec: string): { mode: 'real' } | { mode: 'fixed'; at: number } {
  if (spec === 'real') return { mode: 'real' };
  if (spec.startsWith('fixed:')) {
    const at = Date.parse(spec.slice('fixed:'.length));
    if (Number.isFinite(at)) return { mode: 'fixed', at };
  }
  throw new Error(`--clock must be "real" or "fixed:<ISO timestamp>", not ${JSON.stringify(spec)}`);
}

export function createSimClock(spec: string): SimClock {
  const parsed = parseClockSpec(spec);
  let offset = 0;
  const base = parsed.mode === 'fixed' ? () => parsed.at : () => Date.now();
  return {
    mode: parsed.mode,
    now: () => base() + offset,
    advance(ms: number) {
      if (!(ms >= 0)) throw new Error('the simulated clock only moves forward');
      offset += ms;
    },
  };
}
