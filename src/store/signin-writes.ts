// Storing a batch of sign-ins: which records are new or newer versions (`classify`, shared by
// both stores), a row's values, and the SQLite writes, which run on the sign-in writer's thread
// (signin-writer-thread.ts). Kept free of Kysely and of the rest of the store so that thread
// starts in milliseconds; its statements are fixed, so they are written here once and prepared
// once per connection, in better-sqlite3's transaction wrapper.
import type SQLite from 'better-sqlite3';
import { blockLines, blockRanges, compressBlock, digestOf } from './record-blocks.js';
import { batchNumber, batchText, TEXT_COLUMNS, VALUE_COLUMNS, type SignInBatch } from './signin-columns.js';

export type { SignInBatch } from './signin-columns.js';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  /** Identical to what is stored, or older than the stored version. */
  unchanged: number;
}

/** The version of a record the store holds. */
export interface StoredVersion {
  digest: number;
  blockId: number;
  collectedAt: number;
}

/** A record to write: its row in the batch, and the version it replaces (none: new). */
export type Write = { row: number; replaces?: StoredVersion };

/** The digests of a batch's records (record-blocks.ts). */
export function digestsOf({ ids, records, spans }: SignInBatch): number[] {
  return ids.map((_, i) => digestOf(records.subarray(spans[2 * i], spans[2 * i + 1])));
}

/**
 * The rule both stores apply: a fetched version is stored unless identical to the stored one or
 * fetched earlier than it (a slow, overlapping chain committing late). Counts the unchanged.
 */
export function classify(
  batch: SignInBatch,
  digests: readonly number[],
  stored: (row: number) => StoredVersion | undefined,
  counts: UpsertCounts,
): Write[] {
  const writes: Write[] = [];
  for (let row = 0; row < batch.ids.length; row++) {
    const old = stored(row);
    if (!old) writes.push({ row });
    else if (old.digest === digests[row] || old.collectedAt > batch.collectedAt) counts.unchanged++;
    else writes.push({ row, replaces: old });
  }
  return writes;
}

/** The sign-ins that writing `writes` adds (not replaces), per event type: what signin_counts keeps. */
export function addedPerEventType(batch: SignInBatch, writes: readonly Write[]): Map<string, number> {
  const added = new Map<string, number>();
  for (const w of writes) {
    if (w.replaces) continue;
    const type = batchText(batch, w.row, 'event_type') ?? '';
    added.set(type, (added.get(type) ?? 0) + 1);
  }
  return added;
}

/** The columns of a sign-in row, in the order `rowValues` gives them. */
export const ROW_COLUMNS = [
  'integration_no',
  'hour',
  'sign_in_id',
  'created_at',
  ...TEXT_COLUMNS,
  ...VALUE_COLUMNS,
  'block_id',
  'block_pos',
  'digest',
] as const;

/** A row's values in ROW_COLUMNS order; `textId` gives the dictionary number of the batch's string at an index. */
export function rowValues(
  batch: SignInBatch,
  row: number,
  digest: number,
  textId: (index: number) => number,
  blockId: number,
  blockPos: number,
): Array<string | number | null> {
  const n = (field: Parameters<typeof batchNumber>[2]) => batchNumber(batch, row, field);
  return [
    batch.integrationNo,
    n('hour'),
    batch.ids[row]!,
    n('created_at'),
    ...Array.from(batch.textRefs.subarray(row * TEXT_COLUMNS.length, (row + 1) * TEXT_COLUMNS.length), (ref) =>
      ref === 0 ? null : textId(ref - 1),
    ),
    n('latitude'),
    n('longitude'),
    n('error_code'),
    n('is_interactive'),
    batch.correlationIds[row] ?? null,
    blockId,
    blockPos,
    digest,
  ];
}

/** The writes in blocks: each block's records' lines and the writes it holds. */
export function blocksOf(batch: SignInBatch, writes: Write[]): Array<{ lines: Uint8Array; writes: Write[] }> {
  return blockRanges(writes.length).map(([a, z]) => {
    const part = writes.slice(a, z);
    return {
      lines: blockLines(
        batch.records,
        batch.spans,
        part.map((w) => w.row),
      ),
      writes: part,
    };
  });
}

const prepared = new WeakMap<SQLite.Database, (batch: SignInBatch) => UpsertCounts>();

/** Stores a batch in one transaction. */
export function writeSignIns(sqlite: SQLite.Database, batch: SignInBatch): UpsertCounts {
  let write = prepared.get(sqlite);
  if (!write) prepared.set(sqlite, (write = batchWriter(sqlite)));
  return write(batch);
}

