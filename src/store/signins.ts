// The sign-in store: a narrow row per sign-in with the typed columns checks and insights filter
// on (texts as dictionary numbers), and every Graph record byte for byte in compressed blocks
// (migrations/0007_compact_signins.ts). Writes go through one batch writer per database (SQLite:
// signin-writes.ts on a thread of its own; PostgreSQL: signins-postgres.ts); reads give rows
// back with their texts and, when asked, their records.
import { sql, type Kysely, type Selectable } from 'kysely';
import { ValidationError } from '../errors.js';
import type { Db } from './db.js';
import { deleteBatch } from './batch-delete.js';
import { decompressBlock } from './record-blocks.js';
import type { Database, SignInTable } from './schema.js';
import { readSnapshot } from './tx.js';
import {
  buildBatch,
  hourOf,
  TEXT_COLUMNS,
  VALUE_COLUMNS,
  type GraphSignIn,
  type ReceivedRecords,
  type TextColumn,
  type ValueColumn,
} from './signin-columns.js';
import { postgresDictionary, writeSignInsPostgres } from './signins-postgres.js';
import type { UpsertCounts } from './signin-writes.js';

export type { UpsertCounts } from './signin-writes.js';
export { hourOf, type GraphSignIn } from './signin-columns.js';

/** The hours a time window [since, until) touches: how queries by user, address or app name them. */
export function hoursBetween(since: number, until: number): number[] {
  const first = hourOf(since);
  const last = hourOf(until - 1);
  if (last - first > 24 * 400) throw new ValidationError('a sign-in query window may span at most 400 days');
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

/** A stored sign-in's key, typed columns and when this version was fetched. */
export type SignInColumns = {
  sign_in_id: string;
  hour: number;
  created_at: number;
  collected_at: number;
} & Record<TextColumn, string | null> &
  Record<Exclude<ValueColumn, 'correlation_id'>, number | null> & { correlation_id: string | null };

/** …and its Graph record, the JSON as received. */
export type StoredSignIn = SignInColumns & { raw: string };

export interface SignInQuery {
  integrationId: string;
  since: number;
  until: number;
  userId?: string | undefined;
  limit?: number | undefined;
}

/** What `stream` reads: a window on created_at ([since, until)) and event types to keep or leave out. */
export interface SignInStreamQuery {
  since?: number | undefined;
  until?: number | undefined;
  /** Only these event types (interactiveUser, nonInteractiveUser, servicePrincipal, managedIdentity). */
  eventTypes?: readonly string[] | undefined;
  /** Every event type but these (so types Graph adds later are not silently left out). */
  exceptEventTypes?: readonly string[] | undefined;
  /** Also each record's Graph JSON (default true); the typed columns alone need no block opened. */
  raw?: boolean;
  /** Rows read per query: memory stays flat whatever the number of sign-ins. */
  batch?: number | undefined;
}

/** Rows a purge deletes per transaction: a few tens of milliseconds of SQLite's write lock. */
const PURGE_BATCH_ROWS = 5_000;
type Row = Selectable<SignInTable>;

export function createSignInRepo(db: Db) {
  const k = db.kysely;
  const numbers = new Map<string, number>();
  const dictionary = db.pgPool ? postgresDictionary() : undefined;

  /** How many sign-ins an integration has per event type: kept as they are stored, so nothing is counted here. */
  async function countsPerEventType(integrationId: string): Promise<Record<string, number>> {
    const rows = await k
      .selectFrom('signin_counts')
      .innerJoin('signin_integrations', 'signin_integrations.no', 'signin_counts.integration_no')
      .select(['event_type', 'signins'])
      .where('integration_id', '=', integrationId)
      .orderBy('event_type')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.event_type, Number(r.signins)]));
  }

  /** The integration's number in the sign-in tables; made on its first sign-in. */
  async function numberOf(integrationId: string, create: boolean): Promise<number | undefined> {
    const known = numbers.get(integrationId);
    if (known !== undefined) return known;
    const find = () =>
      k.selectFrom('signin_integrations').select('no').where('integration_id', '=', integrationId).executeTakeFirst();
    let row = await find();
    if (!row && create) {
      await k
        .insertInto('signin_integrations')
        .values({ integration_id: integrationId })
        .onConflict((oc) => oc.column('integration_id').doNothing())
        .execute();
      row = await find();
    }
    if (row) numbers.set(integrationId, Number(row.no));
    return row && Number(row.no);
  }

  /**
   * Rows as stored sign-ins: texts looked up (and kept for the next batch), records opened when
   * asked. Rows in time order come from a few blocks each batch; the last sixteen blocks opened
   * stay open, so memory stays bounded however the rows are spread. Read in the rows' snapshot.
   */
  function decoder(withRaw: boolean) {
    let texts = new Map<number, string>();
    const opened = new Map<number, string[]>();
    return async (trx: Kysely<Database>, rows: Row[]): Promise<StoredSignIn[]> => {
      if (texts.size > 200_000) texts = new Map();
      const wanted = new Set<number>();
      for (const r of rows)
        for (const c of TEXT_COLUMNS) if (r[c] !== null && !texts.has(Number(r[c]))) wanted.add(Number(r[c]));
      const ids = [...wanted];
      for (let i = 0; i < ids.length; i += 500) {
        for (const t of await trx
          .selectFrom('signin_strings')
          .select(['id', 'value'])
          .where('id', 'in', ids.slice(i, i + 500))
          .execute())
          texts.set(Number(t.id), t.value);
      }
      const blocks = new Map<number, { collectedAt: number; data?: Uint8Array }>();
      const blockIds = [...new Set(rows.map((r) => Number(r.block_id)))];
      for (let i = 0; i < blockIds.length; i += 100) {
        const part = blockIds.slice(i, i + 100);
        for (const b of await trx
          .selectFrom('signin_blocks')
          .select(['id', 'collected_at'])
          .where('id', 'in', part)
          .execute())
          blocks.set(Number(b.id), { collectedAt: Number(b.collected_at) });
        const closed = withRaw ? part.filter((id) => !opened.has(id)) : [];
        if (closed.length > 0)
          for (const b of await trx
            .selectFrom('signin_blocks')
            .select(['id', 'data'])
            .where('id', 'in', closed)
            .execute())
            blocks.get(Number(b.id))!.data = b.data;
      }
      // the blocks open now stay open for this batch; any other is read again if it had to be closed
      const pinned = new Map(blockIds.flatMap((id) => (opened.has(id) ? [[id, opened.get(id)!] as const] : [])));
      const open = (id: number): string[] => {
        let records = pinned.get(id) ?? opened.get(id);
        if (records) return records;
        records = decompressBlock(blocks.get(id)!.data!);
        if (opened.size >= 16) opened.delete(opened.keys().next().value!);
        opened.set(id, records);
        return records;
      };
      return rows.map((r) => {
        const block = blocks.get(Number(r.block_id));
        if (!block)
          throw new Error(`internal error: sign-in ${r.sign_in_id} points at block ${r.block_id}, which is missing`);
        const out: Record<string, unknown> = {
          sign_in_id: r.sign_in_id,
          hour: Number(r.hour),
          created_at: Number(r.created_at),
          collected_at: block.collectedAt,
        };
        for (const c of TEXT_COLUMNS) out[c] = r[c] === null ? null : (texts.get(Number(r[c])) ?? null);
        for (const c of VALUE_COLUMNS) out[c] = r[c] === null || c === 'correlation_id' ? r[c] : Number(r[c]);
        if (withRaw) out.raw = open(Number(r.block_id))[Number(r.block_pos)];
        return out as StoredSignIn;
      });
    };
  }

  /** The dictionary numbers of `values` in the integration's texts, as a subquery. */
  const textIn = (trx: Kysely<Database>, no: number, values: readonly string[]) =>
    trx
      .selectFrom('signin_strings')
      .select('id')
      .where('integration_no', '=', no)
      .where('value', 'in', [...values]);

  return {
    /**
     * Stores a page in one transaction. The newest fetch of a record wins: a version fetched
     * earlier than the stored one (a slow, overlapping chain) never replaces it, and an identical
     * one changes nothing. `received`, when given, is the records' JSON as Graph sent it, kept as it
     * is (the store may take its bytes over).
     */
    async upsert(
      integrationId: string,
      records: GraphSignIn[],
      collectedAt: number,
      received?: ReceivedRecords,
    ): Promise<UpsertCounts> {
      if (records.length === 0) return { inserted: 0, updated: 0, unchanged: 0 };
      // Map everything before touching the database: one malformed record fails the whole batch.
      const batch = buildBatch(records, received, collectedAt);
      const full = { ...batch, integrationNo: (await numberOf(integrationId, true))! };
      if (db.pgPool) return writeSignInsPostgres(db.pgPool, dictionary!, full);
      if (!db.signInWriter) throw new Error('internal error: this SQLite store was opened without its sign-in writer');
      return db.signInWriter.write(full);
    },

    /** One sign-in, by id and its createdDateTime (findings keep both as evidence), with its record. */
    async get(integrationId: string, signInId: string, createdAt: number): Promise<StoredSignIn | undefined> {
      const no = await numberOf(integrationId, false);
      if (no === undefined) return undefined;
      return readSnapshot(db, async (trx) => {
        const row = await trx
          .selectFrom('signins')
          .selectAll()
          .where('integration_no', '=', no)
          .where('hour', '=', hourOf(createdAt))
          .where('sign_in_id', '=', signInId)
          .executeTakeFirst();
        return row && (await decoder(true)(trx, [row]))[0];
      });
    },

    /** Sign-ins in [since, until), newest first, with their records; optionally one user's. */
    async list(q: SignInQuery): Promise<StoredSignIn[]> {
      const no = await numberOf(q.integrationId, false);
      if (no === undefined) return [];
      return readSnapshot(db, async (trx) => {
        let query = trx
          .selectFrom('signins')
          .selectAll()
          .where('integration_no', '=', no)
          .where('created_at', '>=', q.since)
          .where('created_at', '<', q.until)
          .orderBy('created_at', 'desc')
          .orderBy('sign_in_id');
        if (q.userId !== undefined)
          query = query
            .where('hour', 'in', hoursBetween(q.since, q.until))
            .where('user_id', 'in', textIn(trx, no, [q.userId]));
        if (q.limit !== undefined) query = query.limit(q.limit);
        return decoder(true)(trx, await query.execute());
      });
    },

    /**
     * Sign-ins in created_at order (then id), a batch at a time: keyset pagination, so each query
     * starts where the last one ended and nothing is held but the current batch.
     */
    async *stream<Raw extends boolean = true>(
      integrationId: string,
      q: SignInStreamQuery & { raw?: Raw } = {},
    ): AsyncGenerator<Raw extends false ? SignInColumns : StoredSignIn> {
      const no = await numberOf(integrationId, false);
      if (no === undefined) return;
      const batch = q.batch ?? 1_000;
      const decode = decoder(q.raw ?? true);
      let after: { t: number; id: string } | undefined;
      for (;;) {
        let query = db.kysely.selectFrom('signins').selectAll().where('integration_no', '=', no);
        if (q.since !== undefined) query = query.where('created_at', '>=', q.since);
        if (q.until !== undefined) query = query.where('created_at', '<', q.until);
        if (q.eventTypes)
          query =
            q.eventTypes.length > 0
              ? query.where('event_type', 'in', textIn(db.kysely, no, q.eventTypes))
              : query.where(sql<boolean>`false`);
        if (q.exceptEventTypes && q.exceptEventTypes.length > 0)
          query = query.where('event_type', 'not in', textIn(db.kysely, no, q.exceptEventTypes));
        if (after) {
          const a = after;
          // The plain lower bound lets the (integration_no, created_at) index start at the cursor.
          query = query
            .where('created_at', '>=', a.t)
            .where((eb) => eb.or([eb('created_at', '>', a.t), eb('sign_in_id', '>', a.id)]));
        }
        const ordered = query.orderBy('created_at').orderBy('sign_in_id').limit(batch).compile();
        const [rows, decoded] = await readSnapshot(db, async (trx) => {
          const found = (await trx.executeQuery(ordered)).rows;
          return [found, await decode(trx, found)] as const;
        });
        for (const row of decoded) yield row as Raw extends false ? SignInColumns : StoredSignIn;
        if (rows.length < batch) return;
        const last = rows[rows.length - 1]!;
        after = { t: Number(last.created_at), id: last.sign_in_id };
      }
    },

    countsPerEventType,
    /** How many sign-ins an integration has, every event type. */
    async count(integrationId: string): Promise<number> {
      return Object.values(await countsPerEventType(integrationId)).reduce((a, b) => a + b, 0);
    },

    /**
     * Deletes every sign-in of an integration (after it is removed, when asked); returns how many.
     * Rows go a batch at a time, each batch its own transaction, so SQLite's write lock is never
     * held for long; an interrupted purge picks up where it stopped when called again.
     */
    async purge(integrationId: string, opts: { batchRows?: number; stopped?: () => boolean } = {}): Promise<number> {
      const no = await numberOf(integrationId, false);
      if (no === undefined) return 0;
      const rows = opts.batchRows ?? PURGE_BATCH_ROWS;
      let signIns = 0;
      for (const table of ['signins', 'signin_blocks', 'signin_strings'] as const) {
        for (;;) {
          if (opts.stopped?.()) return signIns;
          const deleted = Number(
            (await deleteBatch(db, table, 'integration_no', no, rows).execute(k)).numAffectedRows ?? 0,
          );
          if (table === 'signins') signIns += deleted;
          if (deleted < rows) break;
        }
      }
      await k.deleteFrom('signin_counts').where('integration_no', '=', no).execute();
      await k.deleteFrom('signin_integrations').where('no', '=', no).execute();
      numbers.delete(integrationId);
      return signIns;
    },
  };
}
export type SignInRepo = ReturnType<typeof createSignInRepo>;
