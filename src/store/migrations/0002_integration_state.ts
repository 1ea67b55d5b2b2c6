// What an integration learns about itself: the cloud's endpoints when custom, the outcome of
// its last connectivity test (capabilities, mode, licences, its own secret's expiry) and when.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('integrations').addColumn('custom_cloud', 'text').execute();
  await db.schema
    .alterTable('integrations')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('untested'))
    .execute();
  await db.schema.alterTable('integrations').addColumn('last_report', 'text').execute();
  await db.schema.alterTable('integrations').addColumn('last_tested_at', 'bigint').execute();
  await db.schema.alterTable('integrations').addColumn('secret_expires_at', 'bigint').execute();
}
