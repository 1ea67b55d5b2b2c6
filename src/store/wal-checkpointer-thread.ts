// The WAL checkpointer's thread: copies what the sign-in writer commits from SQLite's write-ahead
// log into the database file, so that the writer's thread does not: the copy took two fifths of
// its time (measured: 27 µs a stored sign-in with checkpoints, 16 without). SQLite documents the
// split (https://www.sqlite.org/wal.html#application_initiated_checkpoints): automatic checkpoints
// stay on for the writer only as a backstop, at a size this thread keeps the log below.
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './sqlite-connection.js';

const sqlite = openSqlite((workerData as { sqlitePath: string }).sqlitePath);
sqlite.pragma('cache_size = -1024'); // a checkpoint copies frames; it reads nothing through the cache

let open = true;
parentPort!.once('message', () => (open = false));
while (open) {
  // PASSIVE: copies what is committed without waiting for, or holding up, the writer or any
  // reader (a reader's snapshot may hold frames back: they are copied on a later round)
  sqlite.pragma('wal_checkpoint(PASSIVE)');
  await sleep(50);
}
sqlite.close();
parentPort!.close();
