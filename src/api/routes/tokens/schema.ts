// The API token resource's contract, written once: what the API takes and answers, what the auth
// service accepts (it parses every input with these) and what the CLI's flags go through.
import { z } from 'zod';
import type { Role } from '../../../store/schema.js';
import { nameText } from '../../../validation.js';

/**
 * What a token may do: read (everything a GET shows, exports included), collect (Collect Now),
 * triage (findings), remediate (actions on the tenant's users), admin (everything else that
 * changes idsight: integrations, users, settings). Never more than its owner's role allows.
 */
export const SCOPES = ['read', 'collect', 'triage', 'remediate', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scopes each role may give its tokens. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  analyst: ['read'],
  helpdesk: ['read', 'triage', 'remediate'],
  admin: SCOPES,
};

export const tokenCreate = z
  .object({
    name: nameText(100),
    // every token expires: a forgotten one stops working by itself
    expiresInDays: z
      .number({ error: 'must be a whole number of days from 1 to 365' })
      .int('must be a whole number of days from 1 to 365')
      .min(1, 'must be a whole number of days from 1 to 365')
      .max(365, 'must be a whole number of days from 1 to 365')
      .default(90),
    // least privilege unless asked: a token that only reads cannot change anything if it leaks
    scopes: z
      .array(z.enum(SCOPES, { error: `must be some of ${SCOPES.join(', ')}` }))
      .min(1, 'must name at least one scope')
      .max(SCOPES.length)
      .default(['read']),
  })
  .strict();
export type TokenCreate = z.input<typeof tokenCreate>;

/** A token as its owner sees it: never the token, which is shown once, at creation. */
export const tokenView = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('the first characters of the token, to recognise it'),
  createdAt: z.number().describe('epoch milliseconds'),
  lastUsedAt: z.number().nullable(),
  expiresAt: z.number().nullable().describe('epoch milliseconds; null only for tokens made before every token expired'),
  scopes: z.array(z.string()).describe(`some of ${SCOPES.join(', ')}`),
});
export type TokenView = z.infer<typeof tokenView>;

export const tokenCreated = z.object({ token: z.string().describe('shown once: store it now'), info: tokenView });
