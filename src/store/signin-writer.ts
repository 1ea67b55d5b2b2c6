// The sign-in store's SQLite writes run on a thread of their own. On one thread, collection is
// bounded by the sum of its two halves — receiving and parsing Graph's pages, and SQLite storing
// the rows (each about as costly as the other) — and SQLite's half blocks everything else. On two
// they overlap: the main thread parses the next page while this one stores the last. The thread
// has its own connection to the same file (WAL: readers never wait for it; other writers wait
// for its transaction through the busy timeout) and starts on the first batch.
import { Worker } from 'node:worker_threads';
import type { SignInValues, UpsertCounts } from './signin-writes.js';
import type { WriterReply, WriterRequest } from './signin-writer-thread.js';

export class SignInWriter {
  #worker: Worker | undefined;
  #next = 0;
  readonly #pending = new Map<number, { resolve(c: UpsertCounts): void; reject(e: Error): void }>();

  constructor(private readonly sqlitePath: string) {}

  /** Stores rows (values in COLUMNS order, ids unique) in one transaction on the writer's thread. */
  write(rows: SignInValues[]): Promise<UpsertCounts> {
    const worker = this.#start();
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      worker.ref(); // an idle writer does not keep the process alive; a busy one does
      worker.postMessage({ id, rows } satisfies WriterRequest);
    });
  }

  /** Lets the batches sent finish, then closes the thread's connection. */
  async close(): Promise<void> {
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = undefined;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    worker.ref();
    worker.postMessage({ close: true } satisfies WriterRequest);
    await exited;
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = spawnThread(this.sqlitePath);
    worker.on('message', (reply: WriterReply) => {
      const waiting = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) worker.unref();
      if ('counts' in reply) waiting?.resolve(reply.counts);
      else waiting?.reject(Object.assign(new Error(reply.error.message), { name: reply.error.name, code: reply.error.code }));
    });
    // A thread that fails to start or dies fails what it held; the next batch starts a new one.
    const fail = (err: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const waiting of this.#pending.values()) waiting.reject(err);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the sign-in writer thread exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}

function spawnThread(sqlitePath: string): Worker {
  const self = import.meta.url;
  const entry = new URL(`./signin-writer-thread${self.slice(self.lastIndexOf('.'))}`, import.meta.url);
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { workerData: { sqlitePath } });
  // From the sources (tests, `npm start`): a thread does not inherit tsx's loader, so it registers it first.
  return new Worker(`import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`, {
    eval: true,
    workerData: { sqlitePath },
  });
}
