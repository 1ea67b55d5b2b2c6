// Storing a batch of sign-in rows in SQLite: what runs on the sign-in writer's thread
// (signin-writer-thread.ts). Kept free of Kysely and of the rest of the store so that thread
// starts in milliseconds; its statements are fixed, so they are written here once and prepared
// once per connection, in better-sqlite3's transaction wrapper.
import type SQLite from 'better-sqlite3';
import type { SignInTable } from './schema.js';

export interface UpsertCounts {
  inserted: number;
  updated: number;
  /** Identical to what is stored, or older than the stored version. */
  unchanged: number;
}

/** The sign-in store's columns, in the order a row's values travel to the writer (and COPY). */
export const COLUMNS = [
  'integration_id', 'sign_in_id', 'hour', 'created_at', 'event_type', 'user_id', 'user_principal_name', 'user_display_name', 'app_id',
  'app_display_name', 'resource_id', 'ip_address', 'country', 'city', 'latitude', 'longitude', 'error_code', 'client_app_used',
  'is_interactive', 'conditional_access_status', 'risk_level_aggregated', 'risk_level_during_sign_in', 'risk_state', 'risk_detail',
  'device_id', 'correlation_id', 'collected_at', 'raw',
] as const satisfies ReadonlyArray<keyof SignInTable>;
export const KEY = ['integration_id', 'hour', 'sign_in_id'] as const;

/** A row as its values in COLUMNS order. */
export type SignInValues = Array<string | number | null>;
export const toValues = (row: SignInTable): SignInValues => COLUMNS.map((c) => row[c]);

/** The rule both stores apply: a fetched version replaces the stored one unless identical or older. */
export const keepsStored = (stored: { raw: string; collected_at: number }, fetched: { raw: string; collected_at: number }): boolean =>
  stored.raw === fetched.raw || stored.collected_at > fetched.collected_at;

const at = (c: (typeof COLUMNS)[number]) => COLUMNS.indexOf(c);
const I = { integration: at('integration_id'), id: at('sign_in_id'), hour: at('hour'), collectedAt: at('collected_at'), raw: at('raw') };

const prepared = new WeakMap<SQLite.Database, (rows: SignInValues[]) => UpsertCounts>();

/**
 * Stores rows (each the values of one sign-in, ids unique within the batch) in one transaction.
 * Row by row with prepared statements: measured faster than 500-row VALUES lists, which cost
 * their binding and their preparation.
 */
export function writeSignIns(sqlite: SQLite.Database, rows: SignInValues[]): UpsertCounts {
  let write = prepared.get(sqlite);
  if (!write) prepared.set(sqlite, (write = batchWriter(sqlite)));
  return write(rows);
}

function batchWriter(sqlite: SQLite.Database): (rows: SignInValues[]) => UpsertCounts {
  const values = COLUMNS.map(() => '?').join(', ');
  const set = COLUMNS.filter((c) => !(KEY as readonly string[]).includes(c)).map((c) => `${c} = excluded.${c}`).join(', ');
  const insert = sqlite.prepare(`insert into signins (${COLUMNS.join(', ')}) values (${values}) on conflict (${KEY.join(', ')}) do nothing`);
  const stored = sqlite.prepare('select raw, collected_at from signins where integration_id = ? and hour = ? and sign_in_id = ?');
  // a newer version over the stored one (the same values, so the same binding as the insert)
  const replace = sqlite.prepare(`insert into signins (${COLUMNS.join(', ')}) values (${values}) on conflict (${KEY.join(', ')}) do update set ${set}`);
  const transaction = sqlite.transaction((rows: SignInValues[]): UpsertCounts => {
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    for (const v of rows) {
      // most rows are new: trying the insert first spares them the lookup
      if (insert.run(v).changes === 1) {
        counts.inserted++;
        continue;
      }
      const old = stored.get(v[I.integration], v[I.hour], v[I.id]) as { raw: string; collected_at: number };
      if (keepsStored(old, { raw: v[I.raw] as string, collected_at: v[I.collectedAt] as number })) {
        counts.unchanged++;
      } else {
        replace.run(v);
        counts.updated++;
      }
    }
    return counts;
  });
  // IMMEDIATE takes the write lock up front, so the busy timeout applies (see tx.ts); an error rolls back
  return (rows) => transaction.immediate(rows);
}
