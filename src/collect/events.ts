// Event-log collection (DESIGN §5): sign-ins of every kind and directory audits. Graph serves an
// event stream newest first in pages of 1,000, and under the reports throttle every request
// costs time, so a backfill reads the whole retention window as one chain of pages — the fewest
// requests the data needs — and splits it into parallel chains only when page latency, not the
// throttle, limits the rate. Later runs read [cursor − overlap, now − lag] the same way.
//
// Guarantees, and where they are kept:
// - A chain's resume point moves past a page only once that page and every page before it are
//   stored (`advance`), so a crash, a stop or a failing page loses nothing: the next run reads
//   each unfinished chain again from its resume point.
//   Upserts by id make what is read twice land once (the newest version wins).
// - A chain relies on Graph's newest-first order only while it holds: a page newer than one before
//   it sends the chain's resume point back to its end and stops it from ending early, so a broken
//   order costs requests, never records (`disorder`).
// - A chain asks again before its lower bound leaves retention, which Graph would refuse; what
//   left retention before it could be read is reported (`expiredMs`), never silently missing.
// - The cursor moves only when every chain of the plan is done (`completePlan`).
// The decisions themselves (how many chains, where to split) are pure, in event-chains.ts.
import type { Clock } from '../clock.js';
import type { GraphClient, GraphPage } from '../entra/graph.js';
import { arrayItemSpans } from '../entra/page-text.js';
import type { Chain, CollectionRepo } from '../store/collection.js';
import type { ReceivedRecords } from '../store/signin-columns.js';
import type { UpsertCounts } from '../store/signins.js';
import {
  chainsWanted,
  createChainPool,
  eventsUrl,
  pageSpan,
  POOL_PAGES,
  releasePage,
  splitPoint,
  takePage,
  type ChainPool,
} from './event-chains.js';
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
  /**
   * The most chains a pool of streams reads at once. Each costs a request of its own when it ends,
   * so chains are added only while their pages are too slow to use the throttle's rate; more than
   * the pages a pool may hold (POOL_PAGES) would only wait.
   */
  maxChains: number;
  /** Days of retention (30 on P1/P2); the backfill starts a little inside it. */
  retentionDays: number;
}

export const DEFAULT_EVENT_SETTINGS: EventCollectionSettings = {
  lagMs: 15 * MINUTE,
  overlapMs: 15 * MINUTE,
  sweepWindowMs: 200 * MINUTE,
  sweepIntervalMs: 60 * MINUTE,
  maxChains: POOL_PAGES,
  retentionDays: 30,
};

/** A margin inside retention: Graph refuses a filter that reaches past it. */
const RETENTION_MARGIN = 10 * MINUTE;
/** A chain's resume point is written at most this often (and when it ends): a crash re-reads at most that. */
const PROGRESS_EVERY_MS = 1_000;

/** An event run's counts before it has done anything. */
export const noEventStats = (): EventRunStats => ({
  fetched: 0,
  inserted: 0,
  updated: 0,
  unchanged: 0,
  pages: 0,
  chains: 0,
  chainsDone: 0,
  spanMs: 0,
  coveredMs: 0,
  expiredMs: 0,
});

export type EventRunStats = {
  fetched: number;
  inserted: number;
  updated: number;
  unchanged: number;
  pages: number;
  /** Chains of pages in the plan, and how many are done. */
  chains: number;
  chainsDone: number;
  /** The plan's time span, and how much of it is stored (ms): the run's progress. */
  spanMs: number;
  coveredMs: number;
  /**
   * How much of the span left Microsoft's retention before it could be read (ms): the oldest part
   * of a backfill that takes longer than the margin kept inside retention, read last.
   */
  expiredMs: number;
  /** The window this run covers (ISO). */
  from?: string;
  /** This run re-read the recent past for late and re-published records. */
  sweep?: boolean;
  to?: string;
};

