// Input checked against a zod schema, as the application's own ValidationError: the API answers
// it with 400 and the CLI with exit code 2, both naming the field at fault.
import type { z } from 'zod';
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
