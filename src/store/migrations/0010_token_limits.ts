// API tokens are limited: each expires (at most a year after it is made) and has scopes (what it
// may do, within its owner's role). Tokens made before had neither: they now expire 90 days after
// this migration, the default lifetime of a new token, and keep every scope, as they could do
// everything their owner's role allows (the role still bounds them).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update api_tokens set expires_at = ${Date.now() + 90 * 86_400_000} where expires_at is null`.execute(db);
  await db.schema
    .alterTable('api_tokens')
    .addColumn('scopes', 'text', (c) => c.notNull().defaultTo('read collect triage remediate admin'))
    .execute();
}
