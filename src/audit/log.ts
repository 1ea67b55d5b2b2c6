// The audit trail of every state-changing action, whoever took it (API, CLI or the system).
import { createHmac } from 'node:crypto';
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
  /**
   * Values as the caller typed them, not yet accepted (a sign-in's email, a tenant ID): kept as
   * they are when the action succeeded, else only as their length and a keyed fingerprint — a
   * password typed into the email field, or a secret pasted into the client ID, is never stored.
   */
  input?: Record<string, string | null | undefined> | undefined;
}

export function createAuditLog(deps: { audit: AuditRepo; clock: Clock; fingerprintKey: Buffer }) {
  /** Enough to tell two attempts with the same value apart, and nothing to guess it from without the key. */
  const fingerprint = (value: string) => ({
    length: value.length,
    fingerprint: createHmac('sha256', deps.fingerprintKey).update(value).digest('base64url').slice(0, 12),
  });
  const inputDetail = (e: AuditEvent) =>
    Object.fromEntries(
      Object.entries(e.input ?? {})
        .filter((entry): entry is [string, string] => typeof entry[1] === 'string')
        .map(([k, v]) => [k, e.outcome === 'success' ? v : fingerprint(v)]),
    );
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
        detail: { ...e.detail, ...inputDetail(e) },
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
