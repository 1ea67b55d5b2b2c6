// Dashboard users (people who sign in to idsight), not Entra users.
import type { Kysely } from 'kysely';
import type { Dialect } from './db.js';
import type { DashboardUserRow, Database, Role } from './schema.js';

export interface DashboardUser {
  id: string;
  email: string;
  role: Role;
  passwordHash: string;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

const toUser = (r: DashboardUserRow): DashboardUser => ({
  id: r.id,
  email: r.email,
  role: r.role,
  passwordHash: r.password_hash,
  createdAt: new Date(Number(r.created_at)),
  updatedAt: new Date(Number(r.updated_at)),
  lastLoginAt: r.last_login_at === null ? null : new Date(Number(r.last_login_at)),
});

export function createDashboardUserRepo(db: Kysely<Database>, dialect: Dialect) {
  const one = async (q: Promise<DashboardUserRow | undefined>) => {
    const r = await q;
    return r && toUser(r);
  };
  return {
    async insert(u: { id: string; email: string; passwordHash: string; role: Role; now: number }): Promise<void> {
      await db
        .insertInto('dashboard_users')
        .values({
          id: u.id,
          email: u.email,
          password_hash: u.passwordHash,
          role: u.role,
          created_at: u.now,
          updated_at: u.now,
          last_login_at: null,
        })
        .execute();
    },
    byId: (id: string): Promise<DashboardUser | undefined> =>
      one(db.selectFrom('dashboard_users').selectAll().where('id', '=', id).executeTakeFirst()),
    byEmail: (email: string): Promise<DashboardUser | undefined> =>
      one(db.selectFrom('dashboard_users').selectAll().where('email', '=', email).executeTakeFirst()),
    list: async (): Promise<DashboardUser[]> =>
      (await db.selectFrom('dashboard_users').selectAll().orderBy('email').execute()).map(toUser),
    /**
     * The admins' ids, locked until the transaction ends (PostgreSQL: FOR UPDATE; SQLite: the
     * caller's BEGIN IMMEDIATE already serialises writers), so two concurrent demotions cannot
     * both see "another admin remains".
     */
    async lockAdmins(): Promise<string[]> {
      let q = db.selectFrom('dashboard_users').select('id').where('role', '=', 'admin');
      if (dialect === 'postgres') q = q.forUpdate();
      return (await q.execute()).map((r) => r.id);
    },
    async setRole(id: string, role: Role, now: number): Promise<boolean> {
      const r = await db
        .updateTable('dashboard_users')
        .set({ role, updated_at: now })
        .where('id', '=', id)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
    async setPasswordHash(id: string, passwordHash: string, now: number): Promise<void> {
      await db
        .updateTable('dashboard_users')
        .set({ password_hash: passwordHash, updated_at: now })
        .where('id', '=', id)
        .execute();
    },
    async touchLogin(id: string, now: number): Promise<void> {
      await db.updateTable('dashboard_users').set({ last_login_at: now }).where('id', '=', id).execute();
    },
    async remove(id: string): Promise<boolean> {
      const r = await db.deleteFrom('dashboard_users').where('id', '=', id).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
  };
}
export type DashboardUserRepo = ReturnType<typeof createDashboardUserRepo>;