export interface EventCollectorDeps {
  integrationId: string;
  /** The stream, as its cursor and chains are kept: a data type, or a data type's event type. */
  dataType: string;
  /** The request for the events created in [from, to] (ISO), newest first; default: v1.0 interactive sign-ins. */
  url?: (from: string, to: string) => string;
  /** The records' time property, which `url` filters and orders on (default createdDateTime). */
  timeProperty?: string;
  graph: GraphClient;
  collection: CollectionRepo;
  /** `received`: the records' JSON as Graph sent it, when the page has it (page-text.ts). */
  store: {
    upsert(
      integrationId: string,
      records: Array<Record<string, unknown>>,
      collectedAt: number,
      received?: ReceivedRecords,
    ): Promise<UpsertCounts>;
  };
  clock: Clock;
  settings?: Partial<EventCollectionSettings>;
  signal?: AbortSignal;
  /** Shared with the other streams read at the same time under the same throttle; default: this stream's own. */
  pool?: ChainPool;
  /** Waiting for the throttle, a stream of lower priority goes first (interactive sign-ins: 0, the default). */
  priority?: number;
  onProgress?(stats: EventRunStats): void;
}

const iso = (ms: number): string => new Date(ms).toISOString();

const interactiveSignIns = eventsUrl('/v1.0/auditLogs/signIns', 'createdDateTime');

/** A chain while it runs: its range (`start` rises when it is split), progress and order. */
interface Running extends Chain {
  fetched: number;
  /** Graph's newest-first order held on every page so far. */
  ordered: boolean;
  /** The oldest time on the pages received so far (stored or not). */
  oldestSeen: number;
  /** Where its queries began at the latest: what is older had left retention before it was read. */
  expiredTo: number;
  progressWrittenAt: number;
  writtenResumeAt: number;
}

