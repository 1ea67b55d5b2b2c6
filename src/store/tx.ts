// Write transactions. On SQLite a plain BEGIN is deferred: a transaction that reads first and
// writes later can fail with SQLITE_BUSY when another process wrote in between, without waiting.
// BEGIN IMMEDIATE takes the write lock up front, so waiting for the lock applies instead (db.ts).
import { sql, type Kysely } from 'kysely';
import { whileBusy, type Db } from './db.js';
import type { Database } from './schema.js';

export async function writeTransaction<T>(db: Db, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (db.dialect === 'postgres') return db.kysely.transaction().execute(fn);
  return db.kysely.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const result = await fn(conn);
      await sql`commit`.execute(conn);
      return result;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}

/**
 * Makes every committed transaction durable now. PostgreSQL's commits already are. SQLite runs
 * with synchronous=NORMAL, where the last commits can be lost (never corrupted) on power loss; a
 * FULL checkpoint syncs the WAL and the database file.
 */
export async function syncToDisk(db: Db): Promise<void> {
  if (db.dialect !== 'sqlite') return;
  // without a busy timeout (db.ts) a checkpoint that meets a writer says so rather than waiting
  await whileBusy(async () => {
    const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(full)`.execute(db.kysely);
    if (rows[0]?.busy !== 0)
      throw Object.assign(new Error('the SQLite database stayed busy: its last changes could not be synced to disk'), {
        code: 'SQLITE_BUSY',
      });
  });
}

/**
 * Reads that must see one state of the store: what a row points at (a block of records) may be
 * replaced and deleted by a writer between two plain statements. SQLite's transaction sees the
 * database as of its first read; PostgreSQL's needs REPEATABLE READ to.
 */
export async function readSnapshot<T>(db: Db, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T> {
  const t = db.kysely.transaction();
  return (db.dialect === 'postgres' ? t.setIsolationLevel('repeatable read').setAccessMode('read only') : t).execute(
    fn,
  );
}
