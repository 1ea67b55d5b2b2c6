// Personal API tokens, stored only as a hash of the token.
import type { Kysely } from 'kysely';
import type { ApiTokenRow, Database } from './schema.js';

export interface ApiToken {
  id: string;
  userId: string;
  name: string;
  /** The first characters of the token, for people to recognise it in lists. */
  prefix: string;
  tokenHash: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  expiresAt: Date | null;
  /** What it may do (within its owner's role). */
  scopes: string[];
}

const date = (ms: number | null) => (ms === null ? null : new Date(Number(ms)));
const toToken = (r: ApiTokenRow): ApiToken => ({
  id: r.id,
  userId: r.user_id,
  name: r.name,
  prefix: r.prefix,
  tokenHash: r.token_hash,
  createdAt: new Date(Number(r.created_at)),
  lastUsedAt: date(r.last_used_at),
  expiresAt: date(r.expires_at),
  scopes: r.scopes.split(' ').filter(Boolean),
});

export function createApiTokenRepo(db: Kysely<Database>) {
  return {
    async insert(t: ApiToken): Promise<void> {
      await db
        .insertInto('api_tokens')
        .values({
          id: t.id,
          user_id: t.userId,
          name: t.name,
          prefix: t.prefix,
          token_hash: t.tokenHash,
          created_at: t.createdAt.getTime(),
          last_used_at: t.lastUsedAt?.getTime() ?? null,
          expires_at: t.expiresAt?.getTime() ?? null,
          scopes: t.scopes.join(' '),
        })
        .execute();
    },
    async byHash(tokenHash: string): Promise<ApiToken | undefined> {
      const r = await db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return r && toToken(r);
    },
    listForUser: async (userId: string): Promise<ApiToken[]> =>
      (await db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at').execute()).map(
        toToken,
      ),
    async touch(id: string, now: number): Promise<void> {
      await db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
    },
    async removeForUser(userId: string): Promise<number> {
      const r = await db.deleteFrom('api_tokens').where('user_id', '=', userId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async remove(id: string, userId: string): Promise<boolean> {
      const r = await db.deleteFrom('api_tokens').where('id', '=', id).where('user_id', '=', userId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
export type ApiTokenRepo = ReturnType<typeof createApiTokenRepo>;