export async function collectEvents(deps: EventCollectorDeps): Promise<EventRunStats> {
  const s = { ...DEFAULT_EVENT_SETTINGS, ...deps.settings };
  const { integrationId, dataType, collection } = deps;
  const property = deps.timeProperty ?? 'createdDateTime';
  const url = deps.url ?? interactiveSignIns;
  const now = deps.clock.now();
  /** The oldest time Graph still keeps, `margin` inside its retention, now. */
  const retentionStart = (margin: number) => deps.clock.now() - s.retentionDays * DAY + margin;
  const stats = noEventStats();

  // An interrupted plan is finished first; otherwise a new one from the cursor (or the backfill).
  let plan = await collection.planInProgress(integrationId, dataType);
  // A backfill, or a run whose sweep is due, re-reads the recent past: it records sweptAt.
  let sweptAt: number | undefined;
  if (plan.length === 0) {
    const { cursor, sweptAt: lastSweep } = await collection.state(integrationId, dataType);
    const oldest = retentionStart(RETENTION_MARGIN);
    const sweep = cursor === null || lastSweep === null || now - lastSweep >= s.sweepIntervalMs;
    if (sweep) sweptAt = now;
    const from = Math.max(oldest, cursor === null ? oldest : cursor - (sweep ? s.sweepWindowMs : s.overlapMs));
    const to = now - s.lagMs;
    if (to <= from) return stats;
    await collection.planChains(integrationId, dataType, [{ start: from, end: to }], now);
    plan = [{ start: from, end: to, resumeAt: to, done: false }];
  }
  const target = Math.max(...plan.map((c) => c.end));
  const from = Math.min(...plan.map((c) => c.start));
  Object.assign(stats, {
    from: iso(from),
    to: iso(target),
    chains: plan.length,
    chainsDone: plan.filter((c) => c.done).length,
    spanMs: target - from,
  });
  const covered = (c: Chain) => (c.done ? c.end - c.start : c.end - c.resumeAt);
  const doneSpan = plan.filter((c) => c.done).reduce((n, c) => n + covered(c), 0);
  const running = new Set<Running>();
  const report = () => {
    stats.coveredMs = doneSpan + finishedSpan + [...running].reduce((n, c) => n + covered(c), 0);
    deps.onProgress?.({ ...stats });
  };
  let finishedSpan = 0;

  // Newest first: recent activity matters most and is available soonest.
  const queue: Chain[] = plan.filter((c) => !c.done).sort((a, b) => b.resumeAt - a.resumeAt);
  const rate = deps.graph.requestsPerSecond(url(iso(from), iso(target)));
  const pool = deps.pool ?? createChainPool();
  const wanted = () => (pool.latencyMs === undefined ? 1 : chainsWanted(rate, pool.latencyMs, s.maxChains));
  const failures: unknown[] = [];
  const stop = new AbortController();
  const signal = deps.signal ? AbortSignal.any([deps.signal, stop.signal]) : stop.signal;
  // The plan's rows change one at a time, in order: a chain's progress never lands after a split
  // of it. A write that fails stops the run like a failing page.
  let writes: Promise<void> = Promise.resolve();
  const write = (fn: () => Promise<unknown>): Promise<void> =>
    (writes = writes.then(fn).then(
      () => undefined,
      (err: unknown) => {
        failures.push(err);
        stop.abort(err);
      },
    ));

  report();
  await new Promise<void>((resolve) => {
    /** Starts queued chains (one at least), then splits running ones, until as many run in the pool as are wanted. */
    const fill = () => {
      while (!signal.aborted && queue.length > 0 && (running.size === 0 || pool.running < wanted()))
        launch(toRunning(queue.shift()!));
      while (!signal.aborted && pool.running < wanted()) {
        const candidates = [...running]
          .filter((c) => c.ordered)
          .map((c) => ({ c, at: splitPoint(c) }))
          .filter((x) => x.at !== undefined);
        const widest = candidates.sort((a, b) => b.c.resumeAt - b.c.start - (a.c.resumeAt - a.c.start))[0];
        if (!widest) break;
        const { c, at } = widest as { c: Running; at: number };
        const older: Chain = { start: c.start, end: at, resumeAt: at, done: false };
        const split = { start: c.start, end: c.end, resumeAt: c.resumeAt };
        c.start = at;
        stats.chains++;
        void write(() => collection.splitChain(integrationId, dataType, split, at, deps.clock.now()));
        launch(toRunning(older));
      }
      if (running.size === 0) resolve();
    };
    const toRunning = (c: Chain): Running => ({
      ...c,
      fetched: 0,
      ordered: true,
      oldestSeen: c.resumeAt,
      expiredTo: c.start,
      progressWrittenAt: performance.now(),
      writtenResumeAt: c.resumeAt,
    });
    const launch = (chain: Running) => {
      running.add(chain);
      pool.running++;
      readChain(chain, fill)
        .catch((err: unknown) => {
          failures.push(err);
          stop.abort(err);
        })
        .finally(() => {
          running.delete(chain);
          pool.running--;
          fill();
        });
    };
    fill();
  });
  await writes;
  if (failures.length > 0) throw failures[0];
  deps.signal?.throwIfAborted();
  await collection.completePlan(integrationId, dataType, target, deps.clock.now(), sweptAt);
  return { ...stats, coveredMs: stats.spanMs, ...(sweptAt !== undefined ? { sweep: true } : {}) };

  /**
   * Reads a chain from its resume point down to its start. A page goes to the store as soon as it
   * arrives and the next one is fetched while it is stored (on SQLite the store writes on a thread
   * of its own, on PostgreSQL on the server); at most two pages of a chain are with the store.
   * Handing pages over at once lets their parsed records die young, which keeps memory low.
   */
  async function readChain(chain: Running, onPage: () => void): Promise<void> {
    let previous: Promise<void> = Promise.resolve();
    let latest = previous;
    try {
      // One query, asked again from where the chain is whenever its lower bound is about to leave
      // retention: Graph refuses a filter that reaches past it, on every page of a long read.
      for (let again = true; again;) {
        again = false;
        const from = Math.max(chain.start, retentionStart(RETENTION_MARGIN));
        chain.expiredTo = Math.max(chain.expiredTo, from);
        if (from >= chain.resumeAt) break; // what is left has left retention
        // `le` the next millisecond: Graph's times have seven decimals, a resume point three
        const pages = deps.graph.pages<Record<string, unknown>>(url(iso(from), iso(chain.resumeAt + 1)), {
          signal,
          priority: deps.priority ?? 0,
        });
        try {
          for (;;) {
            await takePage(pool, signal);
            const step = await handOver(chain, pages, previous);
            if (!step) break;
            latest = step.latest;
            await previous;
            previous = latest;
            onPage();
            // split off: what is older than the chain's start belongs to another chain now
            if (chain.ordered && step.span && step.span.oldest < chain.start) break;
            if (chain.ordered && step.more && retentionStart(RETENTION_MARGIN / 2) > from) {
              again = true;
              break;
            }
          }
        } finally {
          await pages.return(undefined);
        }
        await previous; // the chain's resume point is where its last page left it
      }
    } finally {
      // a failing or stopped chain still waits for the page it handed over, so the run's figures
      // are whole, and remembers how far it got, so the next run resumes there
      await Promise.allSettled([latest]);
      if (!chain.done && chain.resumeAt !== chain.writtenResumeAt) {
        const { start, resumeAt } = chain;
        await write(() => collection.chainProgress(integrationId, dataType, start, resumeAt, deps.clock.now()));
      }
    }
    stats.expiredMs += Math.max(0, Math.min(chain.expiredTo, chain.resumeAt) - chain.start);
    chain.resumeAt = chain.start;
    chain.done = true;
    finishedSpan += chain.end - chain.start;
    stats.chainsDone++;
    running.delete(chain);
    report();
    await write(() => collection.chainDone(integrationId, dataType, chain.start, deps.clock.now()));
  }

  /**
   * Takes a chain's next page and hands it to the store; undefined when there is none. What it
   * returns is all the chain keeps of the page: nothing may keep the page alive while it is stored,
   * or its parsed records outlive the young generation and wait for a full collection (a hundred
   * MB more at the peak). A function of its own for that reason: an async function's locals live
   * across its awaits, used again or not.
   */
  async function handOver(
    chain: Running,
    pages: AsyncGenerator<GraphPage<Record<string, unknown>>>,
    previous: Promise<void>,
  ): Promise<{ latest: Promise<void>; span: ReturnType<typeof pageSpan>; more: boolean } | undefined> {
    const next = await pages.next().catch((err: unknown) => {
      releasePage(pool);
      throw err;
    });
    if (next.done) {
      releasePage(pool);
      return undefined;
    }
    const page = next.value;
    const spans = page.bytes && arrayItemSpans(page.bytes, 'value');
    const received = spans && { bytes: page.bytes!, spans };
    const fetched = page.value.length;
    const span = pageSpan(page.value, property);
    if (span && chain.ordered && span.newest > chain.oldestSeen) disorder(chain);
    if (span) chain.oldestSeen = Math.min(chain.oldestSeen, span.oldest);
    pool.latencyMs =
      pool.latencyMs === undefined
        ? (page.latencyMs ?? 0)
        : 0.7 * pool.latencyMs + 0.3 * (page.latencyMs ?? pool.latencyMs);
    const stored = deps.store
      .upsert(integrationId, page.value, deps.clock.now(), received)
      .finally(() => releasePage(pool));
    // the resume point moves only once every page before this one is stored too
    const latest = Promise.all([previous, stored]).then(([, counts]) => {
      tallyPage(stats, fetched, counts);
      chain.fetched += fetched;
      if (span && chain.ordered) advance(chain, Math.max(chain.start, Math.min(chain.resumeAt, span.oldest)));
      report();
    });
    latest.catch(() => undefined); // a failure is thrown where it is awaited, not reported as unhandled meanwhile
    return { latest, span, more: page.nextLink !== undefined };
  }

  /**
   * A page newer than one before it: Graph's order did not hold, so what the chain has read says
   * nothing certain about what it has not. It resumes from its end again and reads to its start.
   */
  function disorder(chain: Running): void {
    chain.ordered = false;
    chain.resumeAt = chain.writtenResumeAt = chain.end;
    const { start, end } = chain;
    void write(() => collection.chainProgress(integrationId, dataType, start, end, deps.clock.now()));
  }

  /** The chain is stored from `resumeAt` to its end: remembered at most once a second. */
  function advance(chain: Running, resumeAt: number): void {
    chain.resumeAt = resumeAt;
    const t = performance.now();
    if (t - chain.progressWrittenAt < PROGRESS_EVERY_MS) return;
    chain.progressWrittenAt = t;
    chain.writtenResumeAt = resumeAt;
    const start = chain.start;
    void write(() => collection.chainProgress(integrationId, dataType, start, resumeAt, deps.clock.now()));
  }
}
