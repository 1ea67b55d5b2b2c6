// The audit log, newest first, for admins.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Context } from '../../../context.js';
import { authErrors, errorSchema } from '../../schemas.js';
import { auditPage, auditQuery } from './schema.js';

export const auditRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/audit',
      {
        config: { access: ['admin'] },
        schema: { querystring: auditQuery, response: { 200: auditPage, 400: errorSchema, ...authErrors } },
      },
      async (request) => {
        const entries = await ctx.audit.list(request.query);
        return { entries, nextBefore: entries.length === request.query.limit ? (entries.at(-1)?.id ?? null) : null };
      },
    );
  };