/** Dictionary numbers of texts, cached per connection and integration (emptied when large). */
function sqliteDictionary(sqlite: SQLite.Database) {
  const find = sqlite.prepare('select id from signin_strings where integration_no = ? and value = ?').pluck();
  const add = sqlite.prepare('insert into signin_strings (integration_no, value) values (?, ?)');
  let caches = new Map<number, Map<string, number>>();
  let size = 0;
  /** Texts numbered by the transaction in progress: forgotten again if it rolls back. */
  let added: Array<[number, string]> = [];
  return {
    id(integrationNo: number, value: string): number {
      let cache = caches.get(integrationNo);
      if (!cache) caches.set(integrationNo, (cache = new Map()));
      let id = cache.get(value);
      if (id === undefined) {
        id =
          (find.get(integrationNo, value) as number | undefined) ??
          Number(add.run(integrationNo, value).lastInsertRowid);
        if (++size > 200_000) {
          caches = new Map([[integrationNo, (cache = new Map())]]);
          size = 1;
        }
        cache.set(value, id);
        added.push([integrationNo, value]);
      }
      return id;
    },
    committed: () => void (added = []),
    rolledBack(): void {
      for (const [no, value] of added) caches.get(no)?.delete(value);
      added = [];
    },
  };
}

function batchWriter(sqlite: SQLite.Database): (batch: SignInBatch) => UpsertCounts {
  const values = ROW_COLUMNS.map(() => '?').join(', ');
  const stored = sqlite.prepare(
    'select s.digest, s.block_id, b.collected_at from signins s join signin_blocks b on b.id = s.block_id ' +
      'where s.integration_no = ? and s.hour = ? and s.sign_in_id = ?',
  );
  const insertBlock = sqlite.prepare(
    'insert into signin_blocks (integration_no, collected_at, live, data) values (?, ?, ?, ?)',
  );
  const insert = sqlite.prepare(`insert into signins (${ROW_COLUMNS.join(', ')}) values (${values})`);
  const replace = sqlite.prepare(
    `insert into signins (${ROW_COLUMNS.join(', ')}) values (${values}) on conflict (integration_no, hour, sign_in_id) do update set ${ROW_COLUMNS.slice(
      3,
    )
      .map((c) => `${c} = excluded.${c}`)
      .join(', ')}`,
  );
  const release = sqlite.prepare('update signin_blocks set live = live - 1 where id = ?');
  const dropEmpty = sqlite.prepare('delete from signin_blocks where id = ? and live <= 0');
  const count = sqlite.prepare(
    'insert into signin_counts (integration_no, event_type, signins) values (?, ?, ?) ' +
      'on conflict (integration_no, event_type) do update set signins = signins + excluded.signins',
  );
  const dictionary = sqliteDictionary(sqlite);

  const transaction = sqlite.transaction((batch: SignInBatch): UpsertCounts => {
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    const no = batch.integrationNo;
    const digests = digestsOf(batch);
    const writes = classify(
      batch,
      digests,
      (row) => {
        const r = stored.get(no, batchNumber(batch, row, 'hour'), batch.ids[row]) as
          { digest: number; block_id: number; collected_at: number } | undefined;
        return r && { digest: Number(r.digest), blockId: Number(r.block_id), collectedAt: Number(r.collected_at) };
      },
      counts,
    );
    // each of the page's texts looked up once, when a row needs it
    const ids: number[] = [];
    const textId = (i: number) => (ids[i] ??= dictionary.id(no, batch.strings[i]!));
    const emptied = new Set<number>();
    for (const block of blocksOf(batch, writes)) {
      const blockId = Number(
        insertBlock.run(no, batch.collectedAt, block.writes.length, compressBlock(block.lines)).lastInsertRowid,
      );
      block.writes.forEach((w, pos) => {
        const row = rowValues(batch, w.row, digests[w.row]!, textId, blockId, pos);
        if (w.replaces) {
          replace.run(row);
          release.run(w.replaces.blockId);
          emptied.add(w.replaces.blockId);
          counts.updated++;
        } else {
          insert.run(row);
          counts.inserted++;
        }
      });
    }
    for (const id of emptied) dropEmpty.run(id);
    for (const [type, n] of addedPerEventType(batch, writes)) count.run(no, type, n);
    return counts;
  });
  // IMMEDIATE takes the write lock up front, so the busy timeout applies (see tx.ts); an error rolls back
  return (batch) => {
    try {
      const counts = transaction.immediate(batch);
      dictionary.committed();
      return counts;
    } catch (err) {
      dictionary.rolledBack();
      throw err;
    }
  };
}
