import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'idsight_session';
/** The CSRF secret's cookie (@fastify/csrf-protection's own name for it). */
export const CSRF_COOKIE = '_csrf';

/** The attributes a session cookie is set with; a cookie is only cleared by a header that repeats them. */
export const sessionCookieOptions = (request: FastifyRequest) => ({
  path: '/',
  httpOnly: true,
  sameSite: 'strict' as const,
  secure: request.protocol === 'https',
});

/** Drops the session and its CSRF secret from the browser. */
export function clearSessionCookies(request: FastifyRequest, reply: FastifyReply): void {
  const options = sessionCookieOptions(request);
  void reply.clearCookie(SESSION_COOKIE, options).clearCookie(CSRF_COOKIE, options);
}
