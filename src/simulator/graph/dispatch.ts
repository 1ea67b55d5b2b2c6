// Serves the simulated Graph routes with what Graph does around every handler, in Graph's
// order: faults, the access token (401), permissions (403), licence (403), throttling (429),
// then the handler, latency and the response headers Graph sends.
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Faults } from '../faults.js';
import type { SimClock } from '../sim-clock.js';
import type { SimTenant } from '../tenants.js';
import type { AccessTokenClaims } from '../token.js';
import {
  auditPermissionMissing,
  GraphError,
  graphErrorBody,
  insufficientPrivileges,
  invalidToken,
  newRequestId,
  nonPremiumTenant,
  tooManyRequests,
} from './errors.js';
import type { TokenCodec } from './odata.js';
import { resourceUnits, type GraphContext, type GraphRoute, type GraphVersion } from './route.js';
import type { Throttle } from './throttle.js';

export interface WriteCall {
  at: string;
  tenantId: string;
  appId: string;
  method: string;
  path: string;
  body: unknown;
  status: number;
}

export interface DispatchDeps {
  tenants: readonly SimTenant[];
  clock: SimClock;
  verify(token: string): Promise<AccessTokenClaims>;
  throttle: Throttle;
  faults(): Faults;
  /** Which fault strikes this request, if any. */
  roll(): 'reset' | '429' | '503' | '504' | 'malformed' | undefined;
  pageTokens: TokenCodec;
  graphRoot(): string;
  /** Every write call (for the control API's log). */
  onWrite(call: WriteCall): void;
}

const JSON_TYPE = 'application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8';

export function registerGraph(app: FastifyInstance, routes: GraphRoute[], deps: DispatchDeps): void {
  for (const route of routes) {
    for (const version of route.versions ?? (['v1.0', 'beta'] as GraphVersion[])) {
      app.route({
        method: route.method,
        url: `/${version}${route.path}`,
        handler: (req, reply) => serve(route, version, req, reply, deps),
      });
    }
  }
}

function send(
  reply: FastifyReply,
  status: number,
  body: unknown,
  headers: Record<string, string>,
  payload?: Buffer,
): FastifyReply {
  reply.code(status).headers(headers);
  if (payload === undefined && body === undefined) return reply.send();
  // a Buffer: encoded once (a string would be scanned again for its Content-Length)
  return reply.header('content-type', JSON_TYPE).send(payload ?? Buffer.from(JSON.stringify(body)));
}

async function serve(
  route: GraphRoute,
  version: GraphVersion,
  req: FastifyRequest,
  reply: FastifyReply,
  deps: DispatchDeps,
): Promise<FastifyReply> {
  const requestId = newRequestId();
  const header = req.headers['client-request-id'];
  const clientRequestId = typeof header === 'string' ? header : requestId;
  const base: Record<string, string> = {
    'request-id': requestId,
    'client-request-id': clientRequestId,
    'OData-Version': '4.0',
  };
  const now = deps.clock.now();
  const fail = (err: GraphError) =>
    send(reply, err.status, graphErrorBody(err, now, requestId, clientRequestId), { ...base, ...err.headers });
  const faults = deps.faults();
  let ctx: GraphContext | undefined;
  let status = 500;
  try {
    const fault = deps.roll();
    if (fault === 'reset') {
      req.raw.socket.destroy();
      return reply.hijack();
    }
    if (fault === '429') return fail(tooManyRequests((1 + (now % 3000) / 1000).toFixed(3)));
    if (fault === '503')
      return fail(
        new GraphError(503, 'serviceNotAvailable', 'The service is temporarily unavailable.', { 'Retry-After': '2' }),
      );
    if (fault === '504') return fail(new GraphError(504, 'UnknownError', ''));

    ctx = await authenticate(route, version, req, deps, now);
    if (!ctx.has(...route.accepts))
      throw route.deniedAs === 'auditLog' ? auditPermissionMissing() : insufficientPrivileges();
    const licence = route.licence;
    if (licence && !licensed(ctx.tenant, licence)) throw nonPremiumTenant();
    route.gate?.(ctx);
    const family = typeof route.family === 'function' ? route.family(ctx) : route.family;
    const decision = deps.throttle.check(family, ctx.tenant.id, ctx.app.appId, {
      cost: resourceUnits(route.cost ?? 1, ctx.query),
      tenantUsers: ctx.tenant.userCount,
    });
    if (decision.resourceUnits !== undefined) base['x-ms-resource-unit'] = String(decision.resourceUnits);
    if (decision.retryAfter !== undefined) throw tooManyRequests(decision.retryAfter);

    const result = await route.handle(ctx);
    status = result.status ?? 200;
    const delay = faults.latencyMs + faults.latencyPerRecordMs * (result.records ?? 0);
    if (delay > 0) await sleep(delay);
    if (fault === 'malformed') {
      // a proxy's HTML error page, or a body cut off mid-stream
      if (now % 2 === 0)
        return reply
          .code(502)
          .headers(base)
          .header('content-type', 'text/html')
          .send('<html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>');
      const whole = result.payload ?? Buffer.from(JSON.stringify(result.body ?? {}));
      return reply
        .code(status)
        .headers(base)
        .header('content-type', JSON_TYPE)
        .send(whole.subarray(0, Math.floor(whole.length / 2)));
    }
    return send(reply, status, result.body, { ...base, ...result.headers }, result.payload);
  } catch (err) {
    if (!(err instanceof GraphError)) throw err;
    status = err.status;
    return fail(err);
  } finally {
    if (route.method !== 'GET' && ctx) {
      deps.onWrite({
        at: new Date(now).toISOString(),
        tenantId: ctx.tenant.id,
        appId: ctx.app.appId,
        method: route.method,
        path: req.url,
        body: req.body ?? null,
        status,
      });
    }
  }
}

const licensed = (tenant: SimTenant, need: 'p1' | 'p2' | 'intune'): boolean =>
  need === 'intune' ? tenant.intune : need === 'p2' ? tenant.licence === 'p2' : tenant.licence !== 'free';

async function authenticate(
  route: GraphRoute,
  version: GraphVersion,
  req: FastifyRequest,
  deps: DispatchDeps,
  now: number,
): Promise<GraphContext> {
  const auth = req.headers.authorization;
  if (!auth) throw invalidToken('Access token is empty.');
  if (!/^Bearer /i.test(auth)) throw invalidToken('CompactToken parsing failed with error code: 80049217');
  let claims: AccessTokenClaims;
  try {
    claims = await deps.verify(auth.slice(7).trim());
  } catch (err) {
    throw invalidToken(err instanceof Error ? err.message : 'Access token validation failure.');
  }
  const tenant = deps.tenants.find((t) => t.id === claims.tid);
  const app = tenant?.apps.find((a) => a.appId === claims.appid);
  if (!tenant || !app) throw invalidToken('Access token validation failure.');
  const roles = new Set(claims.roles ?? []);
  const pathOf = req.url.split('?')[0]!.slice(version.length + 2);
  return {
    tenant,
    app,
    roles,
    version,
    path: pathOf,
    params: (req.params ?? {}) as Record<string, string>,
    query: (req.query ?? {}) as Record<string, string>,
    headers: req.headers,
    body: req.body,
    now,
    graphRoot: deps.graphRoot(),
    pageTokens: deps.pageTokens,
    pageTokenTtl: deps.faults().skiptokenTtl * 1000,
    has: (...permissions) => permissions.some((p) => roles.has(p)),
  };
}
