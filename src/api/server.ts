// The HTTP API: Fastify with zod schemas on every route (requests and responses), one auth and
// policy hook, CSRF for cookie sessions, the audit hook, and one error handler.
import { readFileSync } from 'node:fs';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Authenticated } from '../auth/service.js';
import type { Context } from '../context.js';
import { AppError, UnauthenticatedError } from '../errors.js';
import { VERSION } from '../version.js';
import { installErrorHandler } from './error-handler.js';
import { createAnonymousDenials } from './anonymous-denials.js';
import { checkAccess, SAFE_METHODS } from './policy.js';
import { clearSessionCookies, CSRF_COOKIE, SESSION_COOKIE } from './session-cookie.js';
import { auditRoutes } from './routes/audit/routes.js';
import { exportRoutes } from './routes/export/routes.js';
import { integrationRoutes } from './routes/integrations/routes.js';
import { authRoutes } from './routes/auth.js';
import { healthRoutes } from './routes/health.js';
import { tokenRoutes } from './routes/tokens/routes.js';
import { userRoutes } from './routes/users/routes.js';

const BODY_LIMIT = 1024 * 1024;

/** Believe X-Forwarded-* only from the nearest `hops` proxies. */
const trustHops = (hops: number) => (_address: string, hop: number) => hop < hops;

