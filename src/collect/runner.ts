// Collection runs: for an integration and the data types asked for (or enabled), one run each,
// under a lease so two processes never collect the same data at once (a crashed process's
// lease runs out), with its outcome, counts and, on failure, guidance kept in the run history.
import type { RunOutcome, RunProgress, RunView } from '../api/routes/integrations/schema.js';
import type { Clock } from '../clock.js';
import { EntraError, GraphRequestError } from '../entra/errors.js';
import type { GraphClient } from '../entra/graph.js';
import { spanTexts } from '../entra/page-text.js';
import { ConflictError, ValidationError } from '../errors.js';
import { isDataTypeId, type DataTypeId } from '../integrations/capabilities.js';
import type { IntegrationService, IntegrationView } from '../integrations/service.js';
import { ABANDONED_ERROR, type CollectionRepo, type CollectionRun, type RunStats } from '../store/collection.js';
import { DATASETS, type DatasetRepo } from '../store/datasets.js';
import type { Repositories } from '../store/repositories.js';
import type { SignInRepo } from '../store/signins.js';
import { collectDelta } from './delta.js';
import { createChainPool, eventsUrl, type ChainPool } from './event-chains.js';
import { collectEvents, noEventStats, type EventCollectionSettings } from './events.js';
import { collectListing, type ListingSource } from './listing.js';

/** The longest a running run's stats and lease go unwritten while it makes progress. */
const RENEW_EVERY_MS = 1_000;

/** Counts a run reports as it goes and at its end. */
export type { RunStats } from '../store/collection.js';

/** How much of an event-log run's time span is stored, 0–100 (null for runs without one: a delta or a listing). */
export function percentDone(stats: RunStats): number | null {
  const { spanMs = 0, coveredMs = 0 } = stats;
  return spanMs > 0 ? Math.min(100, Math.floor((coveredMs / spanMs) * 100)) : null;
}

/** Seconds left for an event-log run, from how fast its span has been stored so far (null until some is). */
export function etaSeconds(p: { stats: RunStats; startedAt: number }, now: number): number | null {
  const { spanMs = 0, coveredMs = 0 } = p.stats;
  if (spanMs === 0 || coveredMs === 0) return null;
  return Math.max(0, Math.round((((now - p.startedAt) / coveredMs) * (spanMs - coveredMs)) / 1000));
}

interface CollectContext {
  integrationId: string;
  integration: IntegrationView;
  graph: GraphClient;
  collection: CollectionRepo;
  datasets: DatasetRepo;
  signIns: SignInRepo;
  clock: Clock;
  eventSettings: Partial<EventCollectionSettings>;
  /** The chains of the event logs read at once (they share the reports throttle). */
  pool: ChainPool;
  signal?: AbortSignal;
  onProgress(stats: RunStats): void;
}

/**
 * The event logs: read at once by one collection (each its own run), as their streams share one
 * throttle, so it is never idle between them; interactive sign-ins go first when both wait.
 */
export const EVENT_LOGS: ReadonlySet<DataTypeId> = new Set(['signIns', 'nonInteractiveSignIns', 'directoryAudits']);

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
const betaSignIns = (eventType: string) =>
  eventsUrl('/beta/auditLogs/signIns', 'createdDateTime', `signInEventTypes/any(t: t eq '${eventType}')`);

/** A data type read whole, from these sources. */
const listing = (dataType: DataTypeId, sources: ListingSource[]) => (c: CollectContext) =>
  collectListing({
    integrationId: c.integrationId,
    dataType,
    graph: c.graph,
    collection: c.collection,
    datasets: c.datasets,
    clock: c.clock,
    sources,
    ...(c.signal ? { signal: c.signal } : {}),
    onProgress: c.onProgress,
  });

