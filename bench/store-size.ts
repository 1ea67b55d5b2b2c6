// How much disk a sign-in store takes (not a *.bench.ts: run-bench skips it): the SQLite file with
// its write-ahead log, or on PostgreSQL the sign-in tables with their indexes and TOAST.
import { existsSync, statSync } from 'node:fs';
import { sql } from 'kysely';
import type { TestDatabase } from '../test/helpers/databases.js';

export async function storeBytes(database: TestDatabase): Promise<number> {
  if (database.dialect === 'sqlite') {
    return ['', '-wal'].reduce(
      (n, suffix) => n + (existsSync(database.sqlitePath + suffix) ? statSync(database.sqlitePath + suffix).size : 0),
      0,
    );
  }
  const db = database.open();
  try {
    const r = await sql<{
      n: number;
    }>`select (pg_total_relation_size('signins') + pg_total_relation_size('signin_blocks') + pg_total_relation_size('signin_strings'))::bigint as n`.execute(
      db.kysely,
    );
    return Number(r.rows[0]!.n);
  } finally {
    await db.close();
  }
}
