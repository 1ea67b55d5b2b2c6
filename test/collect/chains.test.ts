// How a backfill reads an event stream: one newest-first chain of pages where the throttle sets
// the pace, more chains only where page latency does, resumable from the oldest record stored,
// and never trusting Graph's order further than it holds. A Graph of pages in memory stands in
// for the tenant (its latency and the throttle's rate are figures it reports, so nothing waits);
// the plan lives in a real SQLite store. The simulated tenant over HTTPS is in signins.test.ts.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { chainsWanted, pageSpan, splitPoint } from '../../src/collect/event-chains.js';
import { collectEvents, type EventRunStats } from '../../src/collect/events.js';
import type { GraphClient, GraphPage } from '../../src/entra/graph.js';
import { createCollectionRepo } from '../../src/store/collection.js';
import type { Db } from '../../src/store/db.js';
import { openMigrated } from '../helpers/databases.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;

type Rec = { id: string; createdDateTime: string };

/** An instant as Graph compares them: in 100 ns ticks (its times have seven decimals). */
const ticks = (iso: string): bigint => {
  const fraction = /\.(\d+)Z$/.exec(iso)?.[1] ?? '';
  return BigInt(Date.parse(iso.replace(/\.\d+Z$/, 'Z'))) * 10_000n + BigInt(fraction.padEnd(7, '0').slice(0, 7));
};

/** `n` records spread evenly over the 30 days before NOW, newest first. */
function records(n: number): Rec[] {
  return Array.from({ length: n }, (_, i) => {
    const t = NOW - 16 * MINUTE - Math.floor((i * (30 * DAY - 30 * MINUTE)) / Math.max(1, n));
    return { id: `r${String(i).padStart(6, '0')}`, createdDateTime: new Date(t).toISOString() };
  });
}

interface FakeGraph extends GraphClient {
  requests: string[];
}

/**
 * Pages of `data` for a `createdDateTime ge … and … le …` filter, newest first (or as `order`
 * rearranges each query's result), 1,000 to a page.
 */
function fakeGraph(
  data: Rec[],
  o: {
    rate?: number;
    latencyMs: number;
    order?: (rs: Rec[]) => Rec[];
    retention?: { floor(): number };
    onPage?(): void;
  },
): FakeGraph {
  const requests: string[] = [];
  const g = {
    graphUrl: 'https://graph.invalid',
    stats: { requests: 0, throttled: 0, retries: 0 },
    requests,
    requestsPerSecond: () => o.rate,
    request: () => Promise.reject(new Error('not used')),
    get: () => Promise.reject(new Error('not used')),
    async *pages<T>(url: string, opts: { signal?: AbortSignal } = {}): AsyncGenerator<GraphPage<T>> {
      const filter = decodeURIComponent(/\$filter=([^&]*)/.exec(url)![1]!);
      const [, ge, le] = /createdDateTime ge (\S+) and createdDateTime le (\S+)/.exec(filter)!;
      const inWindow = data
        .filter((r) => ticks(r.createdDateTime) >= ticks(ge!) && ticks(r.createdDateTime) <= ticks(le!))
        .sort((a, b) => (ticks(b.createdDateTime) > ticks(a.createdDateTime) ? 1 : -1));
      const result = o.order ? o.order(inWindow) : inWindow;
      for (let offset = 0; ; offset += 1000) {
        opts.signal?.throwIfAborted();
        // as Graph does, on the first page and on every nextLink: a filter reaching past retention is refused
        if (o.retention && Date.parse(ge!) < o.retention.floor())
          throw new Error(`400 Invalid filter clause: ${ge} is past retention`);
        o.onPage?.();
        requests.push(url);
        await new Promise((r) => setImmediate(r));
        const value = result.slice(offset, offset + 1000) as T[];
        const more = offset + 1000 < result.length;
        yield { value, latencyMs: o.latencyMs, ...(more ? { nextLink: `${url}&$skiptoken=${offset + 1000}` } : {}) };
        if (!more) return;
      }
    },
  };
  return g as unknown as FakeGraph;
}

