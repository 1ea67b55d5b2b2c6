// Dashboard sign-in sessions, known by the hash of their cookie.
import type { Kysely } from 'kysely';
import type { Database, SessionRow } from './schema.js';

export interface Session {
  /** sha256 of the cookie value: a leaked database row cannot be replayed as a cookie. */
  tokenHash: string;
  userId: string;
  createdAt: Date;
  lastSeenAt: Date;
  expiresAt: Date;
  ip: string | null;
  userAgent: string | null;
}

const toSession = (r: SessionRow): Session => ({
  tokenHash: r.token_hash,
  userId: r.user_id,
  createdAt: new Date(Number(r.created_at)),
  lastSeenAt: new Date(Number(r.last_seen_at)),
  expiresAt: new Date(Number(r.expires_at)),
  ip: r.ip,
  userAgent: r.user_agent,
});

export function createSessionRepo(db: Kysely<Database>) {
  return {
    async insert(s: Session): Promise<void> {
      await db
        .insertInto('sessions')
        .values({
          token_hash: s.tokenHash,
          user_id: s.userId,
          created_at: s.createdAt.getTime(),
          last_seen_at: s.lastSeenAt.getTime(),
          expires_at: s.expiresAt.getTime(),
          ip: s.ip,
          user_agent: s.userAgent,
        })
        .execute();
    },
    async byHash(tokenHash: string): Promise<Session | undefined> {
      const r = await db.selectFrom('sessions').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
      return r && toSession(r);
    },
    async touch(tokenHash: string, now: number): Promise<void> {
      await db.updateTable('sessions').set({ last_seen_at: now }).where('token_hash', '=', tokenHash).execute();
    },
    async remove(tokenHash: string): Promise<void> {
      await db.deleteFrom('sessions').where('token_hash', '=', tokenHash).execute();
    },
    listForUser: async (userId: string): Promise<Session[]> =>
      (await db.selectFrom('sessions').selectAll().where('user_id', '=', userId).orderBy('created_at').execute()).map(
        toSession,
      ),
    /** Ends every session of the user; how many there were. */
    async removeForUser(userId: string): Promise<number> {
      const r = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
      return Number(r.numDeletedRows);
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
