// What the sign-in store holds for an integration, read straight from its tables (rows, their
// event type's text, and each record out of its block): tests compare exports and collections
// with it without going through the repository they test.
import { decompressBlock } from '../../src/store/record-blocks.js';
import type { Db } from '../../src/store/db.js';

export interface StoredRow {
  id: string;
  createdAt: number;
  eventType: string;
  raw: string;
}

/** Every sign-in of an integration, in (created_at, id) order. */
export async function storedSignIns(db: Db, integrationId: string): Promise<StoredRow[]> {
  const rows = await db.kysely
    .selectFrom('signins as s')
    .innerJoin('signin_integrations as i', 'i.no', 's.integration_no')
    .innerJoin('signin_strings as t', 't.id', 's.event_type')
    .select(['s.sign_in_id', 's.created_at', 't.value as event_type', 's.block_id', 's.block_pos'])
    .where('i.integration_id', '=', integrationId)
    .orderBy('s.created_at')
    .orderBy('s.sign_in_id')
    .execute();
  const blocks = new Map<number, string[]>();
  const ids = [...new Set(rows.map((r) => Number(r.block_id)))];
  for (let i = 0; i < ids.length; i += 200) {
    for (const b of await db.kysely
      .selectFrom('signin_blocks')
      .select(['id', 'data'])
      .where('id', 'in', ids.slice(i, i + 200))
      .execute())
      blocks.set(Number(b.id), decompressBlock(b.data));
  }
  return rows.map((r) => ({
    id: r.sign_in_id,
    createdAt: Number(r.created_at),
    eventType: r.event_type,
    raw: blocks.get(Number(r.block_id))![Number(r.block_pos)]!,
  }));
}
