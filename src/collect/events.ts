// Event-log collection (DESIGN §5): sign-ins of every kind and directory audits. The first run
// backfills the retention window in time slices fetched concurrently; later runs fetch
// [cursor − overlap, now − lag]. Pages are stored as they
// arrive (upserts by id: the newest version wins, a repeat changes nothing), a slice is done
// only when its last page is stored, and the cursor moves only when every slice of the plan is
// done — so an interrupted run resumes where it stopped and nothing is lost or doubled.
import type { Clock } from '../clock.js';
import type { GraphClient } from '../entra/graph.js';
import { arrayItemTexts } from '../entra/page-text.js';
import type { CollectionRepo } from '../store/collection.js';
import type { UpsertCounts } from '../store/signins.js';
import { tallyPage } from './tally.js';

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;

export interface EventCollectionSettings {
  /**
   * The newest time a run fetches up to: now − lag. Microsoft gives sign-ins' delivery latency
   * as minutes (a 5-minute 99th percentile; 10+ minutes seen by collectors), so 15 minutes.
   */
  lagMs: number;
  /** How far back every run re-reads before its cursor: events a little later than the lag. */
  overlapMs: number;
  /**
   * A late sweep re-reads this much of the recent past, once every `sweepIntervalMs`: records
   * re-published with more detail (MFA details are aggregated for up to 2 hours; risk is added
   * right after) and events later than lag + overlap reach the store. 2 h of aggregation + the
   * interval + the lag, so every record is re-read at least once after its final version.
   * Re-reading is safe: upserts keep the newest version and leave identical ones alone.
   */
  sweepWindowMs: number;
  sweepIntervalMs: number;
  /** The size of a backfill slice. */
  sliceMs: number;
  /** Slices fetched at once (the throttle budget paces them). */
  concurrency: number;
  /** Days of retention (30 on P1/P2); the backfill starts a little inside it. */
  retentionDays: number;
}

export const DEFAULT_EVENT_SETTINGS: EventCollectionSettings = {
  lagMs: 15 * MINUTE,
  overlapMs: 15 * MINUTE,
  sweepWindowMs: 200 * MINUTE,
  sweepIntervalMs: 60 * MINUTE,
  sliceMs: DAY,
  // Two already outpace Microsoft's 5 requests per 10 s at any real page latency; each more
  // slice in flight costs a page or two of memory and only speeds up unthrottled benchmarks.
  concurrency: 2,
  retentionDays: 30,
};

/** A margin inside retention: Graph refuses a filter that reaches past it. */
const RETENTION_MARGIN = 10 * MINUTE;

export type EventRunStats = {
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  pages: number;
  slices: number;
  slicesDone: number;
  /** The window this run covers (ISO). */
  from?: string;
  /** This run re-read the recent past for late and re-published records. */
  sweep?: boolean;
  to?: string;
};

