// Every collection this process runs — on schedule, Collect Now from the API or the CLI, the
// demo's first one — goes through one supervisor, which keeps an AbortController for each. So a
// stopping process can interrupt them all at a page boundary and wait until each run is recorded
// as interrupted (its lease released) before the store closes, and starts nothing new meanwhile.
import { UnavailableError } from '../errors.js';
import type { RunOutcome } from '../api/routes/integrations/schema.js';
import type { Collector } from './runner.js';

/** The reason a supervised collection was aborted: the process is stopping. */
export class CollectionStopped extends Error {
  override name = 'CollectionStopped';
}

type RunOptions = Omit<NonNullable<Parameters<Collector['run']>[1]>, 'signal'>;

export function createSupervisor(deps: { collector: Pick<Collector, 'run'> }) {
  const running = new Set<{ controller: AbortController; settled: Promise<void> }>();
  let stopped: Promise<void> | undefined;

  return {
    /** True once stop() was called: nothing new starts. */
    get stopping(): boolean {
      return stopped !== undefined;
    },

    /** Collections in progress. */
    get active(): number {
      return running.size;
    },

    /**
     * Collects as `Collector.run` does, under supervision. Refused with UnavailableError (503)
     * once the process is stopping.
     */
    async run(integrationId: string, opts: RunOptions = {}): Promise<RunOutcome[]> {
      if (stopped)
        throw new UnavailableError(
          'idsight is stopping and starts no collection now: ask again once it has restarted (the next run resumes where the last one stopped)',
        );
      const controller = new AbortController();
      const outcome = deps.collector.run(integrationId, { ...opts, signal: controller.signal });
      const entry = {
        controller,
        settled: outcome.then(
          () => undefined,
          () => undefined,
        ),
      };
      running.add(entry);
      void entry.settled.then(() => running.delete(entry));
      return outcome;
    },

    /**
     * Stops taking work, aborts every collection in progress (`why` becomes their runs' error)
     * and resolves once each has recorded its end. Calling it again returns the same wait.
     */
    stop(why = 'idsight is stopping'): Promise<void> {
      stopped ??= (async () => {
        const all = [...running];
        for (const e of all) e.controller.abort(new CollectionStopped(why));
        await Promise.all(all.map((e) => e.settled));
      })();
      return stopped;
    },
  };
}
export type Supervisor = ReturnType<typeof createSupervisor>;
