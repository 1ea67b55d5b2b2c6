// When each data type last re-read its recent past for late and re-published records.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('collection_state').addColumn('swept_at', 'bigint').execute();
}