/** A store in memory: what was stored, by id, and how many times each record arrived. */
function memoryStore(failAfterPages = Infinity, failPage?: number) {
  const byId = new Map<string, number>();
  let pages = 0;
  return {
    byId,
    async upsert(_integrationId: string, rs: Array<Record<string, unknown>>) {
      if (++pages > failAfterPages) throw new Error('the store went away');
      if (pages === failPage) throw new Error(`page ${failPage} could not be stored`);
      await new Promise((r) => setImmediate(r));
      let inserted = 0;
      for (const r of rs) {
        const n = byId.get(r.id as string) ?? 0;
        if (n === 0) inserted++;
        byId.set(r.id as string, n + 1);
      }
      return { inserted, updated: 0, unchanged: rs.length - inserted };
    },
  };
}

const minimumRequests = (n: number) => Math.max(1, Math.ceil(n / 1000));

describe('event backfill chains', () => {
  let db: Db;
  let dispose: () => Promise<void>;
  let stream = 0;
  let dataType: string;
  before(async () => ({ db, dispose } = await openMigrated('sqlite')));
  after(() => dispose());
  beforeEach(() => {
    dataType = `signIns-${++stream}`;
  });

  const run = (
    graph: GraphClient,
    store: ReturnType<typeof memoryStore>,
    extra: Partial<Parameters<typeof collectEvents>[0]> = {},
  ): Promise<EventRunStats> =>
    collectEvents({
      integrationId: 'i',
      dataType,
      graph,
      collection: createCollectionRepo(db),
      store,
      clock: { now: () => NOW },
      ...extra,
    });

  test('where the throttle sets the pace, one chain: exactly the pages the data needs, newest first', async () => {
    const data = records(7_500);
    const graph = fakeGraph(data, { rate: 0.5, latencyMs: 800 });
    const store = memoryStore();
    const stats = await run(graph, store);
    assert.equal(graph.requests.length, minimumRequests(data.length));
    assert.equal(stats.chains, 1);
    assert.equal(store.byId.size, data.length);
    assert.equal(stats.coveredMs, stats.spanMs);
    assert.equal(await createCollectionRepo(db).cursor('i', dataType), NOW - 15 * MINUTE);
  });

  test('an empty stream costs one request', async () => {
    const graph = fakeGraph([], { rate: 0.5, latencyMs: 300 });
    const stats = await run(graph, memoryStore());
    assert.equal(graph.requests.length, 1);
    assert.equal(stats.fetched, 0);
  });

  test('where page latency sets the pace, parallel chains, each costing at most one request more', async () => {
    const data = records(20_000);
    const graph = fakeGraph(data, { rate: 10, latencyMs: 500 }); // one chain would send 2 a second of the 10 allowed
    const store = memoryStore();
    const stats = await run(graph, store);
    assert.ok(stats.chains >= 3, 'as many chains as allowed');
    assert.ok(
      graph.requests.length <= minimumRequests(data.length) + stats.chains,
      `${graph.requests.length} requests for ${stats.chains} chains`,
    );
    assert.ok(graph.requests.length <= minimumRequests(data.length) * 1.15, `${graph.requests.length} requests`);
    assert.equal(store.byId.size, data.length, 'every record');
    assert.equal(stats.chainsDone, stats.chains);
  });

  test('a failure mid-chain leaves its resume point at the oldest record stored; the next run reads only the rest', async () => {
    const data = records(9_000);
    const first = fakeGraph(data, { rate: 0.5, latencyMs: 500 });
    await assert.rejects(run(first, memoryStore(4)), /the store went away/);
    const [chain] = await createCollectionRepo(db).planInProgress('i', dataType);
    assert.equal(
      chain!.resumeAt,
      Date.parse(data[3_999]!.createdDateTime),
      'resumes at the oldest record of the last page stored',
    );
    const second = fakeGraph(data, { rate: 0.5, latencyMs: 500 });
    const store = memoryStore();
    await run(second, store);
    // up to the next millisecond: records later within that millisecond are read again, not lost
    assert.ok(
      second.requests[0]!.includes(
        encodeURIComponent(`le ${new Date(Date.parse(data[3_999]!.createdDateTime) + 1).toISOString()}`),
      ),
    );
    assert.equal(second.requests.length, minimumRequests(data.length - 3_999));
    for (const r of data.slice(3_999)) assert.ok(store.byId.has(r.id), `${r.id} stored by the second run`);
  });

  test('a page that fails to store holds the resume point back, though the page after it was stored', async () => {
    const data = records(6_000);
    await assert.rejects(
      run(fakeGraph(data, { rate: 0.5, latencyMs: 500 }), memoryStore(Infinity, 2)),
      /page 2 could not be stored/,
    );
    const [chain] = await createCollectionRepo(db).planInProgress('i', dataType);
    assert.equal(
      chain!.resumeAt,
      Date.parse(data[999]!.createdDateTime),
      'the oldest record of page 1, the last page stored with all before it',
    );
    const store = memoryStore();
    await run(fakeGraph(data, { rate: 0.5, latencyMs: 500 }), store);
    for (const r of data.slice(999)) assert.ok(store.byId.has(r.id), `${r.id} stored by the second run`);
  });

  test('a resume point inside a millisecond loses none of its records', async () => {
    // Graph's times have seven decimals: the last record of page 1 and the first of page 2 share a millisecond
    const seven = (ms: number, ticks: string) => new Date(ms).toISOString().replace('Z', `${ticks}Z`);
    const data = Array.from({ length: 2_000 }, (_, i) => {
      const ms = NOW - 20 * MINUTE - (i === 1_000 ? 999 : i) * 1_000;
      return { id: `r${i}`, createdDateTime: seven(ms, i === 999 ? '5000' : i === 1_000 ? '4000' : '1234') };
    });
    assert.equal(
      data[999]!.createdDateTime.slice(0, 23),
      data[1_000]!.createdDateTime.slice(0, 23),
      'the same millisecond',
    );
    await assert.rejects(run(fakeGraph(data, { rate: 0.5, latencyMs: 500 }), memoryStore(1)));
    const store = memoryStore();
    await run(fakeGraph(data, { rate: 0.5, latencyMs: 500 }), store);
    assert.ok(store.byId.has(data[1_000]!.id), 'the record after the resume point within its millisecond');
  });

  test('a stop (abort) keeps the plan, and the next run completes it exactly', async () => {
    const data = records(12_000);
    const abort = new AbortController();
    const store = memoryStore();
    await assert.rejects(
      run(fakeGraph(data, { rate: 10, latencyMs: 500 }), store, {
        signal: abort.signal,
        onProgress: (s) => s.pages >= 5 && abort.abort(new Error('stop')),
      }),
    );
    assert.equal(await createCollectionRepo(db).cursor('i', dataType), null, 'the cursor did not move');
    const pending = (await createCollectionRepo(db).planInProgress('i', dataType)).filter((c) => !c.done);
    assert.ok(pending.length > 0);
    await run(fakeGraph(data, { rate: 10, latencyMs: 500 }), store);
    assert.equal(store.byId.size, data.length);
    assert.equal((await createCollectionRepo(db).planInProgress('i', dataType)).length, 0);
  });

  test("when Graph's order does not hold, the chain resumes from its end and reads to its start", async () => {
    const data = records(6_000);
    // the second and third pages come swapped: the third page holds newer records than the second
    const swapped = (rs: Rec[]) =>
      rs.length > 3_000
        ? [...rs.slice(0, 1000), ...rs.slice(2000, 3000), ...rs.slice(1000, 2000), ...rs.slice(3000)]
        : rs;
    await assert.rejects(
      run(fakeGraph(data, { rate: 0.5, latencyMs: 500, order: swapped }), memoryStore(4)),
      /the store went away/,
    );
    const [chain] = await createCollectionRepo(db).planInProgress('i', dataType);
    assert.equal(chain!.resumeAt, chain!.end, 'nothing read is trusted once the order broke');
    const store = memoryStore();
    await run(fakeGraph(data, { rate: 0.5, latencyMs: 500, order: swapped }), store);
    assert.equal(store.byId.size, data.length, 'every record');
  });
});

