// Who may call what: each route declares it in its config, and one hook enforces it before the
// body is even parsed. Routes that declare nothing need a signed-in user (fail closed).
import type { FastifyRequest } from 'fastify';
import type { Authenticated } from '../auth/service.js';
import { ForbiddenError, UnauthenticatedError } from '../errors.js';
import type { Role } from '../store/schema.js';
import type { Scope } from './routes/tokens/schema.js';

export type Access = 'public' | 'authenticated' | readonly Role[];

declare module 'fastify' {
  interface FastifyContextConfig {
    access?: Access;
    /** The scope an API token needs here; by default read for GET, admin for a change. */
    scope?: Scope;
    /** Audit action name for state-changing routes, e.g. "users.create". */
    audit?: string;
  }
  interface FastifyRequest {
    auth: Authenticated | null;
    /** Set by handlers: what the action was applied to, and non-secret facts for the audit log. */
    auditTarget?: string;
    auditDetail?: Record<string, unknown>;
    /** Values as the caller typed them, kept verbatim only if the request succeeds (AuditEvent.input). */
    auditInput?: Record<string, string | undefined>;
  }
}

export const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function checkAccess(request: FastifyRequest, access: Access): void {
  if (access === 'public') return;
  const auth = request.auth;
  if (!auth) throw new UnauthenticatedError();
  if (auth.via === 'token') {
    const needed = request.routeOptions.config.scope ?? (SAFE_METHODS.has(request.method) ? 'read' : 'admin');
    if (!auth.scopes?.includes(needed))
      throw new ForbiddenError(
        `this API token lacks the ${needed} scope (it has ${auth.scopes?.join(', ') || 'none'}): create one with it`,
      );
  }
  if (access === 'authenticated') return;
  if (!access.includes(auth.user.role)) {
    throw new ForbiddenError(`this needs the ${access.join(' or ')} role; you are ${auth.user.role}`);
  }
}

/** The signed-in caller; for handlers of routes that are not public. */
export function caller(request: FastifyRequest): Authenticated {
  if (!request.auth) throw new UnauthenticatedError();
  return request.auth;
}
