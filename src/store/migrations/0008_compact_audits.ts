// Directory audits stored compactly like sign-ins (DESIGN §5): each record byte for byte in
// compressed blocks (audit_blocks, record-blocks.ts) beside the typed columns, which point at it;
// `raw` stays empty for such rows (SQLite cannot drop its NOT NULL without rebuilding the table).
// Audit logs are small next to sign-ins (thousands a day where sign-ins are millions), so the
// rows already stored are converted here, in the migration's transaction.
import { sql, type Kysely } from 'kysely';
import { blockRanges, compressBlock, digestOf } from '../record-blocks.js';
import type { Dialect } from '../db.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const sqlite = dialect === 'sqlite';
  await db.schema
    .createTable('audit_blocks')
    .addColumn('id', sqlite ? 'integer' : 'bigint', (c) =>
      sqlite ? c.primaryKey() : c.primaryKey().generatedByDefaultAsIdentity(),
    )
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('collected_at', 'bigint', (c) => c.notNull())
    .addColumn('live', 'integer', (c) => c.notNull())
    .addColumn('data', sqlite ? 'blob' : 'bytea', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_blocks_integration').on('audit_blocks').column('integration_id').execute();
  if (!sqlite) await sql`alter table audit_blocks alter column data set storage external`.execute(db);
  for (const [column, type] of [
    ['block_id', 'bigint'],
    ['block_pos', 'integer'],
    ['digest', 'bigint'],
  ] as const) {
    await db.schema.alterTable('directory_audits').addColumn(column, type).execute();
  }

  await convertStoredAudits(db);
}

/**
 * Moves the records of audit rows not yet in blocks into blocks: rows in key order, a block per
 * run of rows of one integration and fetch time (256 records at most).
 */
export async function convertStoredAudits(db: Kysely<unknown>): Promise<void> {
  // keyset paging on the key: each batch starts where the last one ended, not at the table's start
  for (let after: { integration: string; id: string } | undefined; ;) {
    const { rows } = await sql<{ integration_id: string; id: string; collected_at: number; raw: string }>`
      select integration_id, id, collected_at, raw from directory_audits
      where block_id is null ${after ? sql`and (integration_id > ${after.integration} or (integration_id = ${after.integration} and id > ${after.id}))` : sql``}
      order by integration_id, id limit 1000`.execute(db);
    if (rows.length === 0) break;
    const last = rows[rows.length - 1]!;
    after = { integration: last.integration_id, id: last.id };
    for (let i = 0; i < rows.length;) {
      const first = rows[i]!;
      let j = i;
      while (
        j < rows.length &&
        rows[j]!.integration_id === first.integration_id &&
        Number(rows[j]!.collected_at) === Number(first.collected_at)
      )
        j++;
      for (const [a, z] of blockRanges(j - i)) {
        const part = rows.slice(i + a, i + z);
        const inserted = await sql<{ id: number }>`
          insert into audit_blocks (integration_id, collected_at, live, data)
          values (${first.integration_id}, ${first.collected_at}, ${part.length}, ${compressBlock(part.map((r) => r.raw).join('\n'))}) returning id`.execute(
          db,
        );
        const blockId = Number(inserted.rows[0]!.id);
        for (const [pos, r] of part.entries()) {
          await sql`
            update directory_audits set block_id = ${blockId}, block_pos = ${pos}, digest = ${digestOf(r.raw)}, raw = ''
            where integration_id = ${r.integration_id} and id = ${r.id}`.execute(db);
        }
      }
      i = j;
    }
  }
}
