// Collection runs: for an integration and the data types asked for (or enabled), one run each,
// under a lease so two processes never collect the same data at once (a crashed process's
// lease runs out), with its outcome, counts and, on failure, guidance kept in the run history.
import type { Clock } from '../clock.js';
import { EntraError, GraphRequestError } from '../entra/errors.js';
import { ValidationError } from '../errors.js';
import { isDataTypeId, type DataTypeId } from '../integrations/capabilities.js';
import type { IntegrationService } from '../integrations/service.js';
import { createCollectionRepo } from '../store/collection.js';
import type { Db } from '../store/db.js';
import type { CollectionRunRow } from '../store/schema.js';
import { createSignInRepo } from '../store/signins.js';
import { collectSignIns, type SignInCollectionSettings, type SignInRunStats } from './signins.js';

/** Data types this version collects; the others are reported as skipped, with that reason. */
const COLLECTORS: Partial<Record<DataTypeId, true>> = { signIns: true };

export interface RunOutcome {
  runId: string | null;
  dataType: string;
  status: 'succeeded' | 'failed' | 'skipped';
  stats: Record<string, unknown>;
  error?: string;
  guidance?: string;
}

export interface RunView {
  id: string;
  dataType: string;
  trigger: string;
  status: string;
  startedAt: string;
  endedAt: string | null;
  stats: Record<string, unknown>;
  error: string | null;
  guidance: string | null;
}

export interface Progress {
  runId: string;
  dataType: string;
  stats: SignInRunStats;
}

/** What went wrong, and what the administrator can do about it. */
function explain(err: unknown): { error: string; guidance: string } {
  if (err instanceof EntraError) return { error: err.message, guidance: err.problem.guidance };
  if (err instanceof GraphRequestError) {
    const guidance =
      err.code === 'MalformedResponse'
        ? 'Microsoft Graph sent an unreadable page; nothing from it was stored. The next run fetches that time slice again.'
        : err.status === 429 || err.status >= 500
          ? 'Microsoft Graph was throttling or unavailable longer than the retries allow; the next run resumes where this one stopped.'
          : err.status === 403
            ? 'The app lacks a permission or the tenant a licence for this data: run the connectivity test to see which.'
            : 'See the Graph error; the next run retries.';
    return { error: err.message, guidance };
  }
  if (err instanceof ValidationError) return { error: err.message, guidance: 'Microsoft Graph returned a record idsight cannot store; nothing from that page was stored.' };
  return { error: err instanceof Error ? err.message : String(err), guidance: 'The next run resumes where this one stopped.' };
}

export function createCollector(deps: {
  db: Db;
  clock: Clock;
  integrations: IntegrationService;
  /** A run holds its lease this long without renewing it; progress renews it. */
  leaseMs: number;
  signInSettings?: Partial<SignInCollectionSettings>;
}) {
  const LEASE_MS = deps.leaseMs;
  const collection = createCollectionRepo(deps.db);
  const signIns = createSignInRepo(deps.db);

  async function runOne(integrationId: string, dataType: DataTypeId, trigger: string, opts: { onProgress?: (p: Progress) => void; signal?: AbortSignal }): Promise<RunOutcome> {
    const runId = await collection.startRun({ integrationId, dataType, trigger, now: deps.clock.now(), leaseMs: LEASE_MS });
    let stats: Record<string, unknown> = {};
    const session = await deps.integrations.openSession(integrationId).catch(async (err: unknown) => {
      const { error, guidance } = explain(err);
      await collection.finishRun(runId, { status: 'failed', now: deps.clock.now(), stats, error, guidance });
      throw err;
    });
    try {
      const result = await collectSignIns({
        integrationId,
        dataType: 'signIns',
        graph: session.graph,
        collection,
        store: signIns,
        clock: deps.clock,
        ...(deps.signInSettings ? { settings: deps.signInSettings } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (s) => {
          stats = { ...s };
          opts.onProgress?.({ runId, dataType, stats: s });
          void collection.renewLease(runId, deps.clock.now() + LEASE_MS, stats);
        },
      });
      stats = { ...result };
      await collection.finishRun(runId, { status: 'succeeded', now: deps.clock.now(), stats });
      return { runId, dataType, status: 'succeeded', stats };
    } catch (err) {
      const { error, guidance } = explain(err);
      await collection.finishRun(runId, { status: 'failed', now: deps.clock.now(), stats, error, guidance });
      return { runId, dataType, status: 'failed', stats, error, guidance };
    } finally {
      await session.close();
    }
  }

  return {
    /**
     * Collects the given data types (default: those turned on). Unavailable and not-yet-collected
     * types are skipped with the reason; the others still run.
     */
    async run(integrationId: string, opts: { types?: string[]; trigger?: string; onProgress?: (p: Progress) => void; signal?: AbortSignal } = {}): Promise<RunOutcome[]> {
      const integration = await deps.integrations.get(integrationId);
      for (const t of opts.types ?? []) if (!isDataTypeId(t)) throw new ValidationError(`unknown data type ${t}`);
      const types = (opts.types ?? Object.entries(integration.settings.dataTypes).filter(([, on]) => on).map(([t]) => t)).filter(isDataTypeId);
      const outcomes: RunOutcome[] = [];
      for (const dataType of types) {
        const capability = integration.report?.capabilities.find((c) => c.dataType === dataType);
        if (capability && !capability.available && capability.status === 'unavailable') {
          outcomes.push({ runId: null, dataType, status: 'skipped', stats: {}, error: capability.reason ?? 'unavailable', guidance: 'Grant the permission or licence it needs, then test the integration again.' });
        } else if (!COLLECTORS[dataType]) {
          outcomes.push({ runId: null, dataType, status: 'skipped', stats: {}, error: 'this version of idsight does not collect this data type yet' });
        } else {
          outcomes.push(await runOne(integrationId, dataType, opts.trigger ?? 'manual', opts));
        }
      }
      return outcomes;
    },

    async runs(integrationId: string, limit = 50): Promise<RunView[]> {
      await deps.integrations.get(integrationId); // 404 for an unknown integration
      return (await collection.listRuns(integrationId, limit)).map(view);
    },
  };
}
export type Collector = ReturnType<typeof createCollector>;

function view(r: CollectionRunRow): RunView {
  return {
    id: r.id,
    dataType: r.data_type,
    trigger: r.trigger,
    status: r.status,
    startedAt: new Date(Number(r.started_at)).toISOString(),
    endedAt: r.ended_at === null ? null : new Date(Number(r.ended_at)).toISOString(),
    stats: JSON.parse(r.stats) as Record<string, unknown>,
    error: r.error,
    guidance: r.guidance,
  };
}
