// Waiting for SQLite's write lock: another connection (the sign-in writer's thread, another
// idsight process) holds it for a transaction at a time; a write on the main thread waits for it
// without stopping the event loop, and goes through once it is free.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import type { Db } from '../../src/store/db.js';
import { syncToDisk, writeTransaction } from '../../src/store/tx.js';
import { openMigrated, type TestDatabase } from '../helpers/databases.js';

describe('SQLite write lock (main thread)', () => {
  let database: TestDatabase;
  let db: Db;
  let dispose: () => Promise<void>;
  let other: SQLite.Database;

  before(async () => {
    ({ database, db, dispose } = await openMigrated('sqlite'));
    await sql`create table lock_probe (n integer not null)`.execute(db.kysely);
    other = new SQLite(database.sqlitePath);
  });
  after(async () => {
    other.close();
    await dispose();
  });

  /** Runs `write` while the other connection holds the write lock for `holdMs`; how often the event loop turned meanwhile. */
  async function whileLocked(write: () => Promise<unknown>, holdMs: number): Promise<number> {
    other.exec('begin immediate');
    other.exec('insert into lock_probe (n) values (0)');
    let done = false;
    const pending = write().then(() => (done = true));
    let ticks = 0;
    for (const start = Date.now(); Date.now() - start < holdMs; ticks++) await sleep(5);
    assert.equal(done, false, 'the write waits for the lock');
    other.exec('commit');
    await pending; // and completes once it is free
    return ticks;
  }

  test('a statement and a write transaction wait for the lock while timers keep firing, then complete', async () => {
    const plain = await whileLocked(() => sql`insert into lock_probe (n) values (1)`.execute(db.kysely), 200);
    assert.ok(plain >= 20, `the event loop turned ${plain} times in 200 ms`);
    const trx = await whileLocked(
      () => writeTransaction(db, (t) => sql`insert into lock_probe (n) values (2)`.execute(t)),
      200,
    );
    assert.ok(trx >= 20, `the event loop turned ${trx} times in 200 ms`);
    const rows = await sql<{ n: number }>`select n from lock_probe order by n`.execute(db.kysely);
    assert.deepEqual(
      rows.rows.map((r) => r.n),
      [0, 0, 1, 2],
      'every write landed once',
    );
  });

  test('a sync to disk waits for the writer to finish, then checkpoints everything', async () => {
    await whileLocked(() => syncToDisk(db), 100);
    const [log] = other.pragma('wal_checkpoint(passive)') as Array<{ busy: number; log: number; checkpointed: number }>;
    assert.equal(log!.log, log!.checkpointed, 'nothing left in the log');
  });
});
