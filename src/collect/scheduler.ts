// The collection schedule: every minute (croner keeps the beat), each integration's data types
// whose interval has passed since their last run start are collected. An integration has two
// lanes — event logs, and the directory and posture data — so a long sign-in backfill does not
// hold back the directory; within a lane runs go one after another, and integrations run side by
// side. A lane still running is left be, and so is a data type another process is collecting.
import { Cron } from 'croner';
import type { Clock } from '../clock.js';
import { ConflictError } from '../errors.js';
import type { Logger } from '../log.js';
import type { IntegrationService } from '../integrations/service.js';
import { createCollectionRepo } from '../store/collection.js';
import type { Db } from '../store/db.js';
import { isDataTypeId } from '../integrations/capabilities.js';
import type { Collector } from './runner.js';

const EVENT_LOGS = new Set(['signIns', 'nonInteractiveSignIns', 'directoryAudits']);
const laneOf = (dataType: string): 'events' | 'directory' => (EVENT_LOGS.has(dataType) ? 'events' : 'directory');

export function createScheduler(deps: { db: Db; clock: Clock; log: Logger; integrations: IntegrationService; collector: Collector }) {
  const collection = createCollectionRepo(deps.db);
  const busy = new Set<string>();
  let job: Cron | undefined;

  /** The data types of an integration that are due now. */
  async function due(integrationId: string, settings: { dataTypes: Record<string, boolean>; schedule: Record<string, number> }): Promise<string[]> {
    const now = deps.clock.now();
    const out: string[] = [];
    for (const [dataType, on] of Object.entries(settings.dataTypes)) {
      if (!on || !isDataTypeId(dataType)) continue;
      const last = await collection.lastRunStart(integrationId, dataType);
      const every = (settings.schedule[dataType] ?? 15) * 60_000;
      if (last === null || now - last >= every) out.push(dataType);
    }
    return out;
  }

  async function tick(): Promise<void> {
    const integrations = (await deps.integrations.list()).filter((i) => i.status === 'connected');
    const lanes: Array<Promise<void>> = [];
    for (const i of integrations) {
      const types = await due(i.id, i.settings);
      for (const lane of ['events', 'directory'] as const) {
        const key = `${i.id}/${lane}`;
        const mine = types.filter((t) => laneOf(t) === lane);
        if (mine.length === 0 || busy.has(key)) continue;
        busy.add(key);
        lanes.push(
          deps.collector
            .run(i.id, { types: mine, trigger: 'schedule' })
            .then((outcomes) => {
              for (const o of outcomes.filter((x) => x.status === 'failed')) deps.log.warn({ integration: i.id, dataType: o.dataType, error: o.error }, 'scheduled collection failed');
            })
            .catch((err: unknown) => {
              if (!(err instanceof ConflictError)) deps.log.error({ err, integration: i.id }, 'scheduled collection could not run');
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
      job = new Cron('0 * * * * *', { protect: true, catch: (err) => deps.log.error({ err }, 'scheduler tick failed') }, () => tick());
    },
    stop(): void {
      job?.stop();
    },
  };
}
export type Scheduler = ReturnType<typeof createScheduler>;
