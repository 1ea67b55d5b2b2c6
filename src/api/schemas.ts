// Shapes shared by several resources' contracts. Responses are serialized through their schemas, so a
// field that is not declared never leaves the server.
import { z } from 'zod';

export const errorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** Strict ISO 8601: a date (midnight UTC), or a date and time with Z or an offset. */
const ISO =
  /^(\d{4})-(\d{2})-(\d{2})(?:T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(Z|[+-](?:[01]\d|2[0-3]):?[0-5]\d))?$/i;

/** An instant as a query or a flag gives it (ISO 8601, see ISO), read as epoch milliseconds. */
export const isoInstant = z
  .string()
  .max(100)
  .transform((value, ctx) => {
    const m = ISO.exec(value);
    const ms = m ? Date.parse(value.toUpperCase()) : NaN;
    // Date.parse rolls 2026-02-30 over to March; a date that does not round-trip does not exist.
    const real =
      m !== null &&
      Number.isFinite(ms) &&
      new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
        .toISOString()
        .startsWith(`${m[1]}-${m[2]}-${m[3]}`);
    if (real) return ms;
    const zoneless = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value);
    ctx.addIssue({
      code: 'custom',
      message:
        `${JSON.stringify(value)} is not an ISO 8601 timestamp${zoneless ? ' with a time zone' : ''}: ` +
        'write e.g. 2026-11-20 (midnight UTC), 2026-11-20T08:00:00Z or 2026-11-20T09:00:00+01:00',
    });
    return z.NEVER;
  })
  .describe('ISO 8601: a date (midnight UTC) or a date-time with a zone');

/** A count or an id in a query string or a flag (text read as a number): a whole number from 1 to max. */
export const wholeQueryNumber = (max: number) => {
  const error = `must be a whole number from 1 to ${max}`;
  return z.coerce.number({ error }).int(error).min(1, error).max(max, error);
};

export const idParams = z.object({ id: z.string().min(1).max(100) });

/** Error responses every authenticated route can give. */
export const authErrors = { 401: errorSchema, 403: errorSchema } as const;
