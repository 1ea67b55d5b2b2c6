// Input checked against a zod schema, as the application's own ValidationError: the API answers
// it with 400 and the CLI with exit code 2, both naming the field at fault.
import { z } from 'zod';
import { ValidationError } from './errors.js';

/** The input as the schema reads it, or a ValidationError naming the first field at fault. */
export function parseInput<T extends z.ZodType>(schema: T, input: unknown): z.infer<T> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const field = issue.path.join('.');
  throw new ValidationError(
    issue.code === 'unrecognized_keys'
      ? `unknown field ${issue.keys.join(', ')}`
      : field
        ? `${field}: ${issue.message}`
        : issue.message,
    field ? { field } : undefined,
  );
}

/**
 * Characters that steer a terminal or reorder text rather than show: C0 and C1 controls, DEL, and
 * the bidirectional overrides and isolates.
 */
const CONTROL = '\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069';
const ANY_CONTROL = new RegExp(`[${CONTROL}]`);
export const hasControlCharacters = (text: string): boolean => ANY_CONTROL.test(text);
/** The control characters but a line feed, and a CR before one: the line breaks text may keep. */
const SHOWN_AS_ESCAPES = new RegExp(`(?!\\r?\\n)[${CONTROL}]`, 'g');

/** A name people give (an integration, a token): text that shows as it is, with no control character in it. */
export const nameText = (max: number) =>
  z
    .string({ error: `is required: text of 1 to ${max} characters` })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .refine((v) => !hasControlCharacters(v), { error: 'must not contain line breaks or control characters' });

/** Text for a terminal: each control character but line breaks shown as an escape (\x1b, \u202e). */
export const visible = (text: string): string =>
  text.replace(SHOWN_AS_ESCAPES, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
