// Backfills read each event stream as newest-first chains of pages rather than one request per
// day (DESIGN §5): a chain's row keeps the range it covers and, as its pages are stored, the
// time it resumes from (the oldest record stored so far), so a crash costs at most a page.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('collection_slices').addColumn('resume_at', 'bigint').execute();
}
