// The audit log: append and read, nothing else (the database refuses updates and deletes).
import type { Kysely } from 'kysely';
import type { AuditRow, Database } from './schema.js';

export interface AuditRecord {
  at: Date;
  actor: { type: AuditRow['actor_type']; id: string | null; label: string | null };
  action: string;
  target: string | null;
  ip: string | null;
  outcome: AuditRow['outcome'];
  status: number | null;
  /** Facts worth keeping (never secrets); null when there are none. */
  detail: Record<string, unknown> | null;
}
export interface StoredAuditRecord extends AuditRecord {
  id: number;
}

export interface AuditFilter {
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
    async append(e: AuditRecord): Promise<void> {
      await db
        .insertInto('audit_log')
        .values({
          at: e.at.getTime(),
          actor_type: e.actor.type,
          actor_id: e.actor.id,
          actor_label: e.actor.label,
          action: e.action,
          target: e.target,
          ip: e.ip,
          outcome: e.outcome,
          status: e.status,
          detail: e.detail && Object.keys(e.detail).length > 0 ? JSON.stringify(e.detail) : null,
        })
        .execute();
    },
    async list(q: AuditFilter): Promise<StoredAuditRecord[]> {
      let query = db.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(q.limit);
      if (q.beforeId !== undefined) query = query.where('id', '<', q.beforeId);
      if (q.actorId !== undefined) query = query.where('actor_id', '=', q.actorId);
      if (q.action !== undefined) query = query.where('action', '=', q.action);
      if (q.outcome !== undefined) query = query.where('outcome', '=', q.outcome);
      if (q.since !== undefined) query = query.where('at', '>=', q.since);
      if (q.until !== undefined) query = query.where('at', '<', q.until);
      return (await query.execute()).map((r) => ({
        id: Number(r.id),
        at: new Date(Number(r.at)),
        actor: { type: r.actor_type, id: r.actor_id, label: r.actor_label },
        action: r.action,
        target: r.target,
        ip: r.ip,
        outcome: r.outcome,
        status: r.status,
        detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
      }));
    },
  };
}
export type AuditRepo = ReturnType<typeof createAuditRepo>;
