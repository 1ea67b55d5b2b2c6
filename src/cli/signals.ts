// Stopping long-running commands on SIGINT (Ctrl+C) and SIGTERM (service managers, containers).
// The first signal stops cleanly — collections interrupted and recorded, the store closed — within
// a time limit; a second one exits at once, for when the operator will not wait.
import type { Logger } from '../log.js';

/** 128 + the signal's number, as shells report a process ended by it. */
export const SIGNAL_EXIT_CODES = { SIGINT: 130, SIGTERM: 143 } as const;
export type StopSignal = keyof typeof SIGNAL_EXIT_CODES;

/** A clean stop, signal to exit, stays under 10 s: what service managers commonly wait before SIGKILL. */
export const STOP_LIMIT_MS = 9_000;

/**
 * Calls `first` on the first SIGINT or SIGTERM; a second one exits at once with its code (130 or
 * 143). Returns a function that removes the handlers.
 */
export function onStopSignals(first: (signal: StopSignal) => void): () => void {
  let received: StopSignal | undefined;
  const handle = (signal: StopSignal) => {
    if (received) {
      process.stderr.write(`idsight: ${signal} again: exiting at once without finishing the stop\n`);
      process.exit(SIGNAL_EXIT_CODES[signal]);
    }
    received = signal;
    first(signal);
  };
  const handlers = (Object.keys(SIGNAL_EXIT_CODES) as StopSignal[]).map((signal) => {
    const listener = () => handle(signal);
    process.on(signal, listener);
    return () => process.off(signal, listener);
  });
  return () => {
    for (const off of handlers) off();
  };
}

export interface GracefulStop {
  /** True once a stop signal came. */
  readonly stopping: boolean;
  /** What stopping does; replaced as the command gets further (the demo sets one before its API is up and another after). */
  set(procedure: (signal: StopSignal) => Promise<void>): void;
}

/**
 * For commands that run until stopped (serve, demo): the first signal runs the stop procedure
 * and exits 0 when it completes, 1 when it fails or outlasts STOP_LIMIT_MS; a second signal exits
 * at once (130/143).
 */
export function gracefulStop(log: Logger, limitMs = STOP_LIMIT_MS): GracefulStop {
  let procedure: (signal: StopSignal) => Promise<void> = async () => undefined;
  let stopping = false;
  onStopSignals((signal) => {
    stopping = true;
    const started = performance.now();
    log.info({ signal }, 'stopping');
    const limit = setTimeout(() => {
      log.error(
        { signal, limitMs },
        'could not stop cleanly in time: exiting; a run still marked running is taken over once its lease runs out',
      );
      process.exit(1);
    }, limitMs);
    procedure(signal).then(
      () => {
        clearTimeout(limit);
        log.info({ signal, ms: Math.round(performance.now() - started) }, 'stopped');
        process.exit(0);
      },
      (err: unknown) => {
        clearTimeout(limit);
        log.error({ err, signal }, 'could not stop cleanly');
        process.exit(1);
      },
    );
  });
  return {
    get stopping() {
      return stopping;
    },
    set(p) {
      procedure = p;
    },
  };
}
