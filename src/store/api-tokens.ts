import type { Kysely } from 'kysely';
import type { ApiTokenRow, Database } from './schema.js';

export function createApiTokenRepo(db: Kysely<Database>) {
  return {
    async insert(t: ApiTokenRow): Promise<void> {
      await db.insertInto('api_tokens').values(t).execute();
    },
    byHash: (tokenHash: string): Promise<ApiTokenRow | undefined> =>
      db.selectFrom('api_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst(),
    listForUser: (userId: string): Promise<ApiTokenRow[]> =>
      db.selectFrom('api_tokens').selectAll().where('user_id', '=', userId).orderBy('created_at').execute(),
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