describe('a backfill longer than the margin inside retention', () => {
  test('asks again before its lower bound leaves retention, and says how much left it before it was read', async () => {
    const { db, dispose } = await openMigrated('sqlite');
    try {
      let now = NOW;
      const data = records(20_000);
      // each page takes Microsoft's 2 s for 1 of 5 slots a 10 s window allows, and the clock runs: 20 pages, 40 minutes
      const graph = fakeGraph(data, {
        rate: 0.5,
        latencyMs: 1_000,
        retention: { floor: () => now - 30 * DAY },
        onPage: () => (now += 2 * MINUTE),
      });
      const store = memoryStore();
      const stats = await collectEvents({
        integrationId: 'i',
        dataType: 'signIns',
        graph,
        collection: createCollectionRepo(db),
        store,
        clock: { now: () => now },
      });
      assert.ok(graph.requests.length <= minimumRequests(data.length) + 8, `${graph.requests.length} requests`);
      // what was still kept when its page was asked for is stored; only the oldest part went
      const floor = now - 30 * DAY;
      const missing = data.filter((r) => !store.byId.has(r.id));
      assert.ok(
        missing.every((r) => Date.parse(r.createdDateTime) < floor + 10 * MINUTE),
        'only records that left retention are missing',
      );
      assert.ok(
        stats.expiredMs > 20 * MINUTE && stats.expiredMs < 45 * MINUTE,
        `${stats.expiredMs / MINUTE} minutes expired`,
      );
      assert.equal(await createCollectionRepo(db).cursor('i', 'signIns'), NOW - 15 * MINUTE, 'the plan completed');
    } finally {
      await dispose();
    }
  });
});