export async function buildServer(ctx: Context): Promise<FastifyInstance> {
  const tls =
    ctx.config.tlsCertFile && ctx.config.tlsKeyFile
      ? { cert: readFileSync(ctx.config.tlsCertFile), key: readFileSync(ctx.config.tlsKeyFile) }
      : null;
  const app = Fastify({
    loggerInstance: ctx.log,
    bodyLimit: BODY_LIMIT,
    trustProxy: typeof ctx.config.trustProxy === 'number' ? trustHops(ctx.config.trustProxy) : ctx.config.trustProxy,
    // Errors Fastify meets while routing (a malformed URL, an over-long path parameter) get the
    // same error body as everything else.
    frameworkErrors: (err, _request, reply) => {
      void (reply as FastifyReply).code(400).send({ error: { code: 'invalid_request', message: err.message } });
    },
    // Requests Node's parser refuses before Fastify sees them (headers over 16 KB, malformed
    // HTTP) are answered in the same error format too, then the connection is closed.
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.destroyed || !socket.writable) return;
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const message =
        status === 431
          ? 'the request headers are too large (16 KB at most)'
          : status === 408
            ? 'the request took too long to arrive'
            : 'the request is not valid HTTP';
      const body = JSON.stringify({ error: { code: 'invalid_request', message } });
      socket.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n` +
          `Content-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
    },
    ...(tls ? { https: tls } : {}),
  }) as unknown as FastifyInstance;
  // The API speaks JSON only: a text/plain body is refused (415), not parsed as a string.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installErrorHandler(app);

  // Every state-changing route must name its audit action: a new route cannot forget it.
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.some((m) => !SAFE_METHODS.has(m)) && !route.config?.audit) {
      throw new Error(`route ${String(route.method)} ${route.url} changes state but declares no audit action`);
    }
  });

  // HSTS only where this server speaks TLS itself: over plain HTTP it means nothing (and a TLS proxy in front sets its own).
  await app.register(helmet, tls ? {} : { strictTransportSecurity: false });
  // What the API answers is about people and secrets: no browser or proxy cache keeps a copy.
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) void reply.header('cache-control', 'no-store');
    return payload;
  });
  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { path: '/', sameSite: 'strict', httpOnly: true },
    csrfOpts: { hmacKey: ctx.vault.deriveKey('csrf') },
    getToken: (req: FastifyRequest) => req.headers['x-csrf-token'] as string | undefined,
    // Tokens are bound to the session: one stolen from another session does not verify.
    getUserInfo: (req: FastifyRequest) => req.auth?.credentialId ?? '',
  });
  await app.register(rateLimit, { global: false });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'idsight API', version: VERSION, description: 'Identity security for Microsoft Entra ID.' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: SESSION_COOKIE },
          token: { type: 'http', scheme: 'bearer', description: 'personal API token (idst_…)' },
        },
      },
      security: [{ session: [] }, { token: [] }],
    },
    transform: jsonSchemaTransform,
  });

  app.decorateRequest('auth', null);
  const denials = createAnonymousDenials({ audit: ctx.audit, clock: ctx.clock });
  const flushing = setInterval(() => {
    denials.flush().catch((err: unknown) => ctx.log.error({ err }, 'could not write the anonymous refusals'));
  }, 15_000);
  flushing.unref();
  app.addHook('onClose', async () => {
    clearInterval(flushing);
    await denials.flush(true);
  });
  /** An address past its refusals for the minute is answered at once (valid credentials still pass). */
  const tooManyRefusals = (request: FastifyRequest) =>
    denials.overLimit(request.ip)
      ? new AppError('rate_limited', 'too many requests without valid credentials: try again in a minute', 429)
      : undefined;
  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.url) return; // no such route: the not-found handler answers
    const access = request.routeOptions.config.access ?? 'authenticated';
    try {
      request.auth = await authenticate(ctx, request);
    } catch (err) {
      // A session that is no longer valid is dropped from the browser; a passing database error
      // is not a reason to sign anyone out.
      if (
        err instanceof UnauthenticatedError &&
        request.cookies[SESSION_COOKIE] &&
        request.headers.authorization === undefined
      )
        clearSessionCookies(request, reply);
      if (access !== 'public') throw (err instanceof UnauthenticatedError && tooManyRefusals(request)) || err;
    }
    if (!request.auth && access !== 'public') {
      const tooMany = tooManyRefusals(request);
      if (tooMany) throw tooMany;
    }
    checkAccess(request, access);
  });
  app.addHook('onRequest', (request, reply, done) => {
    // Public routes (sign-in) need no CSRF token: they act on no session, and a cross-site form
    // cannot send the JSON they require.
    const isPublic = request.routeOptions.config?.access === 'public';
    if (request.auth?.via === 'session' && !SAFE_METHODS.has(request.method) && !isPublic) {
      app.csrfProtection(request, reply, done);
      return;
    }
    done();
  });
  // The audit entry is written before the response leaves: if it cannot be written, the caller
  // is told so (500 audit_failed) instead of seeing a success nobody can trace.
  app.addHook('onSend', async (request, reply, payload) => {
    const action = request.routeOptions.config?.audit;
    if (!action || !request.routeOptions.url) return payload;
    const status = reply.statusCode;
    const auth = request.auth;
    try {
      // refused for want of credentials, or as too many: counted, and summed up per address and
      // minute (a failed sign-in keeps its own row: the login limit per address bounds them)
      const isPublic = request.routeOptions.config.access === 'public';
      if (!auth && (status === 429 || (status === 401 && !isPublic))) {
        await denials.note(request.ip, action, status === 429);
        return payload;
      }
      await ctx.audit.record({
        actor: auth
          ? { type: auth.via === 'token' ? 'token' : 'user', id: auth.user.id, label: auth.user.email }
          : { type: 'anonymous', id: null, label: null },
        action,
        target: request.auditTarget ?? null,
        ip: request.ip,
        outcome: status < 400 ? 'success' : status === 401 || status === 403 ? 'denied' : 'failure',
        status,
        detail: request.auditDetail,
        input: request.auditInput,
      });
      return payload;
    } catch (err) {
      request.log.error({ err, action, status }, 'could not write the audit log');
      void reply.status(500).header('content-type', 'application/json; charset=utf-8');
      return JSON.stringify({
        error: {
          code: 'audit_failed',
          message: `${action} was processed (status ${status}) but could not be written to the audit log; the server log has the details`,
        },
      });
    }
  });

  const routes = app.withTypeProvider<ZodTypeProvider>();
  await routes.register(healthRoutes(ctx));
  await routes.register(authRoutes(ctx));
  await routes.register(userRoutes(ctx));
  await routes.register(tokenRoutes(ctx));
  await routes.register(auditRoutes(ctx));
  await routes.register(integrationRoutes(ctx));
  await routes.register(exportRoutes(ctx));
  routes.get('/api/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // A readable reference of the same document, for signed-in users like every /api route; its
  // pages and scripts are served from the package, nothing from elsewhere.
  await app.register(swaggerUi, {
    routePrefix: '/api/docs',
    staticCSP: true,
    uiConfig: { docExpansion: 'list', deepLinking: true },
  });
  await app.ready();
  return app;
}

async function authenticate(ctx: Context, request: FastifyRequest): Promise<Authenticated | null> {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw new UnauthenticatedError('the Authorization header must be "Bearer <API token>"');
    return ctx.auth.authenticateToken(match[1]!);
  }
  const session = request.cookies[SESSION_COOKIE];
  return session ? ctx.auth.authenticateSession(session) : null;
}
