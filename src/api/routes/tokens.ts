// Personal API tokens for automation: shown once at creation, stored only as a hash.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../context.js';
import { caller } from '../policy.js';
import { apiTokenSchema, authErrors, errorSchema, idParams } from '../schemas.js';

export const tokenRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/tokens',
      { schema: { response: { 200: z.object({ tokens: z.array(apiTokenSchema) }), ...authErrors } } },
      async (request) => ({
        tokens: await ctx.auth.listApiTokens(caller(request).user.id),
      }),
    );

    app.post(
      '/api/tokens',
      {
        config: { audit: 'tokens.create' },
        schema: {
          body: z.object({
            name: z
              .string({ error: 'name is required' })
              .trim()
              .min(1, 'name must not be empty')
              .max(100, 'name is too long (100 characters at most)'),
            expiresInDays: z.number().int().min(1).max(3650).optional(),
          }),
          response: {
            201: z.object({ token: z.string().describe('shown once: store it now'), info: apiTokenSchema }),
            400: errorSchema,
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const created = await ctx.auth.createApiToken(caller(request).user.id, request.body);
        request.auditTarget = created.info.id;
        request.auditDetail = { name: created.info.name, prefix: created.info.prefix };
        return reply.status(201).send(created);
      },
    );

    app.delete(
      '/api/tokens/:id',
      {
        config: { audit: 'tokens.revoke' },
        schema: { params: idParams, response: { 204: z.null(), 404: errorSchema, ...authErrors } },
      },
      async (request, reply) => {
        request.auditTarget = request.params.id;
        await ctx.auth.revokeApiToken(caller(request).user.id, request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
