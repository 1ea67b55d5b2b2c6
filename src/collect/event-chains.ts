// How a backfill reads an event stream, as pure decisions (DESIGN §5): the requests, how many
// chains of pages keep the throttle busy, where a chain splits, what a page spans. The
// orchestration that acts on them is events.ts.

/** Without a throttle budget (test rigs) the store is the limit: a second chain keeps it busy. */
const UNPACED_CHAINS = 2;

/** Graph's largest page of sign-ins and audits, which every request asks for. */
export const PAGE_SIZE = 1000;

/**
 * The chains of every stream read at once under one throttle (an integration's event logs share
 * the reports family): how many run, and the page latency they see. Streams add chains only while
 * all of them together are too few to use the throttle's rate.
 */
export interface ChainPool {
  running: number;
  latencyMs: number | undefined;
  /** Pages fetched (or being fetched) and not yet stored, across the pool's chains; and the chains waiting to fetch one. */
  pagesHeld: number;
  waiting: Array<() => void>;
}
export const createChainPool = (): ChainPool => ({ running: 0, latencyMs: undefined, pagesHeld: 0, waiting: [] });

/**
 * Pages a pool holds at once, whatever its number of chains: a page of 1,000 sign-ins is a few MB
 * of text and several times that parsed, and the store takes one at a time anyway. Measured on
 * the ingest bench (unthrottled): 2, 3 or 4 pages ingest equally fast (about 33k sign-ins/s); 3
 * leave a latency-bound pool three requests in flight (pages of up to ~6 s at Microsoft's rate).
 */
export const POOL_PAGES = 3;

/** Waits until the pool may hold one more page (or `signal` aborts), then counts it. */
export function takePage(pool: ChainPool, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (pool.pagesHeld < POOL_PAGES) {
    pool.pagesHeld++;
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const go = () => {
      signal.removeEventListener('abort', stop);
      pool.pagesHeld++;
      resolve();
    };
    const stop = () => {
      pool.waiting.splice(pool.waiting.indexOf(go), 1);
      reject(signal.reason);
    };
    signal.addEventListener('abort', stop, { once: true });
    pool.waiting.push(go);
  });
}

/** A page held is stored (or dropped): the next chain waiting may fetch. */
export function releasePage(pool: ChainPool): void {
  pool.pagesHeld--;
  pool.waiting.shift()?.();
}

/**
 * ge/le with unquoted ISO timestamps, as Graph documents; neighbouring chains share their
 * boundary instant, and a record fetched twice is stored once.
 */
export const timeFilter = (property: string, from: string, to: string): string =>
  `${property} ge ${from} and ${property} le ${to}`;

/** A request for an event stream's window, newest first (Graph's default for sign-ins; said outright for all). */
export const eventsUrl =
  (path: string, property: string, extraFilter?: string) =>
  (from: string, to: string): string =>
    `${path}?$top=${PAGE_SIZE}&$orderby=${encodeURIComponent(`${property} desc`)}` +
    `&$filter=${encodeURIComponent(timeFilter(property, from, to) + (extraFilter ? ` and ${extraFilter}` : ''))}`;

/**
 * How many chains keep the throttle busy: each has one request out at a time, so `latencyMs`
 * per page; enough of them to send `requestsPerSecond` (a tenth to spare), at least one.
 */
export function chainsWanted(requestsPerSecond: number | undefined, latencyMs: number, max: number): number {
  if (requestsPerSecond === undefined) return Math.min(UNPACED_CHAINS, max);
  return Math.max(1, Math.min(max, Math.ceil(((requestsPerSecond * latencyMs) / 1000) * 1.1)));
}

/** The oldest and newest times of a page's records (NaN-free; undefined for an empty page). */
export function pageSpan(
  records: ReadonlyArray<Record<string, unknown>>,
  property: string,
): { oldest: number; newest: number } | undefined {
  let oldest = Infinity;
  let newest = -Infinity;
  for (const r of records) {
    const t = typeof r[property] === 'string' ? Date.parse(r[property]) : NaN;
    if (!Number.isFinite(t)) continue;
    if (t < oldest) oldest = t;
    if (t > newest) newest = t;
  }
  return newest === -Infinity ? undefined : { oldest, newest };
}

/**
 * Where to split a running chain so a new chain can read its older part, or undefined when what
 * is left is too little to be worth a request of its own: records are assumed spread evenly over
 * time, as the chain has found them so far, and each half must hold two pages at least (a split
 * costs up to a request: the new chain's last page, and the page where the old one stops).
 */
export function splitPoint(c: { start: number; end: number; resumeAt: number; fetched: number }): number | undefined {
  const read = c.end - c.resumeAt;
  if (read <= 0 || c.fetched === 0) return undefined;
  const left = ((c.resumeAt - c.start) / read) * c.fetched;
  if (left < 4 * PAGE_SIZE) return undefined;
  return c.start + Math.floor((c.resumeAt - c.start) / 2);
}