const delta = (kind: 'users' | 'groups') => (c: CollectContext) =>
  collectDelta({
    integrationId: c.integrationId,
    kind,
    graph: c.graph,
    collection: c.collection,
    datasets: c.datasets,
    clock: c.clock,
    ...(c.signal ? { signal: c.signal } : {}),
    onProgress: c.onProgress,
  });

/** Entra ID P1/P2 keeps 30 days of audit logs, Free 7 (graph-facts §3); sign-ins need P1 anyway. */
const premium = (c: CollectContext): boolean =>
  c.integration.report?.capabilities.find((x) => x.dataType === 'signIns')?.available === true;

/** How each data type is collected. */
const COLLECTORS: Record<DataTypeId, (c: CollectContext) => Promise<RunStats>> = {
  signIns: (c) => collectEvents({ ...eventDeps(c), dataType: 'signIns', store: c.signIns }),
  nonInteractiveSignIns: async (c) => {
    // One stream per beta event type turned on in the integration's advanced settings, each with
    // its own cursor, read at once.
    const perType: Record<string, RunStats> = {};
    const total: RunStats = { ...noEventStats(), eventTypes: perType };
    const sum = () => {
      for (const k of [
        'fetched',
        'inserted',
        'updated',
        'unchanged',
        'pages',
        'chains',
        'chainsDone',
        'spanMs',
        'coveredMs',
        'expiredMs',
      ] as const)
        total[k] = Object.values(perType).reduce((n, s) => n + (s[k] ?? 0), 0);
    };
    const eventTypes = c.integration.settings.signInEventTypes;
    for (const eventType of eventTypes) perType[eventType] = {}; // reported in the settings' order
    const streams = await Promise.allSettled(
      eventTypes.map(async (eventType) => {
        perType[eventType] = await collectEvents({
          ...eventDeps(c),
          dataType: `nonInteractiveSignIns/${eventType}`,
          url: betaSignIns(eventType),
          store: c.signIns,
          priority: 1,
          onProgress: (s) => {
            perType[eventType] = { ...s };
            sum();
            c.onProgress({ ...total });
          },
        });
        sum();
      }),
    );
    const failed = streams.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return total;
  },
  directoryAudits: (c) =>
    collectEvents({
      ...eventDeps(c),
      dataType: 'directoryAudits',
      url: eventsUrl('/v1.0/auditLogs/directoryAudits', 'activityDateTime'),
      timeProperty: 'activityDateTime',
      priority: 1,
      store: {
        upsert: (id, records, at, received) =>
          c.datasets.upsert(DATASETS.directoryAudits, id, records, {
            generation: at,
            collectedAt: at,
            ...(received ? { texts: spanTexts(received.bytes, received.spans) } : {}),
          }),
      },
      settings: { ...c.eventSettings, retentionDays: premium(c) ? 30 : 7 },
    }),
  users: delta('users'),
  groups: delta('groups'),
  // 500 is signInActivity's largest page (user-list.md), and its family allows 10 requests a minute.
  signInActivity: listing('signInActivity', [
    { spec: DATASETS.signInActivity, url: '/v1.0/users?$select=id,userPrincipalName,signInActivity&$top=500' },
  ]),
  mfaRegistration: listing('mfaRegistration', [
    { spec: DATASETS.mfaRegistration, url: '/v1.0/reports/authenticationMethods/userRegistrationDetails' },
  ]),
  riskyUsers: listing('riskyUsers', [{ spec: DATASETS.riskyUsers, url: '/v1.0/identityProtection/riskyUsers' }]),
  // Detections are history (kept 90 days by Microsoft): each pass reads what changed since the
  // last, with two days of overlap because offline detections are computed up to 48 h later.
  riskDetections: listing('riskDetections', [
    {
      spec: DATASETS.riskDetections,
      url: '/v1.0/identityProtection/riskDetections',
      changedSince: { property: 'lastUpdatedDateTime', overlapMs: 2 * DAY },
    },
  ]),
  conditionalAccess: listing('conditionalAccess', [
    { spec: DATASETS.conditionalAccess, url: '/v1.0/identity/conditionalAccess/policies' },
  ]),
  applications: listing('applications', [
    { spec: DATASETS.applications, url: '/v1.0/applications?$top=999' },
    { spec: DATASETS.servicePrincipals, url: '/v1.0/servicePrincipals?$top=999' },
  ]),
  roleAssignments: listing('roleAssignments', [
    { spec: DATASETS.roleDefinitions, url: '/v1.0/roleManagement/directory/roleDefinitions' },
    { spec: DATASETS.roleAssignments, url: '/v1.0/roleManagement/directory/roleAssignments' },
  ]),
  managedDevices: listing('managedDevices', [
    { spec: DATASETS.managedDevices, url: '/v1.0/deviceManagement/managedDevices' },
  ]),
  licences: listing('licences', [{ spec: DATASETS.licences, url: '/v1.0/subscribedSkus' }]),
};