export interface EventCollectorDeps {
  integrationId: string;
  /** The stream, as its cursor and slices are kept: a data type, or a data type's event type. */
  dataType: string;
  /** The request for the events created in [from, to] (ISO); default: v1.0 interactive sign-ins. */
  url?: (from: string, to: string) => string;
  graph: GraphClient;
  collection: CollectionRepo;
  /** `texts`: each record's JSON as received, when the page's text had them (page-text.ts). */
  store: { upsert(integrationId: string, records: Array<Record<string, unknown>>, collectedAt: number, texts?: ReadonlyArray<string | undefined>): Promise<UpsertCounts> };
  clock: Clock;
  settings?: Partial<EventCollectionSettings>;
  signal?: AbortSignal;
  onProgress?(stats: EventRunStats): void;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * ge/le with unquoted ISO timestamps, as Graph documents; neighbouring slices share their
 * boundary instant, and a record fetched twice is stored once.
 */
export const timeFilter = (property: string, from: string, to: string): string => `${property} ge ${from} and ${property} le ${to}`;

const interactiveSignIns = (from: string, to: string): string => `/v1.0/auditLogs/signIns?$top=1000&$filter=${encodeURIComponent(timeFilter('createdDateTime', from, to))}`;

/** Splits [from, to] into slices of at most `size`, newest last. */
export function sliceWindow(from: number, to: number, size: number): Array<{ start: number; end: number }> {
  const slices: Array<{ start: number; end: number }> = [];
  for (let start = from; start < to; start += size) slices.push({ start, end: Math.min(to, start + size) });
  return slices;
}

export async function collectEvents(deps: EventCollectorDeps): Promise<EventRunStats> {
  const s = { ...DEFAULT_EVENT_SETTINGS, ...deps.settings };
  const { integrationId, dataType, collection } = deps;
  const now = deps.clock.now();
  const stats: EventRunStats = { fetched: 0, inserted: 0, updated: 0, unchanged: 0, pages: 0, slices: 0, slicesDone: 0 };

  // An interrupted plan is finished first; otherwise a new one from the cursor (or the backfill).
  let plan = await collection.pendingSlices(integrationId, dataType);
  // A backfill, or a run whose sweep is due, re-reads the recent past: it records sweptAt.
  let sweptAt: number | undefined;
  if (plan.length === 0) {
    const { cursor, sweptAt: lastSweep } = await collection.state(integrationId, dataType);
    const retentionStart = now - s.retentionDays * DAY + RETENTION_MARGIN;
    const sweep = cursor === null || lastSweep === null || now - lastSweep >= s.sweepIntervalMs;
    if (sweep) sweptAt = now;
    const from = Math.max(retentionStart, cursor === null ? retentionStart : cursor - (sweep ? s.sweepWindowMs : s.overlapMs));
    const to = now - s.lagMs;
    if (to <= from) return stats;
    const slices = sliceWindow(from, to, s.sliceMs);
    await collection.planSlices(integrationId, dataType, slices, now);
    plan = slices.map((sl) => ({ ...sl, done: false }));
  }
  const target = Math.max(...plan.map((sl) => sl.end));
  stats.from = iso(Math.min(...plan.map((sl) => sl.start)));
  stats.to = iso(target);
  stats.slices = plan.length;
  stats.slicesDone = plan.filter((sl) => sl.done).length;
  deps.onProgress?.({ ...stats });

  // Newest slices first: recent activity matters most and is available soonest.
  const queue = plan.filter((sl) => !sl.done).sort((a, b) => b.start - a.start);
  const failures: unknown[] = [];
  const worker = async () => {
    for (let slice = queue.shift(); slice; slice = queue.shift()) {
      if (deps.signal?.aborted || failures.length > 0) return;
      try {
        await fetchSlice(slice.start, slice.end);
        await collection.sliceDone(integrationId, dataType, slice.start, deps.clock.now());
        stats.slicesDone++;
        deps.onProgress?.({ ...stats });
      } catch (err) {
        failures.push(err);
      }
    }
  };

  /**
   * A page goes to the store as soon as it arrives, and the next one is fetched while it is
   * stored (on SQLite the store writes on a thread of its own, on PostgreSQL on the server). At
   * most two pages of a slice are with the store: before fetching on, the one before must be in.
   * Handing pages over at once lets their parsed records die young, which keeps memory low.
   */
  async function fetchSlice(start: number, end: number): Promise<void> {
    const url = (deps.url ?? interactiveSignIns)(iso(start), iso(end));
    let previous: Promise<void> = Promise.resolve();
    let latest = previous;
    try {
      for await (const page of deps.graph.pages<Record<string, unknown>>(url, deps.signal ? { signal: deps.signal } : {})) {
        const texts = page.text === undefined ? undefined : arrayItemTexts(page.text, 'value');
        const fetched = page.value.length; // (not the page: nothing may keep it alive while it is stored)
        latest = deps.store.upsert(integrationId, page.value, deps.clock.now(), texts).then((counts) => {
          tallyPage(stats, fetched, counts);
          deps.onProgress?.({ ...stats });
        });
        latest.catch(() => undefined); // a failure is thrown where it is awaited, not reported as unhandled meanwhile
        await previous;
        previous = latest;
      }
      await previous;
    } finally {
      // a failing slice still waits for the page it handed over, so the run's figures are whole
      await Promise.allSettled([latest]);
    }
  }

  await Promise.all(Array.from({ length: Math.max(1, s.concurrency) }, worker));
  if (failures.length > 0) throw failures[0];
  deps.signal?.throwIfAborted();
  await collection.completePlan(integrationId, dataType, target, deps.clock.now(), sweptAt);
  return { ...stats, ...(sweptAt !== undefined ? { sweep: true } : {}) };
}
