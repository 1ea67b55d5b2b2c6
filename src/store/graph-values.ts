// Graph's values as typed columns hold them: anything else (a missing property, a string where a
// number belongs, an empty string) is null, never a guess. Shared by the sign-in columns (also
// read on the writer's thread, so this imports nothing) and the data sets.

/** An object property's value as an object, or {} when it is not one. */
export const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
/** A non-empty string, or null. */
export const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
/** A non-empty string in lower case (UPNs and addresses compare without case), or null. */
export const lower = (v: unknown): string | null => str(v)?.toLowerCase() ?? null;
/** A finite number, or null. */
export const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** A boolean as 1 or 0 (both stores hold booleans as integers), or null. */
export const bool = (v: unknown): number | null => (typeof v === 'boolean' ? (v ? 1 : 0) : null);
