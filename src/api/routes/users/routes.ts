// Dashboard user administration (admins only).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Context } from '../../../context.js';
import { authErrors, errorSchema, idParams } from '../../schemas.js';
import { tokenView } from '../tokens/schema.js';
import { sessionView, userCreate, userRolePatch, userView } from './schema.js';

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

    // Every user's sessions and tokens, for admins: who is signed in where, and what automation
    // acts as whom; each can be ended without waiting for it to expire.
    app.get(
      '/api/users/:id/sessions',
      {
        config: { access: admin },
        schema: {
          params: idParams,
          response: { 200: z.object({ sessions: z.array(sessionView) }), 404: errorSchema, ...authErrors },
        },
      },
      async (request) => ({ sessions: await ctx.auth.listSessions(request.params.id) }),
    );

    app.delete(
      '/api/users/:id/sessions',
      {
        config: { access: admin, audit: 'users.end_sessions' },
        schema: {
          params: idParams,
          response: { 200: z.object({ ended: z.number() }), 404: errorSchema, ...authErrors },
        },
      },
      async (request) => {
        request.auditTarget = request.params.id;
        const ended = await ctx.auth.endSessions(request.params.id);
        request.auditDetail = { ended };
        return { ended };
      },
    );

    app.get(
      '/api/users/:id/tokens',
      {
        config: { access: admin },
        schema: {
          params: idParams,
          response: { 200: z.object({ tokens: z.array(tokenView) }), 404: errorSchema, ...authErrors },
        },
      },
      async (request) => {
        await ctx.auth.findUser(request.params.id); // 404 for an unknown user
        return { tokens: await ctx.auth.listApiTokens(request.params.id) };
      },
    );

    app.delete(
      '/api/users/:id/tokens/:tokenId',
      {
        config: { access: admin, audit: 'tokens.revoke' },
        schema: {
          params: idParams.extend({ tokenId: idParams.shape.id }),
          response: { 204: z.null(), 404: errorSchema, ...authErrors },
        },
      },
      async (request, reply) => {
        request.auditTarget = request.params.tokenId;
        request.auditDetail = { userId: request.params.id };
        await ctx.auth.revokeApiToken(request.params.id, request.params.tokenId);
        return reply.status(204).send(null);
      },
    );
  };
