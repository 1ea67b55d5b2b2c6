// The sign-in writer's thread: its own connection to the SQLite file, storing the batches the
// main thread sends, one at a time, in the order they arrive. See signin-writer.ts for why.
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './sqlite-connection.js';
import { writeSignIns, type SignInBatch, type UpsertCounts } from './signin-writes.js';

/** What the main thread sends: a batch, or (to either thread) the end. */
export type WriterRequest = { id: number; batch: SignInBatch } | { close: true };
export type WriterReply =
  { id: number; counts: UpsertCounts } | { id: number; error: { message: string; code?: string; name: string } };

const sqlite = openSqlite((workerData as { sqlitePath: string }).sqlitePath);
// The checkpointer's thread copies the log into the database; this connection does it only if
// the log grows past 4,000 pages (64 MiB), which also lets SQLite restart the log from its start.
sqlite.pragma('wal_autocheckpoint = 4000');
const port = parentPort!;
port.on('message', (request: WriterRequest) => {
  if ('close' in request) {
    sqlite.close();
    port.close();
    return;
  }
  let reply: WriterReply;
  try {
    reply = { id: request.id, counts: writeSignIns(sqlite, request.batch) };
  } catch (err) {
    const e = err as Error & { code?: string };
    reply = { id: request.id, error: { message: e.message, name: e.name, ...(e.code ? { code: e.code } : {}) } };
  }
  port.postMessage(reply);
});