describe('backfill planning', () => {
  test('chains wanted: one while the throttle binds, more as latency grows, two without a throttle', () => {
    assert.equal(chainsWanted(0.5, 1_000, 4), 1); // Microsoft's 5 per 10 s, 1 s pages
    assert.equal(chainsWanted(0.5, 3_000, 4), 2); // 3 s pages: one chain sends 1 per 3 s of the 1 per 2 s allowed
    assert.equal(chainsWanted(10, 500, 3), 3);
    assert.equal(chainsWanted(undefined, 500, 4), 2);
  });

  test('a chain splits at the middle of what it has left, and only if each half holds two pages', () => {
    assert.equal(splitPoint({ start: 0, end: 1_000, resumeAt: 900, fetched: 1_000 }), 450);
    assert.equal(
      splitPoint({ start: 0, end: 1_000, resumeAt: 900, fetched: 400 }),
      undefined,
      'what is left holds under four pages',
    );
    assert.equal(splitPoint({ start: 0, end: 1_000, resumeAt: 1_000, fetched: 0 }), undefined, 'nothing read yet');
  });

  test('page span skips records without a readable time', () => {
    assert.deepEqual(pageSpan([{ t: '2026-01-01T00:00:00Z' }, { t: 'soon' }, { t: '2026-01-02T00:00:00Z' }], 't'), {
      oldest: Date.parse('2026-01-01T00:00:00Z'),
      newest: Date.parse('2026-01-02T00:00:00Z'),
    });
    assert.equal(pageSpan([], 't'), undefined);
  });
});
