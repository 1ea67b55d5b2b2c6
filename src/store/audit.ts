// The audit log: append and read, nothing else (the database refuses updates and deletes).
import type { Kysely } from 'kysely';
import type { AuditRow, Database, NewAuditRow } from './schema.js';

export interface AuditQuery {
  limit: number;
  /** Entries with a smaller id than this (newest-first paging). */
  beforeId?: number | undefined;
  actorId?: string | undefined;
  action?: string | undefined;
  outcome?: AuditRow['outcome'] | undefined;
  since?: number | undefined;
  until?: number | undefined;
}

export function createAuditRepo(db: Kysely<Database>) {
  return {
    async append(entry: NewAuditRow): Promise<void> {
      await db.insertInto('audit_log').values(entry).execute();
    },
    list(q: AuditQuery): Promise<AuditRow[]> {
      let query = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(q.limit);
      if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
      if (q.actorId !== undefined) query = query.where('actor_id', '=', q.actorId);
      if (q.action !== undefined) query = query.where('action', '=', q.action);
      if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
      if (q.since !== undefined) query = query.where('at', '>=', q.since);
      if (q.until !== undefined) query = query.where('at', '<', q.until);
      return query.execute();
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
