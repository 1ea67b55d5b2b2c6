// Batch upsert of realistic sign-ins (about 2.3 KB of JSON each, varied users/apps/IPs, every
// index present) into SQLite and PostgreSQL, in Graph-sized pages of 1,000.
// Figures: rows per second (first insert, and a re-fetch of the same records), bytes per stored
// sign-in, and peak RSS. PostgreSQL runs when IDSIGHT_BENCH_PG_URL or IDSIGHT_TEST_PG_URL is set.
import { sql } from 'kysely';
import type { Db, Dialect } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { createSignInRepo } from '../src/store/signins.js';
import { signIns, take } from '../test/fixtures/signin-factory.js';
import { createTestDatabase } from '../test/helpers/databases.js';

const PAGE = Number(process.env.BENCH_BATCH ?? 1000);
const ROWS: Record<Dialect, number> = { sqlite: Number(process.env.BENCH_SQLITE_ROWS ?? 200_000), postgres: Number(process.env.BENCH_PG_ROWS ?? 100_000) };
const TARGET: Record<Dialect, number> = { sqlite: 30_000, postgres: 10_000 };

async function storedBytes(db: Db): Promise<number> {
  if (db.dialect === 'postgres') {
    const r = await sql<{ n: number }>`select pg_total_relation_size('signins')::bigint as n`.execute(db.kysely);
    return Number(r.rows[0]!.n);
  }
  await sql`pragma wal_checkpoint(truncate)`.execute(db.kysely);
  const pages = await sql<{ page_count: number }>`pragma page_count`.execute(db.kysely);
  const free = await sql<{ freelist_count: number }>`pragma freelist_count`.execute(db.kysely);
  const size = await sql<{ page_size: number }>`pragma page_size`.execute(db.kysely);
  return (pages.rows[0]!.page_count - free.rows[0]!.freelist_count) * size.rows[0]!.page_size;
}

async function run(dialect: Dialect): Promise<void> {
  const n = ROWS[dialect];
  const database = await createTestDatabase(dialect);
  const db = database.open();
  try {
    await migrate(db);
    const repo = createSignInRepo(db);
    let upsertMs = 0;
    let jsonBytes = 0;
    const pass = async (seed: number, expect: 'inserted' | 'unchanged') => {
      const source = signIns({ seed, users: 5000 });
      let ms = 0;
      for (let done = 0; done < n; done += PAGE) {
        const page = take(source, Math.min(PAGE, n - done)); // generation is not timed
        if (expect === 'inserted') for (const r of page) jsonBytes += JSON.stringify(r).length;
        const t0 = performance.now();
        const counts = await repo.upsert('bench', page, Date.now());
        ms += performance.now() - t0;
        if (counts[expect] !== page.length) throw new Error(`expected ${page.length} ${expect}, got ${JSON.stringify(counts)}`);
      }
      return ms;
    };
    upsertMs = await pass(1, 'inserted');
    const refetchMs = await pass(1, 'unchanged');
    const bytes = await storedBytes(db);
    const rate = Math.round(n / (upsertMs / 1000));
    console.log(
      JSON.stringify({
        benchmark: 'signin-upsert',
        dialect,
        rows: n,
        avgJsonBytes: Math.round(jsonBytes / n),
        insertRowsPerSec: rate,
        refetchRowsPerSec: Math.round(n / (refetchMs / 1000)),
        bytesPerStoredSignIn: Math.round(bytes / n),
        target: TARGET[dialect],
        meetsTarget: rate >= TARGET[dialect],
      }),
    );
  } finally {
    await db.close();
    await database.drop();
  }
}

const pgUrl = process.env.IDSIGHT_BENCH_PG_URL ?? process.env.IDSIGHT_TEST_PG_URL;
await run('sqlite');
if (pgUrl) {
  process.env.IDSIGHT_TEST_PG_URL = pgUrl;
  await run('postgres');
} else {
  console.log(JSON.stringify({ benchmark: 'signin-upsert', dialect: 'postgres', skipped: 'set IDSIGHT_BENCH_PG_URL (or IDSIGHT_TEST_PG_URL) to a PostgreSQL server' }));
}
console.log(JSON.stringify({ benchmark: 'signin-upsert', peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024) }));
