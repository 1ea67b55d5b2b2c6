// Dashboard user administration (admins only).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../../context.js';
import { authErrors, errorSchema, idParams } from '../../schemas.js';
import { userCreate, userRolePatch, userView } from './schema.js';

const admin = ['admin'] as const;

export const userRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/api/users',
      {
        config: { access: admin },
        schema: { response: { 200: z.object({ users: z.array(userView) }), ...authErrors } },
      },
      async () => ({ users: await ctx.auth.listUsers() }),
    );

    app.post(
      '/api/users',
      {
        config: { access: admin, audit: 'users.create' },
        schema: {
          body: userCreate,
          response: {
            201: z.object({
              user: userView,
              generatedPassword: z.string().optional().describe('only when no password was given; shown once'),
            }),
            400: errorSchema,
            409: errorSchema,
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        request.auditDetail = { email: request.body.email, role: request.body.role };
        const created = await ctx.auth.createUser(request.body);
        request.auditTarget = created.user.id;
        return reply.status(201).send(created);
      },
    );

    app.patch(
      '/api/users/:id',
      {
        config: { access: admin, audit: 'users.set_role' },
        schema: {
          params: idParams,
          body: userRolePatch,
          response: {
            200: z.object({ user: userView }),
            400: errorSchema,
            404: errorSchema,
            409: errorSchema,
            ...authErrors,
          },
        },
      },
      async (request) => {
        request.auditTarget = request.params.id;
        request.auditDetail = { role: request.body.role };
        return { user: await ctx.auth.setRole(request.params.id, request.body.role) };
      },
    );

    app.delete(
      '/api/users/:id',
      {
        config: { access: admin, audit: 'users.remove' },
        schema: { params: idParams, response: { 204: z.null(), 404: errorSchema, 409: errorSchema, ...authErrors } },
      },
      async (request, reply) => {
        request.auditTarget = request.params.id;
        const removed = await ctx.auth.removeUser(request.params.id);
        request.auditDetail = { email: removed.email };
        return reply.status(204).send(null);
      },
    );
  };