function eventDeps(c: CollectContext) {
  return {
    integrationId: c.integrationId,
    graph: c.graph,
    collection: c.collection,
    clock: c.clock,
    settings: c.eventSettings,
    pool: c.pool,
    ...(c.signal ? { signal: c.signal } : {}),
    onProgress: c.onProgress,
  };
}

/** What an interrupted run tells the administrator (its error says why it stopped). */
export const INTERRUPTED_GUIDANCE = 'idsight was stopped during this run; the next run resumes where it stopped.';

interface RunOptions {
  onProgress?: (p: Progress) => void;
  /** Called once a run holds its lease (before any Graph request). */
  onStart?: (run: { runId: string; dataType: string }) => void;
  /** Aborting it ends the run at a page boundary as `interrupted`. */
  signal?: AbortSignal;
}

export interface Progress {
  runId: string;
  dataType: string;
  stats: RunStats;
  /** When the run started (epoch ms), for an ETA. */
  startedAt: number;
  /** The run has ended (its outcome is recorded); these are its final counts. */
  ended?: true;
}

/** What went wrong, and what the administrator can do about it. */
function explain(err: unknown): { error: string; guidance: string } {
  if (err instanceof EntraError) return { error: err.message, guidance: err.problem.guidance };
  if (err instanceof GraphRequestError) {
    const guidance =
      err.graphCode === 'MalformedResponse'
        ? 'Microsoft Graph sent an unreadable page; nothing from it was stored. The next run reads those records again.'
        : err.graphStatus === 429 || err.graphStatus >= 500
          ? 'Microsoft Graph was throttling or unavailable longer than the retries allow; the next run resumes where this one stopped.'
          : err.graphStatus === 403
            ? 'The app lacks a permission or the tenant a licence for this data: run the connectivity test to see which.'
            : 'See the Graph error; the next run retries.';
    return { error: err.message, guidance };
  }
  if (err instanceof ValidationError)
    return {
      error: err.message,
      guidance: 'Microsoft Graph returned a record idsight cannot store; nothing from that page was stored.',
    };
  return {
    error: err instanceof Error ? err.message : String(err),
    guidance: 'The next run resumes where this one stopped.',
  };
}

