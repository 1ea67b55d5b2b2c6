// The API token resource's contract, written once: what the API takes and answers, what the auth
// service accepts (it parses every input with these) and what the CLI's flags go through.
import { z } from 'zod';
import { nameText } from '../../../validation.js';

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
});
export type TokenView = z.infer<typeof tokenView>;

export const tokenCreated = z.object({ token: z.string().describe('shown once: store it now'), info: tokenView });
