// Sign-in, sign-out and "who am I". Sessions live in the database; the cookie holds a random
// value whose hash is the session's key.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, ValidationError } from '../../errors.js';
import type { Context } from '../../context.js';
import { caller } from '../policy.js';
import { authErrors, errorSchema } from '../schemas.js';
import { userView } from './users/schema.js';
import { clearSessionCookies, SESSION_COOKIE, sessionCookieOptions } from '../session-cookie.js';

const tooMany = (what: string) => (_req: FastifyRequest, context: { after: string }) =>
  new AppError('rate_limited', `too many ${what}: try again in ${context.after}`, 429);

function csrfTokenFor(request: FastifyRequest, reply: FastifyReply, sessionHash: string): string {
  return reply.generateCsrf({ userInfo: sessionHash, secure: request.protocol === 'https' } as Parameters<
    FastifyReply['generateCsrf']
  >[0]);
}

export const authRoutes =
  (ctx: Context): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/api/auth/login',
      {
        config: {
          access: 'public',
          audit: 'auth.login',
          rateLimit: {
            max: ctx.config.loginLimitPerIp,
            timeWindow: '1 minute',
            errorResponseBuilder: tooMany('sign-in attempts from your address'),
          },
        },
        schema: {
          body: z.object({
            email: z.string({ error: 'email is required' }).max(254, 'email is too long'),
            password: z.string({ error: 'password is required' }).max(1024, 'password is too long'),
          }),
          response: {
            200: z.object({ user: userView, csrfToken: z.string() }),
            400: errorSchema,
            401: errorSchema,
            429: errorSchema,
          },
        },
      },
      async (request, reply) => {
        const email = request.body.email.trim().toLowerCase();
        request.auditInput = { email };
        const { user, sessionToken, sessionHash } = await ctx.auth
          .login({
            email,
            password: request.body.password,
            ip: request.ip,
            userAgent: request.headers['user-agent'] ?? null,
            replaces: request.cookies[SESSION_COOKIE],
          })
          .catch(async (err: unknown) => {
            // The log names the account tried when there is one; anything else typed into the
            // email field may be a password, and stays a fingerprint. (Looked up on every
            // failure alike, so the answer's timing says nothing of which it was.)
            if (await ctx.auth.isDashboardUser(email)) {
              request.auditDetail = { email };
              request.auditInput = undefined;
            }
            throw err;
          });
        request.auth = { user, via: 'session', credentialId: sessionHash };
        request.auditTarget = user.id;
        void reply.setCookie(SESSION_COOKIE, sessionToken, sessionCookieOptions(request));
        return { user, csrfToken: csrfTokenFor(request, reply, sessionHash) };
      },
    );

    app.post(
      '/api/auth/logout',
      { config: { audit: 'auth.logout' }, schema: { response: { 204: z.null(), 400: errorSchema, ...authErrors } } },
      async (request, reply) => {
        const auth = caller(request);
        if (auth.via !== 'session')
          throw new ValidationError(
            'logout ends a browser session; API tokens are revoked with DELETE /api/tokens/:id',
          );
        await ctx.auth.logout(auth.credentialId);
        clearSessionCookies(request, reply);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/auth/me',
      {
        schema: {
          response: {
            200: z.object({
              user: userView,
              via: z.enum(['session', 'token']),
              csrfToken: z.string().optional().describe('for cookie sessions: send it as X-CSRF-Token'),
            }),
            ...authErrors,
          },
        },
      },
      async (request, reply) => {
        const auth = caller(request);
        return auth.via === 'session'
          ? { user: auth.user, via: auth.via, csrfToken: csrfTokenFor(request, reply, auth.credentialId) }
          : { user: auth.user, via: auth.via };
      },
    );
  };
