// The collection schedule: every minute (croner keeps the beat), each integration's data types
// whose interval has passed since their last run start are collected. An integration has two
// lanes — event logs, and the directory and posture data — so a long sign-in backfill does not
// hold back the directory; within a lane runs go one after another, and integrations run side by
// side. A lane still running is left be, and so is a data type another process is collecting.
// Runs go through the supervisor, so stopping the process interrupts them cleanly; a run so
// interrupted is resumed at the first tick after a restart instead of waiting out its interval.
import { Cron } from 'croner';
import type { Clock } from '../clock.js';
import { ConflictError, UnavailableError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IntegrationService } from '../integrations/service.js';
import type { Repositories } from '../store/repositories.js';
import { isDataTypeId } from '../integrations/capabilities.js';
import { EVENT_LOGS } from './runner.js';
import type { Supervisor } from './supervisor.js';

const laneOf = (dataType: string): 'events' | 'directory' =>
  isDataTypeId(dataType) && EVENT_LOGS.has(dataType) ? 'events' : 'directory';

/** Enough recent runs to see each data type's latest when the last stop interrupted them all. */
const RECENT_RUNS = 100;

export function createScheduler(deps: {
  store: Pick<Repositories, 'collection'>;
  clock: Clock;
  log: Logger;
  integrations: IntegrationService;
  supervisor: Pick<Supervisor, 'run' | 'stopping'>;
}) {
  const { collection } = deps.store;
  const busy = new Set<string>();
  let job: Cron | undefined;
  let ticking: Promise<void> = Promise.resolve();

  /** The data types of an integration that are due now. */
  async function due(
    integrationId: string,
    settings: { dataTypes: Record<string, boolean>; schedule: Record<string, number> },
  ): Promise<string[]> {
    const now = deps.clock.now();
    // Each data type's latest run, newest first; of runs started the same millisecond, any that
    // was not interrupted counts (so a resumed run is never taken for the one it resumed).
    const latest = new Map<string, { at: number; interrupted: boolean }>();
    for (const r of await collection.listRuns(integrationId, RECENT_RUNS)) {
      const at = r.startedAt.getTime();
      const seen = latest.get(r.dataType);
      if (!seen) latest.set(r.dataType, { at, interrupted: r.status === 'interrupted' });
      else if (at === seen.at && r.status !== 'interrupted') seen.interrupted = false;
    }
    const out: string[] = [];
    for (const [dataType, on] of Object.entries(settings.dataTypes)) {
      if (!on || !isDataTypeId(dataType)) continue;
      const last = await collection.lastRunStart(integrationId, dataType);
      const every = (settings.schedule[dataType] ?? 15) * 60_000;
      if (last === null || now - last >= every || latest.get(dataType)?.interrupted) out.push(dataType);
    }
    return out;
  }

  async function tick(): Promise<void> {
    const integrations = (await deps.integrations.list()).filter((i) => i.status === 'connected');
    const lanes: Array<Promise<void>> = [];
    for (const i of integrations) {
      if (deps.supervisor.stopping) break;
      const types = await due(i.id, i.settings);
      for (const lane of ['events', 'directory'] as const) {
        const key = `${i.id}/${lane}`;
        const mine = types.filter((t) => laneOf(t) === lane);
        if (mine.length === 0 || busy.has(key)) continue;
        busy.add(key);
        lanes.push(
          deps.supervisor
            .run(i.id, { types: mine, trigger: 'schedule' })
            .then((outcomes) => {
              for (const o of outcomes.filter((x) => x.status === 'failed'))
                deps.log.warn(
                  { integration: i.id, dataType: o.dataType, error: o.error },
                  'scheduled collection failed',
                );
            })
            .catch((err: unknown) => {
              // another process holds the data type, or this one is stopping: nothing to report
              if (!(err instanceof ConflictError) && !(err instanceof UnavailableError))
                deps.log.error({ err, integration: i.id }, 'scheduled collection could not run');
            })
            .finally(() => busy.delete(key)),
        );
      }
    }
    await Promise.all(lanes);
  }

  return {
    tick,
    /** Ticks every minute until stopped. */
    start(): void {
      job = new Cron(
        '0 * * * * *',
        { protect: true, catch: (err) => deps.log.error({ err }, 'scheduler tick failed') },
        () => (ticking = tick()),
      );
    },
    /**
     * Ticks no more; resolves when the tick in progress has ended (its runs end when the
     * supervisor stops them, so stop both together).
     */
    async stop(): Promise<void> {
      job?.stop();
      await ticking.catch(() => undefined);
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
