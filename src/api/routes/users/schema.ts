// The dashboard user resource's contract, written once: what the API takes and answers, what the
// auth service accepts (it parses every input with these) and what the CLI's flags go through.
// The password policy itself is passwords.ts's (checkPasswordPolicy), applied by the service.
import { z } from 'zod';
import type { Role } from '../../../store/schema.js';

export const ROLES = ['admin', 'helpdesk', 'analyst'] as const satisfies readonly Role[];
export const roleSchema = z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` });
export const emailSchema = z
  .string({ error: 'email is required' })
  .trim()
  .toLowerCase()
  .pipe(z.email({ error: 'email is not a valid address' }).max(254, 'email is too long'));

/** A new dashboard user; without a password, one is generated and shown once. */
export const userCreate = z.object({
  email: emailSchema,
  role: roleSchema,
  password: z.string({ error: 'password must be a string' }).max(1024, 'password is too long').nullish(),
});
export type UserCreate = z.input<typeof userCreate>;

export const userRolePatch = z.object({ role: roleSchema });

/** A dashboard user as anyone may see it: never the password hash. */
export const userView = z.object({
  id: z.string(),
  email: z.string(),
  role: z.enum(ROLES),
  createdAt: z.number().describe('epoch milliseconds'),
  lastLoginAt: z.number().nullable(),
});
export type PublicUser = z.infer<typeof userView>;

/** A user's sign-in session as an admin sees it: where and when, never its cookie or hash. */
export const sessionView = z.object({
  createdAt: z.number().describe('epoch milliseconds: when the password was typed'),
  lastSeenAt: z.number(),
  expiresAt: z.number().describe('the absolute limit; idle sessions end sooner'),
  ip: z.string().nullable(),
  userAgent: z.string().nullable(),
});
export type SessionView = z.infer<typeof sessionView>;
