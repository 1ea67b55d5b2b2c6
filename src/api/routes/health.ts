import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { pingDb } from '../../store/db.js';
import { NAME, VERSION } from '../../version.js';
import { authErrors } from '../schemas.js';

export const healthRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/healthz',
      {
        config: { access: 'public' },
        schema: {
          response: {
            200: z.object({ status: z.literal('ok') }),
            503: z.object({ status: z.literal('unavailable'), reason: z.string() }),
          },
        },
      },
      async (_request, reply) => {
        try {
          await pingDb(ctx.db);
          return { status: 'ok' as const };
        } catch {
          return reply.status(503).send({ status: 'unavailable' as const, reason: 'the database does not answer' });
        }
      },
    );

    app.get(
      '/api/version',
      {
        schema: {
          response: {
            200: z.object({
              name: z.string(),
              version: z.string(),
              node: z.string(),
              database: z.enum(['sqlite', 'postgres']),
            }),
            ...authErrors,
          },
        },
      },
      async () => ({ name: NAME, version: VERSION, node: process.versions.node, database: ctx.db.dialect }),
    );
  };
