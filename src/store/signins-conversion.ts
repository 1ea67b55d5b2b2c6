// Converting sign-ins stored before the store was compact (migration 0007 kept them as
// signins_legacy) into the compact store, in place: a thousand at a time through the store's
// own upsert, each record's text kept as it was, then deleted from the old table. A batch stored
// but not yet deleted is stored again as unchanged, so a stop or crash at any point resumes where
// it was; the old table goes once it is empty.
import { sql } from 'kysely';
import type { Db } from './db.js';
import { receivedOf } from './signin-columns.js';
import { createSignInRepo } from './signins.js';

export interface ConversionProgress {
  converted: number;
  total: number;
}

const BATCH = 1_000;

async function legacyTableExists(db: Db): Promise<boolean> {
  if (db.dialect === 'sqlite') {
    const r = await sql<{
      n: number;
    }>`select count(*) as n from sqlite_master where type = 'table' and name = 'signins_legacy'`.execute(db.kysely);
    return Number(r.rows[0]?.n ?? 0) > 0;
  }
  const r = await sql<{ t: string | null }>`select to_regclass('signins_legacy')::text as t`.execute(db.kysely);
  return r.rows[0]?.t != null;
}

/**
 * Converts what is left of the old table; returns how many sign-ins it converted (0: nothing to
 * do). Another process converting at the same time may finish first and drop the table: this one
 * then stops where it is.
 */
export async function convertLegacySignIns(db: Db, onProgress?: (p: ConversionProgress) => void): Promise<number> {
  const progress = { converted: 0 };
  try {
    return await convert(db, progress, onProgress);
  } catch (err) {
    if (await legacyTableExists(db)) throw err;
    return progress.converted;
  }
}

async function convert(
  db: Db,
  progress: { converted: number },
  onProgress?: (p: ConversionProgress) => void,
): Promise<number> {
  if (!(await legacyTableExists(db))) return 0;
  const k = db.kysely;
  const repo = createSignInRepo(db);
  const rowRef = db.dialect === 'sqlite' ? sql<string>`rowid` : sql<string>`ctid::text`;
  const total = Number(
    (
      await k
        .selectFrom('signins_legacy')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
  for (; total > 0;) {
    onProgress?.({ converted: progress.converted, total });
    // in key order (its index serves it): an hour's records, fetched together, make full blocks
    const rows = await k
      .selectFrom('signins_legacy')
      .select(['integration_id', 'collected_at', 'raw', rowRef.as('ref')])
      .orderBy('integration_id')
      .orderBy('hour')
      .orderBy('sign_in_id')
      .limit(BATCH)
      .execute();
    if (rows.length === 0) break;
    // a batch of the store is one integration and one fetch time (its block's), as when collected
    const groups = new Map<string, typeof rows>();
    for (const r of rows) {
      const key = `${r.integration_id}\n${r.collected_at}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    for (const group of groups.values()) {
      const texts = group.map((r) => r.raw);
      await repo.upsert(
        group[0]!.integration_id,
        texts.map((t) => JSON.parse(t) as Record<string, unknown>),
        Number(group[0]!.collected_at),
        receivedOf(texts),
      );
    }
    const refs = rows.map((r) => r.ref);
    if (db.dialect === 'sqlite')
      await k
        .deleteFrom('signins_legacy')
        .where(sql`rowid`, 'in', refs.map(Number))
        .execute();
    else await sql`delete from signins_legacy where ctid = any(${refs}::tid[])`.execute(k);
    progress.converted += rows.length;
  }
  await k.schema.dropTable('signins_legacy').ifExists().execute();
  if (total > 0) onProgress?.({ converted: progress.converted, total });
  return progress.converted;
}
