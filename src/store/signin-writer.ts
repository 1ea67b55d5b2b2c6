// The sign-in store's SQLite writes run on a thread of their own. On one thread, collection is
// bounded by the sum of its two halves — receiving and parsing Graph's pages, and SQLite storing
// the rows (each about as costly as the other) — and SQLite's half blocks everything else. On two
// they overlap: the main thread parses the next page while this one stores the last. The thread
// has its own connection to the same file (WAL: readers never wait for it; other writers wait
// for its transaction through the busy timeout) and starts on the first batch, with a second
// thread that checkpoints what it writes (wal-checkpointer-thread.ts).
import { Worker, type ResourceLimits } from 'node:worker_threads';
import type { SignInBatch, UpsertCounts } from './signin-writes.js';
import type { WriterReply, WriterRequest } from './signin-writer-thread.js';

export class SignInWriter {
  #writer: Writer | undefined;
  #checkpointer: Worker | undefined;
  #next = 0;
  #closed = false;

  constructor(private readonly sqlitePath: string) {}

  /** Stores a batch (ids unique) in one transaction on the writer's thread. */
  write(batch: SignInBatch): Promise<UpsertCounts> {
    if (this.#closed) return Promise.reject(new Error('the sign-in store is closed'));
    const { worker, pending } = this.#start();
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.ref(); // an idle writer does not keep the process alive; a busy one does
      worker.postMessage({ id, batch } satisfies WriterRequest, [
        batch.numbers.buffer,
        batch.textRefs.buffer,
        batch.records.buffer,
        batch.spans.buffer,
      ]); // the arrays move, not copied
    });
  }

  /** Lets the batches sent finish, then closes the threads' connections. */
  async close(): Promise<void> {
    this.#closed = true;
    const threads = [this.#writer?.worker, this.#checkpointer].filter((t) => t !== undefined);
    this.#writer = this.#checkpointer = undefined;
    await Promise.all(
      threads.map((thread) => {
        const exited = new Promise((resolve) => thread.once('exit', resolve));
        thread.ref();
        thread.postMessage({ close: true } satisfies WriterRequest);
        return exited;
      }),
    );
  }

  #start(): Writer {
    if (this.#writer) return this.#writer;
    if (!this.#checkpointer) {
      const checkpointer = spawnThread('wal-checkpointer-thread', this.sqlitePath, CHECKPOINTER_LIMITS);
      checkpointer.unref(); // it never keeps the process alive; should it fail, the writer checkpoints itself
      checkpointer.on('error', () => undefined);
      checkpointer.once('exit', () => this.#checkpointer === checkpointer && (this.#checkpointer = undefined));
      this.#checkpointer = checkpointer;
    }
    const worker = spawnThread('signin-writer-thread', this.sqlitePath, WRITER_LIMITS);
    const pending = new Map<number, Waiting>();
    worker.on('message', (reply: WriterReply) => {
      const waiting = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      if ('counts' in reply) waiting?.resolve(reply.counts);
      else
        waiting?.reject(
          Object.assign(new Error(reply.error.message), { name: reply.error.name, code: reply.error.code }),
        );
    });
    // A thread that fails to start or dies fails what it held; the next batch starts a new one.
    const fail = (err: Error) => {
      if (this.#writer?.worker === worker) this.#writer = undefined;
      for (const waiting of pending.values()) waiting.reject(err);
      pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the sign-in writer thread exited (code ${code})`)));
    this.#writer = { worker, pending };
    return this.#writer;
  }
}

type Waiting = { resolve(c: UpsertCounts): void; reject(e: Error): void };
/** The writer's thread and the batches it holds. */
type Writer = { worker: Worker; pending: Map<number, Waiting> };

/**
 * The writer holds one batch at a time: a Graph page, a few MB (up to 60 MB for a thousand
 * sign-ins with many conditional-access policies each). A small young generation makes it
 * collect that garbage early instead of growing the collector's memory by tens of MB. The
 * checkpointer holds next to nothing.
 */
const WRITER_LIMITS = { maxOldGenerationSizeMb: 256, maxYoungGenerationSizeMb: 8 };
const CHECKPOINTER_LIMITS = { maxOldGenerationSizeMb: 8, maxYoungGenerationSizeMb: 1 };

function spawnThread(name: string, sqlitePath: string, resourceLimits: ResourceLimits): Worker {
  const self = import.meta.url;
  const entry = new URL(`./${name}${self.slice(self.lastIndexOf('.'))}`, import.meta.url);
  const options = { workerData: { sqlitePath }, resourceLimits };
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, options);
  // From the sources (tests, `npm start`): a thread does not inherit tsx's loader, so it registers
  // it first (found from here: an eval'd thread would look for it from the working directory).
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(
    `import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`,
    { ...options, eval: true },
  );
}
