// Response shapes shared by several routes. Responses are serialized through these, so a field
// that is not declared here never leaves the server.
import { z } from 'zod';

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

export const apiTokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().describe('the first characters of the token, to recognise it'),
  createdAt: z.number(),
  lastUsedAt: z.number().nullable(),
  expiresAt: z.number().nullable(),
});

export const idParams = z.object({ id: z.string().min(1).max(100) });

/** Error responses every authenticated route can give. */
export const authErrors = { 401: errorSchema, 403: errorSchema } as const;
