// Storing a batch of sign-ins in PostgreSQL: the same rule and layout as SQLite's writer
// (signin-writes.ts), as a few set-based statements on one pool client. Kysely does not speak
// arrays of bytea or json_populate_recordset well, so these fixed statements are written here.
import type pg from 'pg';
import { compressBlockAsync } from './record-blocks.js';
import { batchNumber, batchTexts } from './signin-columns.js';
import {
  addedPerEventType,
  blocksOf,
  classify,
  digestsOf,
  ROW_COLUMNS,
  rowValues,
  type SignInBatch,
  type StoredVersion,
  type UpsertCounts,
} from './signin-writes.js';

/** The first key of the advisory locks that serialise an integration's batches (any constant of ours). */
const SIGN_IN_LOCKS = 0x5167;

const SET = ROW_COLUMNS.slice(3)
  .map((c) => `${c} = excluded.${c}`)
  .join(', ');
const UPSERT_ROWS = `insert into signins (${ROW_COLUMNS.join(', ')})
  select ${ROW_COLUMNS.join(', ')} from json_populate_recordset(null::signins, $1::json)
  on conflict (integration_no, hour, sign_in_id) do update set ${SET}`;

/**
 * Each integration's texts as dictionary numbers, cached (emptied when large). Texts are looked
 * up, and the new ones numbered, on the batch's own connection inside its transaction, after the
 * integration's lock: no second connection is needed (a pool whose connections all wait for one
 * would wait forever), and no other writer of the integration numbers a text meanwhile. The
 * cache learns the new numbers only once the batch commits.
 */
export function postgresDictionary() {
  let cache = new Map<string, number>();
  const key = (no: number, value: string) => `${no}\n${value}`;
  return {
    async ids(
      client: pg.PoolClient,
      no: number,
      values: ReadonlySet<string>,
    ): Promise<{ ids: Map<string, number>; committed(): void }> {
      const ids = new Map<string, number>();
      const missing: string[] = [];
      for (const v of values) {
        const id = cache.get(key(no, v));
        if (id === undefined) missing.push(v);
        else ids.set(v, id);
      }
      const learnt: Array<[string, number]> = [];
      for (let i = 0; i < missing.length; i += 5_000) {
        const part = missing.slice(i, i + 5_000);
        const found = await client.query<{ id: number; value: string }>(
          'select id, value from signin_strings where integration_no = $1 and value = any($2::text[])',
          [no, part],
        );
        for (const r of found.rows) learnt.push([r.value, Number(r.id)]);
        const known = new Set(found.rows.map((r) => r.value));
        const fresh = part.filter((v) => !known.has(v));
        // (only texts it does not have: an insert that conflicts would still use up a number)
        if (fresh.length > 0) {
          const added = await client.query<{ id: number; value: string }>(
            'insert into signin_strings (integration_no, value) select $1, unnest($2::text[]) returning id, value',
            [no, fresh],
          );
          for (const r of added.rows) learnt.push([r.value, Number(r.id)]);
        }
      }
      for (const [value, id] of learnt) ids.set(value, id);
      return {
        ids,
        committed() {
          if (cache.size + learnt.length > 200_000) cache = new Map();
          for (const [value, id] of learnt) cache.set(key(no, value), id);
        },
      };
    },
  };
}
export type PostgresDictionary = ReturnType<typeof postgresDictionary>;

export async function writeSignInsPostgres(
  pool: pg.Pool,
  dictionary: PostgresDictionary,
  batch: SignInBatch,
): Promise<UpsertCounts> {
  const no = batch.integrationNo;
  const client = await pool.connect();
  try {
    await client.query('begin');
    // one batch of an integration at a time: each then sees what the one before it stored
    await client.query('select pg_advisory_xact_lock($1, $2)', [SIGN_IN_LOCKS, no]);
    const existing = await client.query<{ sign_in_id: string; digest: string; block_id: string; collected_at: string }>(
      `select s.sign_in_id, s.digest, s.block_id, b.collected_at from signins s join signin_blocks b on b.id = s.block_id
       where s.integration_no = $1 and s.hour = any($2::int[]) and s.sign_in_id = any($3::text[])`,
      [no, [...new Set(batch.ids.map((_, row) => batchNumber(batch, row, 'hour')))], batch.ids],
    );
    const stored = new Map<string, StoredVersion>(
      existing.rows.map((r) => [
        r.sign_in_id,
        { digest: Number(r.digest), blockId: Number(r.block_id), collectedAt: Number(r.collected_at) },
      ]),
    );
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    let learnt: (() => void) | undefined;
    const digests = digestsOf(batch);
    const writes = classify(batch, digests, (row) => stored.get(batch.ids[row]!), counts);
    if (writes.length > 0) {
      const used = new Set<string>();
      for (const w of writes) for (const i of batchTexts(batch, w.row)) if (i >= 0) used.add(batch.strings[i]!);
      const blocks = blocksOf(batch, writes);
      const [numbered, compressed] = await Promise.all([
        dictionary.ids(client, no, used),
        Promise.all(blocks.map((b) => compressBlockAsync(b.lines))),
      ]);
      const ids = numbered.ids;
      learnt = numbered.committed;
      const textId = (i: number): number => {
        const id = ids.get(batch.strings[i]!);
        if (id === undefined)
          throw new Error(`internal error: the text ${JSON.stringify(batch.strings[i]!.slice(0, 40))} has no number`);
        return id;
      };
      const rows: Array<Record<string, unknown>> = [];
      for (const [b, block] of blocks.entries()) {
        const { rows: inserted } = await client.query<{ id: string }>(
          'insert into signin_blocks (integration_no, collected_at, live, data) values ($1, $2, $3, $4) returning id',
          [no, batch.collectedAt, block.writes.length, compressed[b]],
        );
        const blockId = Number(inserted[0]!.id);
        block.writes.forEach((w, pos) => {
          const values = rowValues(batch, w.row, digests[w.row]!, textId, blockId, pos);
          rows.push(Object.fromEntries(ROW_COLUMNS.map((c, i) => [c, values[i]])));
        });
      }
      await client.query(UPSERT_ROWS, [JSON.stringify(rows)]);
      const released = writes.flatMap((w) => (w.replaces ? [w.replaces.blockId] : []));
      if (released.length > 0) {
        await client.query(
          'update signin_blocks b set live = b.live - r.n from (select id, count(*)::int as n from unnest($1::bigint[]) as id group by id) r where b.id = r.id',
          [released],
        );
        await client.query('delete from signin_blocks where id = any($1::bigint[]) and live <= 0', [released]);
      }
      counts.inserted = writes.filter((w) => !w.replaces).length;
      counts.updated = writes.length - counts.inserted;
      const added = addedPerEventType(batch, writes);
      if (added.size > 0)
        await client.query(
          'insert into signin_counts (integration_no, event_type, signins) select $1, * from unnest($2::text[], $3::bigint[]) ' +
            'on conflict (integration_no, event_type) do update set signins = signin_counts.signins + excluded.signins',
          [no, [...added.keys()], [...added.values()]],
        );
    }
    await client.query('commit');
    learnt?.();
    return counts;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
