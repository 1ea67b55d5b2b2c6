// Storing a batch of sign-ins: which records are new or newer versions (`classify`, shared by
// both stores), and the SQLite writes, which run on the sign-in writer's thread
// (signin-writer-thread.ts). Kept free of Kysely and of the rest of the store so that thread
// starts in milliseconds; its statements are fixed, so they are written here once and prepared
// once per connection, in better-sqlite3's transaction wrapper.
import type SQLite from 'better-sqlite3';
import { blockRanges, compressBlock } from './record-blocks.js';
import { TEXT_COLUMNS, VALUE_COLUMNS, type SignInFields } from './signin-columns.js';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  /** Identical to what is stored, or older than the stored version. */
  unchanged: number;
}

/** A page of sign-ins for the store: ids unique, each with its record's text and digest. */
export interface SignInBatch {
  integrationNo: number;
  collectedAt: number;
  rows: Array<{ fields: SignInFields; digest: number }>;
  texts: string[];
}

/** The version of a record the store holds. */
export interface StoredVersion {
  digest: number;
  blockId: number;
  collectedAt: number;
}

/** A record to write: its place in the batch, and the version it replaces (none: new). */
export type Write = { index: number; replaces?: StoredVersion };

/**
 * The rule both stores apply: a fetched version is stored unless identical to the stored one or
 * fetched earlier than it (a slow, overlapping chain committing late).
 */
export function classify(batch: SignInBatch, stored: (index: number) => StoredVersion | undefined, counts: UpsertCounts): Write[] {
  const writes: Write[] = [];
  batch.rows.forEach((row, index) => {
    const old = stored(index);
    if (!old) writes.push({ index });
    else if (old.digest === row.digest || old.collectedAt > batch.collectedAt) counts.unchanged++;
    else writes.push({ index, replaces: old });
  });
  return writes;
}

/** The columns of a sign-in row, in the order `rowValues` gives them. */
export const ROW_COLUMNS = ['integration_no', 'hour', 'sign_in_id', 'created_at', ...TEXT_COLUMNS, ...VALUE_COLUMNS, 'block_id', 'block_pos', 'digest'] as const;

/** A row's values in ROW_COLUMNS order, its texts given as dictionary numbers. */
export function rowValues(integrationNo: number, fields: SignInFields, textIds: Array<number | null>, digest: number, blockId: number, blockPos: number): Array<string | number | null> {
  return [integrationNo, fields.hour, fields.sign_in_id, fields.created_at, ...textIds, ...fields.values, blockId, blockPos, digest];
}

const prepared = new WeakMap<SQLite.Database, (batch: SignInBatch) => UpsertCounts>();

/** Stores a batch in one transaction. */
export function writeSignIns(sqlite: SQLite.Database, batch: SignInBatch): UpsertCounts {
  let write = prepared.get(sqlite);
  if (!write) prepared.set(sqlite, (write = batchWriter(sqlite)));
  return write(batch);
}

/** Dictionary numbers of texts, cached per connection (a few MB at most: it is emptied when large). */
function sqliteDictionary(sqlite: SQLite.Database) {
  const find = sqlite.prepare('select id from signin_strings where integration_no = ? and value = ?').pluck();
  const add = sqlite.prepare('insert into signin_strings (integration_no, value) values (?, ?)');
  let cache = new Map<string, number>();
  /** Numbers added by the transaction in progress: forgotten again if it rolls back. */
  let added: string[] = [];
  return {
    id(integrationNo: number, value: string | null): number | null {
      if (value === null) return null;
      const key = `${integrationNo}\n${value}`;
      let id = cache.get(key);
      if (id === undefined) {
        id = (find.get(integrationNo, value) as number | undefined) ?? Number(add.run(integrationNo, value).lastInsertRowid);
        if (cache.size >= 200_000) cache = new Map();
        cache.set(key, id);
        added.push(key);
      }
      return id;
    },
    committed: () => void (added = []),
    rolledBack(): void {
      for (const key of added) cache.delete(key);
      added = [];
    },
  };
}

function batchWriter(sqlite: SQLite.Database): (batch: SignInBatch) => UpsertCounts {
  const values = ROW_COLUMNS.map(() => '?').join(', ');
  const stored = sqlite.prepare('select s.digest, s.block_id, b.collected_at from signins s join signin_blocks b on b.id = s.block_id where s.integration_no = ? and s.hour = ? and s.sign_in_id = ?');
  const insertBlock = sqlite.prepare('insert into signin_blocks (integration_no, collected_at, live, data) values (?, ?, ?, ?)');
  const insert = sqlite.prepare(`insert into signins (${ROW_COLUMNS.join(', ')}) values (${values})`);
  const replace = sqlite.prepare(`insert into signins (${ROW_COLUMNS.join(', ')}) values (${values}) on conflict (integration_no, hour, sign_in_id) do update set ${ROW_COLUMNS.slice(3).map((c) => `${c} = excluded.${c}`).join(', ')}`);
  const release = sqlite.prepare('update signin_blocks set live = live - 1 where id = ?');
  const dropEmpty = sqlite.prepare('delete from signin_blocks where id = ? and live <= 0');
  const count = sqlite.prepare('update signin_integrations set signins = signins + ? where no = ?');
  const dictionary = sqliteDictionary(sqlite);

  const transaction = sqlite.transaction((batch: SignInBatch): UpsertCounts => {
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    const no = batch.integrationNo;
    const writes = classify(
      batch,
      (i) => {
        const f = batch.rows[i]!.fields;
        const r = stored.get(no, f.hour, f.sign_in_id) as { digest: number; block_id: number; collected_at: number } | undefined;
        return r && { digest: Number(r.digest), blockId: Number(r.block_id), collectedAt: Number(r.collected_at) };
      },
      counts,
    );
    const emptied = new Set<number>();
    for (const [start, end] of blockRanges(writes.length)) {
      const part = writes.slice(start, end);
      const data = compressBlock(part.map((w) => batch.texts[w.index]!));
      const blockId = Number(insertBlock.run(no, batch.collectedAt, part.length, data).lastInsertRowid);
      part.forEach((w, pos) => {
        const { fields, digest } = batch.rows[w.index]!;
        const row = rowValues(no, fields, fields.texts.map((t) => dictionary.id(no, t)), digest, blockId, pos);
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
    if (counts.inserted > 0) count.run(counts.inserted, no);
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
