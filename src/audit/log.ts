// The audit trail of every state-changing action, whoever took it (API, CLI or the system).
import type { AuditEntry, AuditQuery } from '../api/routes/audit/schema.js';
import type { Clock } from '../clock.js';
import { createAuditRepo } from '../store/audit.js';
import type { Db } from '../store/db.js';
import type { AuditRow } from '../store/schema.js';

export interface Actor {
  type: AuditRow['actor_type'];
  id: string | null;
  label: string | null;
}

export interface AuditEvent {
  actor: Actor;
  action: string;
  target?: string | null | undefined;
  ip?: string | null | undefined;
  outcome: AuditRow['outcome'];
  status?: number | null | undefined;
  /** Facts worth keeping. Callers put only non-secret values here. */
  detail?: Record<string, unknown> | undefined;
}

export function createAuditLog(deps: { db: Db; clock: Clock }) {
  const repo = createAuditRepo(deps.db.kysely);
  return {
    async record(e: AuditEvent): Promise<void> {
      await repo.append({
        at: deps.clock.now(),
        actor_type: e.actor.type,
        actor_id: e.actor.id,
        actor_label: e.actor.label,
        action: e.action,
        target: e.target ?? null,
        ip: e.ip ?? null,
        outcome: e.outcome,
        status: e.status ?? null,
        detail: e.detail && Object.keys(e.detail).length > 0 ? JSON.stringify(e.detail) : null,
      });
    },
    async list(q: AuditQuery): Promise<AuditEntry[]> {
      const { before: beforeId, actor: actorId, ...rest } = q;
      const rows = await repo.list({ ...rest, beforeId, actorId });
      return rows.map((r) => ({
        id: Number(r.id),
        at: new Date(r.at).toISOString(),
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
export type AuditLog = ReturnType<typeof createAuditLog>;
