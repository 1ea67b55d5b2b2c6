// Every API token expires (at most a year after it is made). Tokens made before had no expiry:
// they now expire 90 days after this migration, the default lifetime of a new token.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`update api_tokens set expires_at = ${Date.now() + 90 * 86_400_000} where expires_at is null`.execute(db);
}
