// Batch upsert of realistic sign-ins (about 2.3 KB of JSON each, varied users/apps/IPs, every
// index present) into SQLite and PostgreSQL, in Graph-sized pages of 1,000 per transaction.
// Figures: rows per second for the first insert and for a re-fetch of the same records (all
// unchanged), bytes per stored sign-in, and peak RSS. Each page is given with its records' texts
// as the collector gives them (sliced from the page it received). Measured with one batch at a
// time and with several in flight, as the collector's backfill slices hand pages over (two
// slices, up to two pages each): PostgreSQL writes them on several connections, SQLite maps the
// next batch while its writer thread stores the last.
// PostgreSQL runs when IDSIGHT_BENCH_PG_URL or IDSIGHT_TEST_PG_URL is set.
import { arrayItemSpans } from '../src/entra/page-text.js';
import type { Db, Dialect } from '../src/store/db.js';
import { createSignInRepo, type GraphSignIn } from '../src/store/signins.js';
import { signIns, take } from '../test/fixtures/signin-factory.js';
import { openMigrated } from '../test/helpers/databases.js';
import { storeBytes } from './store-size.js';

const PAGE = Number(process.env.BENCH_BATCH ?? 1000);
const ROWS: Record<Dialect, number> = {
  sqlite: Number(process.env.BENCH_SQLITE_ROWS ?? 200_000),
  postgres: Number(process.env.BENCH_PG_ROWS ?? 100_000),
};
const TARGET: Record<Dialect, number> = { sqlite: 30_000, postgres: 10_000 };
const INTEGRATION = '1f0c5a3e-9d2b-4c1e-8f7a-2b3c4d5e6f70';

/** Upserts `n` generated sign-ins page by page with `inFlight` pages at a time; returns rows/s. */
async function pass(
  db: Db,
  n: number,
  seed: number,
  expect: 'inserted' | 'unchanged',
  inFlight: number,
): Promise<number> {
  const repo = createSignInRepo(db);
  const source = signIns({ seed, users: 5000 });
  let timedMs = 0;
  for (let done = 0; done < n; done += PAGE * inFlight) {
    // Generation is not timed; each round stores `inFlight` pages concurrently.
    const pages: GraphSignIn[][] = [];
    for (let i = 0; i < inFlight && done + i * PAGE < n; i++)
      pages.push(take(source, Math.min(PAGE, n - done - i * PAGE)));
    const received = pages.map((page) => {
      const bytes = Buffer.from(JSON.stringify({ value: page }));
      return { bytes, spans: arrayItemSpans(bytes, 'value')! };
    });
    // Collect the generator's garbage now, so its collection is not billed to the upsert
    // (run-bench passes --expose-gc).
    (globalThis as { gc?: () => void }).gc?.();
    const t0 = performance.now();
    const counts = await Promise.all(pages.map((page, i) => repo.upsert(INTEGRATION, page, Date.now(), received[i])));
    timedMs += performance.now() - t0;
    counts.forEach((c, i) => {
      if (c[expect] !== pages[i]!.length)
        throw new Error(`expected ${pages[i]!.length} ${expect}, got ${JSON.stringify(c)}`);
    });
  }
  return Math.round(n / (timedMs / 1000));
}

async function run(dialect: Dialect, inFlight: number): Promise<void> {
  const n = ROWS[dialect];
  const { database, db, dispose } = await openMigrated(dialect);
  try {
    const insert = await pass(db, n, 1, 'inserted', inFlight);
    const refetch = await pass(db, n, 1, 'unchanged', inFlight);
    const sample = take(signIns({ seed: 1, users: 5000 }), 1000);
    console.log(
      JSON.stringify({
        benchmark: 'signin-upsert',
        dialect,
        batchesInFlight: inFlight,
        rows: n,
        avgJsonBytes: Math.round(sample.reduce((a, r) => a + JSON.stringify(r).length, 0) / sample.length),
        insertRowsPerSec: insert,
        refetchRowsPerSec: refetch,
        bytesPerStoredSignIn: Math.round((await storeBytes(database)) / n),
        target: TARGET[dialect],
        meetsTarget: insert >= TARGET[dialect],
      }),
    );
  } finally {
    await dispose();
  }
}

const pgUrl = process.env.IDSIGHT_BENCH_PG_URL ?? process.env.IDSIGHT_TEST_PG_URL;
await run('sqlite', 1);
await run('sqlite', 4);
if (pgUrl) {
  process.env.IDSIGHT_TEST_PG_URL = pgUrl;
  await run('postgres', 1);
  await run('postgres', 4);
} else {
  console.log(
    JSON.stringify({
      benchmark: 'signin-upsert',
      dialect: 'postgres',
      skipped: 'set IDSIGHT_BENCH_PG_URL (or IDSIGHT_TEST_PG_URL) to a PostgreSQL server',
    }),
  );
}
console.log(
  JSON.stringify({ benchmark: 'signin-upsert', peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }),
);
