// The audit log, newest first, for admins.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { authErrors, errorSchema } from '../schemas.js';

const isoTime = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time, e.g. 2026-11-27T09:00:00Z' })
  .transform((v) => Date.parse(v));

export const auditRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/audit',
      {
        config: { access: ['admin'] },
        schema: {
          querystring: z.object({
            limit: z.coerce.number().int().min(1).max(500).default(100),
            before: z.coerce.number().int().positive().optional().describe('entries older than this id (paging)'),
            actor: z.string().max(100).optional().describe('actor id'),
            action: z.string().max(100).optional(),
            outcome: z.enum(['success', 'failure', 'denied']).optional(),
            since: isoTime.optional(),
            until: isoTime.optional(),
          }),
          response: {
            200: z.object({
              entries: z.array(
                z.object({
                  id: z.number(),
                  at: z.string().describe('ISO 8601 UTC'),
                  actor: z.object({ type: z.string(), id: z.string().nullable(), label: z.string().nullable() }),
                  action: z.string(),
                  target: z.string().nullable(),
                  ip: z.string().nullable(),
                  outcome: z.enum(['success', 'failure', 'denied']),
                  status: z.number().nullable(),
                  detail: z.record(z.string(), z.unknown()).nullable(),
                }),
              ),
              nextBefore: z.number().nullable().describe('pass as "before" for the next page'),
            }),
            400: errorSchema,
            ...authErrors,
          },
        },
      },
      async (request) => {
        const q = request.query;
        const entries = await ctx.audit.list({
          limit: q.limit,
          beforeId: q.before,
          actorId: q.actor,
          action: q.action,
          outcome: q.outcome,
          since: q.since,
          until: q.until,
        });
        return { entries, nextBefore: entries.length === q.limit ? (entries.at(-1)?.id ?? null) : null };
      },
    );
  };