export function createCollector(deps: {
  store: Pick<Repositories, 'collection' | 'datasets' | 'signIns'>;
  clock: Clock;
  integrations: IntegrationService;
  /** A run holds its lease this long without renewing it; progress renews it. */
  leaseMs: number;
  eventSettings?: Partial<EventCollectionSettings>;
}) {
  const LEASE_MS = deps.leaseMs;
  const { collection, datasets, signIns } = deps.store;

  async function runOne(
    integration: IntegrationView,
    dataType: DataTypeId,
    trigger: string,
    pool: ChainPool,
    opts: RunOptions,
  ): Promise<RunOutcome> {
    const integrationId = integration.id;
    const startedAt = deps.clock.now();
    const runId = await collection.startRun({ integrationId, dataType, trigger, now: startedAt, leaseMs: LEASE_MS });
    opts.onStart?.({ runId, dataType });
    let stats: RunStats = {};
    let renewedAt = -Infinity;
    let renewedChains: number | undefined;
    // The last lease renewal, awaited before the run's end is written (and before the store can
    // close); a failed renewal is not fatal: the next progress renews again.
    let renewing: Promise<void> = Promise.resolve();
    // The data sets the run fills are counted again before its lease goes (so no purge runs
    // between); a count that cannot be updated stays as it was until the next run counts again.
    const recount = () => datasets.recount(integrationId, dataType, deps.clock.now()).catch(() => undefined);
    const session = await deps.integrations.openSession(integrationId).catch(async (err: unknown) => {
      const { error, guidance } = explain(err);
      await collection.finishRun(runId, { status: 'failed', now: deps.clock.now(), stats, error, guidance });
      throw err;
    });
    try {
      const result = await COLLECTORS[dataType]({
        integrationId,
        integration,
        graph: session.graph,
        collection,
        datasets,
        signIns,
        clock: deps.clock,
        eventSettings: {
          lagMs: integration.settings.lagMinutes * MINUTE,
          overlapMs: integration.settings.overlapMinutes * MINUTE,
          ...deps.eventSettings,
        },
        pool,
        ...(opts.signal ? { signal: opts.signal } : {}),
        onProgress: (s) => {
          stats = { ...s, ...requestStats(session.graph) };
          opts.onProgress?.({ runId, dataType, stats, startedAt });
          // Written at most once a second (and when a chain of pages ends): on SQLite each write waits
          // for the sign-in writer's transaction in progress.
          const now = performance.now();
          if (now - renewedAt < RENEW_EVERY_MS && s.chainsDone === renewedChains) return;
          renewedAt = now;
          renewedChains = s.chainsDone;
          renewing = renewing
            .then(() => collection.renewLease(runId, deps.clock.now() + LEASE_MS, stats))
            .catch(() => undefined);
        },
      });
      stats = { ...result, ...requestStats(session.graph) };
      await renewing;
      await recount();
      await collection.finishRun(runId, { status: 'succeeded', now: deps.clock.now(), stats });
      return { runId, dataType, status: 'succeeded', stats };
    } catch (err) {
      stats = { ...stats, ...requestStats(session.graph) };
      await renewing;
      await recount(); // what the run stored before it stopped counts too
      // Stopped on purpose (the process is stopping): resumable, not a failure, and the lease is
      // released so the next run can start at once.
      if (opts.signal?.aborted) {
        const error = opts.signal.reason instanceof Error ? opts.signal.reason.message : 'the collection was stopped';
        await collection.finishRun(runId, {
          status: 'interrupted',
          now: deps.clock.now(),
          stats,
          error,
          guidance: INTERRUPTED_GUIDANCE,
        });
        return { runId, dataType, status: 'interrupted', stats, error, guidance: INTERRUPTED_GUIDANCE };
      }
      const { error, guidance } = explain(err);
      await collection.finishRun(runId, { status: 'failed', now: deps.clock.now(), stats, error, guidance });
      return { runId, dataType, status: 'failed', stats, error, guidance };
    } finally {
      opts.onProgress?.({ runId, dataType, stats, startedAt, ended: true });
      await session.close();
    }
  }

  return {
    /**
     * Collects the given data types (default: those turned on). Unavailable types are skipped
     * with the reason; the others still run.
     */
    async run(
      integrationId: string,
      opts: RunOptions & { types?: string[]; trigger?: string } = {},
    ): Promise<RunOutcome[]> {
      const integration = await deps.integrations.get(integrationId);
      for (const t of opts.types ?? []) if (!isDataTypeId(t)) throw new ValidationError(`unknown data type ${t}`);
      const types = (
        opts.types ??
        Object.entries(integration.settings.dataTypes)
          .filter(([, on]) => on)
          .map(([t]) => t)
      ).filter(isDataTypeId);
      const pool = createChainPool();
      const one = async (dataType: DataTypeId): Promise<RunOutcome> => {
        const capability = integration.report?.capabilities.find((c) => c.dataType === dataType);
        if (opts.signal?.aborted) {
          // stopped before this data type's turn: no run is recorded, so nothing is left to resume
          const why = opts.signal.reason instanceof Error ? opts.signal.reason.message : 'the collection was stopped';
          return { runId: null, dataType, status: 'skipped', stats: {}, error: `not started: ${why}` };
        }
        if (capability && !capability.available && capability.status === 'unavailable') {
          return {
            runId: null,
            dataType,
            status: 'skipped',
            stats: {},
            error: capability.reason ?? 'unavailable',
            guidance: 'Grant the permission or licence it needs, then test the integration again.',
          };
        }
        try {
          return await runOne(integration, dataType, opts.trigger ?? 'manual', pool, opts);
        } catch (err) {
          // Another run holds this data type: the others still run; alone, it is a conflict.
          if (!(err instanceof ConflictError) || types.length === 1) throw err;
          return { runId: null, dataType, status: 'skipped', stats: {}, error: err.message };
        }
      };
      // The event logs at once, the other data types one after another beside them.
      const outcomes = new Map<DataTypeId, Promise<RunOutcome>>();
      for (const t of types) if (EVENT_LOGS.has(t)) outcomes.set(t, one(t));
      let previous: Promise<unknown> = Promise.resolve();
      for (const t of types) {
        if (EVENT_LOGS.has(t)) continue;
        const outcome = previous.then(() => one(t));
        previous = outcome.catch(() => undefined);
        outcomes.set(t, outcome);
      }
      const settled = await Promise.allSettled(types.map((t) => outcomes.get(t)!));
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return settled.map((r) => (r as PromiseFulfilledResult<RunOutcome>).value);
    },

    async runs(integrationId: string, limit = 50): Promise<RunView[]> {
      await deps.integrations.get(integrationId); // 404 for an unknown integration
      const now = deps.clock.now();
      return (await collection.listRuns(integrationId, limit)).map((r) => view(r, now));
    },
  };
}
export type Collector = ReturnType<typeof createCollector>;

