import type { Kysely } from 'kysely';
import type { Database, SessionRow } from './schema.js';

export function createSessionRepo(db: Kysely<Database>) {
  return {
    async insert(s: SessionRow): Promise<void> {
      await db.insertInto('sessions').values(s).execute();
    },
    byHash: (tokenHash: string): Promise<SessionRow | undefined> =>
      db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst(),
    async touch(tokenHash: string, now: number): Promise<void> {
      await db.updateTable('sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
    },
    async remove(tokenHash: string): Promise<void> {
      await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
    },
    async removeForUser(userId: string): Promise<void> {
      await db.deleteFrom('sessions').where('user_id', '=', userId).execute();
    },
    /** Drops sessions idle longer than `idleMs` or past their absolute expiry. */
    async removeStale(now: number, idleMs: number): Promise<number> {
      const r = await db
        .deleteFrom('sessions')
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<=', now - idleMs)]))
        .executeTakeFirst();
      return Number(r.numDeletedRows);
    },
  };
}
export type SessionRepo = ReturnType<typeof createSessionRepo>;
