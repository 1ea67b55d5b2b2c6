// Removing an integration together with its collected data, in steps a crash cannot break: the
// row is marked 'removing' first (from then on the API, the CLI, the schedule and collection no
// longer see it), its data is deleted in batches, its collection state and run history are
// forgotten, and the row itself goes last. Whatever stops the work midway (a crash, a stop, a
// failing statement), the row is still there, marked, and the next start finishes the job: every
// step deletes what is left, so repeating one is harmless.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { CollectionRepo } from '../store/collection.js';
import type { DatasetRepo } from '../store/datasets.js';
import type { IntegrationRepo } from '../store/integrations.js';
import type { SignInRepo } from '../store/signins.js';

/** What an integration's collected data amounts to: sign-ins, and records of every other data set. */
export interface StoredCounts {
  signIns: number;
  otherRecords: number;
}

export interface PurgeOutcome {
  /** Rows deleted by this pass. */
  purged: StoredCounts;
  /** The row is gone too. False when stopped, or while a run of the integration holds its lease (it may store more). */
  done: boolean;
}

/** How often a removal waiting for a run of its integration to end tries again. */
const RETRY_MS = 5_000;

const sum = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);

export interface RemovalStore {
  integrations: Pick<IntegrationRepo, 'listRemoving' | 'remove'>;
  signIns: Pick<SignInRepo, 'purge'>;
  datasets: Pick<DatasetRepo, 'purge'>;
  collection: Pick<CollectionRepo, 'forget'>;
}

export function createRemovals(deps: {
  store: RemovalStore;
  clock: Clock;
  log?: Pick<Logger, 'info' | 'error'>;
  retryMs?: number;
}) {
  const { integrations: repo, signIns, datasets, collection } = deps.store;
  const inFlight = new Map<string, Promise<PurgeOutcome>>();
  let stopping = false;
  let sweeping: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  /** finishAll was called during a pass: the next pass starts without waiting. */
  let again = false;
  const stopped = () => stopping;

  async function steps(id: string): Promise<PurgeOutcome> {
    // Collection state goes first, refused while a run holds its lease. The data is deleted
    // either way, but the row stays until a pass began with no run live: a run writes before it
    // ends, so that pass's purge comes after its last write.
    const quiet = await collection.forget(id, deps.clock.now());
    const purged = { signIns: 0, otherRecords: sum(await datasets.purge(id, { stopped })) };
    if (stopping) return { purged, done: false };
    purged.signIns = await signIns.purge(id, { stopped });
    // forgotten again: a run that started while this pass ran (it failed at once: the integration is hidden)
    if (stopping || !quiet || !(await collection.forget(id, deps.clock.now()))) return { purged, done: false };
    await repo.remove(id);
    return { purged, done: true };
  }

  /** Deletes the data, then the row, of an integration marked for removal; one pass per integration at a time. */
  function purge(id: string): Promise<PurgeOutcome> {
    let pass = inFlight.get(id);
    if (!pass) {
      pass = steps(id).finally(() => inFlight.delete(id));
      inFlight.set(id, pass);
    }
    return pass;
  }

  /**
   * Finishes every removal left unfinished, waiting out runs that still hold a lease, until none
   * is left or stop(). Called while it waits, it tries again at once.
   */
  function finishAll(): Promise<void> {
    if (sweeping) {
      again = true;
      wake?.();
      return sweeping;
    }
    sweeping = (async () => {
      try {
        while (!stopping) {
          let waiting = false;
          for (const id of await repo.listRemoving()) {
            if (stopping) return;
            const { purged, done } = await purge(id);
            if (done) deps.log?.info({ integrationId: id, purged }, 'integration removed with its collected data');
            else waiting = true;
          }
          if (!waiting && !again) return;
          if (again) {
            again = false;
            continue;
          }
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, deps.retryMs ?? RETRY_MS);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          wake = undefined;
        }
      } finally {
        sweeping = undefined;
        wake = undefined;
      }
    })();
    return sweeping;
  }

  return {
    purge,
    finishAll,
    /** Ends the work between two batches and waits for it; what is left is finished at the next start. */
    async stop(): Promise<void> {
      stopping = true;
      wake?.();
      await Promise.allSettled([sweeping, ...inFlight.values()]);
    },
  };
}
export type Removals = ReturnType<typeof createRemovals>;
