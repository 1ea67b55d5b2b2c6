// The audit trail of every state-changing action, whoever took it (API, CLI or the system).
import type { AuditEntry, AuditQuery } from '../api/routes/audit/schema.js';
import type { Clock } from '../clock.js';
import type { AuditRecord, AuditRepo } from '../store/audit.js';

export type Actor = AuditRecord['actor'];

export interface AuditEvent {
  actor: Actor;
  action: string;
  target?: string | null | undefined;
  ip?: string | null | undefined;
  outcome: AuditRecord['outcome'];
  status?: number | null | undefined;
  /** Facts worth keeping. Callers put only non-secret values here. */
  detail?: Record<string, unknown> | undefined;
}

export function createAuditLog(deps: { audit: AuditRepo; clock: Clock }) {
  return {
    async record(e: AuditEvent): Promise<void> {
      await deps.audit.append({
        at: new Date(deps.clock.now()),
        actor: e.actor,
        action: e.action,
        target: e.target ?? null,
        ip: e.ip ?? null,
        outcome: e.outcome,
        status: e.status ?? null,
        detail: e.detail ?? null,
      });
    },
    async list(q: AuditQuery): Promise<AuditEntry[]> {
      const { before: beforeId, actor: actorId, ...rest } = q;
      const records = await deps.audit.list({ ...rest, beforeId, actorId });
      return records.map((r) => ({ ...r, at: r.at.toISOString() }));
    },
  };
}
export type AuditLog = ReturnType<typeof createAuditLog>;