function view(r: CollectionRun, now: number): RunView {
  const { stats } = r;
  const base = {
    id: r.id,
    dataType: r.dataType,
    trigger: r.trigger,
    startedAt: r.startedAt.toISOString(),
    endedAt: r.endedAt?.toISOString() ?? null,
    stats,
  };
  // A run still "running" past its lease lost its process (killed, crashed): shown as the next
  // run will record it, not with a progress and an ETA that will never move again.
  if (r.status === 'running' && r.leaseUntil.getTime() <= now) {
    return {
      ...base,
      status: 'abandoned',
      error: ABANDONED_ERROR,
      guidance: 'The next run resumes where this one stopped.',
      progress: null,
    };
  }
  return {
    ...base,
    status: r.status,
    error: r.error,
    guidance: r.guidance,
    progress: r.status === 'running' ? progressOf(stats, r.startedAt.getTime(), r.leaseUntil.getTime(), now) : null,
  };
}

function progressOf(stats: RunStats, startedAt: number, leaseUntil: number, now: number): RunProgress {
  const chains = stats.chains ?? null;
  const chainsDone = stats.chainsDone ?? null;
  return {
    fetched: stats.fetched ?? 0,
    pages: stats.pages ?? 0,
    chainsDone,
    chains,
    percent: percentDone(stats),
    etaSeconds: etaSeconds({ stats, startedAt }, now),
    leaseUntil: new Date(leaseUntil).toISOString(),
  };
}

/** The run's Graph traffic: requests sent, 429s and retries (each run has its own client). */
const requestStats = (graph: GraphClient): RunStats => ({ ...graph.stats });
