import type { FastifyReply } from 'fastify';

export const SESSION_COOKIE = 'idsight_session';

export function clearSessionCookie(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: '/' });
}
