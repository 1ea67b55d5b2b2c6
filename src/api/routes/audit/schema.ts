// The audit log's contract, written once: the query the API and the CLI's flags go through, and
// an entry as both show it.
import { z } from 'zod';
import type { AuditRow } from '../../../store/schema.js';
import { isoInstant, wholeQueryNumber } from '../../schemas.js';

export const OUTCOMES = ['success', 'failure', 'denied'] as const satisfies readonly AuditRow['outcome'][];
const ACTOR_TYPES = [
  'user',
  'token',
  'cli',
  'system',
  'anonymous',
] as const satisfies readonly AuditRow['actor_type'][];

export const auditQuery = z
  .object({
    limit: wholeQueryNumber(500).default(100),
    before: wholeQueryNumber(Number.MAX_SAFE_INTEGER).optional().describe('entries older than this id (paging)'),
    actor: z.string().max(100).optional().describe('actor id'),
    action: z.string().max(100).optional(),
    outcome: z.enum(OUTCOMES, { error: `must be one of ${OUTCOMES.join(', ')}` }).optional(),
    since: isoInstant.optional().describe('entries from this time on (ISO 8601)'),
    until: isoInstant.optional().describe('entries before this time (ISO 8601)'),
  })
  .strict();
export type AuditQueryInput = z.input<typeof auditQuery>;
export type AuditQuery = z.output<typeof auditQuery>;

export const auditEntry = z.object({
  id: z.number(),
  at: z.string().describe('ISO 8601 UTC, to the millisecond, as every time idsight shows'),
  actor: z.object({ type: z.enum(ACTOR_TYPES), id: z.string().nullable(), label: z.string().nullable() }),
  action: z.string(),
  target: z.string().nullable(),
  ip: z.string().nullable(),
  outcome: z.enum(OUTCOMES),
  status: z.number().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
});
export type AuditEntry = z.infer<typeof auditEntry>;

export const auditPage = z.object({
  entries: z.array(auditEntry),
  nextBefore: z.number().nullable().describe('pass as "before" for the next page'),
});
