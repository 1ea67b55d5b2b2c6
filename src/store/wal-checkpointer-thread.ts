// The WAL checkpointer's thread: copies what the sign-in writer commits from SQLite's write-ahead
// log into the database file, so that the writer's thread does not: the copy took two fifths of
// its time (measured: 27 µs a stored sign-in with checkpoints, 16 without). SQLite documents the
// split (https://www.sqlite.org/wal.html#application_initiated_checkpoints): the other connections'
// automatic checkpoints stay on only as a backstop, at sizes this thread keeps the log below.
import { setTimeout as sleep } from 'node:timers/promises';
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './sqlite-connection.js';

const sqlite = openSqlite((workerData as { sqlitePath: string }).sqlitePath);
sqlite.pragma('cache_size = -1024'); // a checkpoint copies frames; it reads nothing through the cache

const closing = new AbortController(); // the close message ends the wait at once
parentPort!.once('message', () => closing.abort());
let copied = -1;
while (!closing.signal.aborted) {
  // PASSIVE: copies what is committed without waiting for, or holding up, the writer or any
  // reader (a reader's snapshot may hold frames back: they are copied on a later round)
  const [r] = sqlite.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
  // every 50 ms while the log grows, every second while nothing is written
  const idle = r !== undefined && r.checkpointed === copied && r.checkpointed === r.log;
  copied = r?.checkpointed ?? -1;
  await sleep(idle ? 1_000 : 50, undefined, { signal: closing.signal }).catch(() => undefined);
}
sqlite.close();
parentPort!.close();
