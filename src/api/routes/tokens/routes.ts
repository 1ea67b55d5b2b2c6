// Personal API tokens for automation: shown once at creation, stored only as a hash.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../../context.js';
import { ForbiddenError } from '../../../errors.js';
import { caller } from '../../policy.js';
import { authErrors, errorSchema, idParams } from '../../schemas.js';
import { tokenCreate, tokenCreated, tokenView } from './schema.js';

export const tokenRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/tokens',
      { schema: { response: { 200: z.object({ tokens: z.array(tokenView) }), ...authErrors } } },
      async (request) => ({
        tokens: await ctx.auth.listApiTokens(caller(request).user.id),
      }),
    );

    app.post(
      '/api/tokens',
      {
        config: { audit: 'tokens.create' },
        schema: {
          body: tokenCreate,
          response: {
            201: tokenCreated,
            400: errorSchema,
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const who = caller(request);
        if (who.via === 'token')
          throw new ForbiddenError('an API token cannot create tokens: sign in with your password, or use the CLI');
        const created = await ctx.auth.createApiToken(who.user.id, request.body, { sessionHash: who.credentialId });
        request.auditTarget = created.info.id;
        request.auditDetail = { name: created.info.name, prefix: created.info.prefix, scopes: created.info.scopes };
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
