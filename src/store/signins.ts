// The sign-in store: typed columns for what checks and insights filter on, plus the whole Graph
// record. Keyed by (integration, hour of createdDateTime, sign-in id) — see the migration for
// why the hour; re-fetched records replace older fetches only.
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CompiledQuery, sql, type Kysely, type OnConflictBuilder } from 'kysely';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { ValidationError } from '../errors.js';
import type { Db } from './db.js';
import type { Database, SignInRow, SignInTable } from './schema.js';
import { COLUMNS, KEY, keepsStored, toValues, type UpsertCounts } from './signin-writes.js';

export type { UpsertCounts } from './signin-writes.js';

/** A sign-in as Graph returns it (v1.0 or beta); only id and createdDateTime are required. */
export type GraphSignIn = Record<string, unknown> & { id?: unknown; createdDateTime?: unknown };

// PostgreSQL's statements here carry a JSON document or a COPY stream, not one parameter per value.
const PG_CHUNK = 1000;

const HOUR_MS = 3_600_000;
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);

/** The hours a time window [since, until) touches: how queries by user, address or app name them. */
export function hoursBetween(since: number, until: number): number[] {
  const first = hourOf(since);
  const last = hourOf(until - 1);
  if (last - first > 24 * 400) throw new ValidationError('a sign-in query window may span at most 400 days');
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i);
}

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/**
 * Maps a Graph signIn to its row; `text` is the record's JSON as received (else it is serialised
 * again). Throws ValidationError for a record without a usable id or createdDateTime: such a
 * record cannot be stored without corrupting the store's keys.
 */
export function toSignInRow(integrationId: string, record: GraphSignIn, collectedAt: number, text?: string): SignInTable {
  const id = str(record.id);
  if (!id) throw new ValidationError('malformed sign-in record: it has no id');
  const created = typeof record.createdDateTime === 'string' ? Date.parse(record.createdDateTime) : NaN;
  if (!Number.isFinite(created)) throw new ValidationError(`malformed sign-in record ${id}: createdDateTime ${JSON.stringify(record.createdDateTime)} is not a timestamp`);
  const status = obj(record.status);
  const location = obj(record.location);
  const geo = obj(location.geoCoordinates);
  const device = obj(record.deviceDetail);
  const eventTypes = Array.isArray(record.signInEventTypes) ? record.signInEventTypes : [];
  const isInteractive = typeof record.isInteractive === 'boolean' ? record.isInteractive : null;
  const raw = text ?? JSON.stringify(record);
  return {
    integration_id: integrationId,
    sign_in_id: id,
    hour: hourOf(created),
    created_at: created,
    // v1.0 carries no signInEventTypes and lists interactive sign-ins only.
    event_type: str(eventTypes[0]) ?? (isInteractive === false ? 'nonInteractiveUser' : 'interactiveUser'),
    user_id: str(record.userId),
    user_principal_name: str(record.userPrincipalName)?.toLowerCase() ?? null,
    user_display_name: str(record.userDisplayName),
    app_id: str(record.appId),
    app_display_name: str(record.appDisplayName),
    resource_id: str(record.resourceId),
    ip_address: str(record.ipAddress),
    country: str(location.countryOrRegion),
    city: str(location.city),
    latitude: num(geo.latitude),
    longitude: num(geo.longitude),
    error_code: num(status.errorCode),
    client_app_used: str(record.clientAppUsed),
    is_interactive: isInteractive === null ? null : isInteractive ? 1 : 0,
    conditional_access_status: str(record.conditionalAccessStatus),
    risk_level_aggregated: str(record.riskLevelAggregated),
    risk_level_during_sign_in: str(record.riskLevelDuringSignIn),
    risk_state: str(record.riskState),
    risk_detail: str(record.riskDetail),
    device_id: str(device.deviceId),
    correlation_id: str(record.correlationId),
    collected_at: collectedAt,
    raw,
  };
}

export interface SignInQuery {
  integrationId: string;
  since: number;
  until: number;
  userId?: string | undefined;
  limit?: number | undefined;
}

/** What `stream` reads: a window on created_at ([since, until)) and event types to keep or leave out. */
export interface SignInStreamQuery {
  since?: number | undefined;
  until?: number | undefined;
  /** Only these event types (interactiveUser, nonInteractiveUser, servicePrincipal, managedIdentity). */
  eventTypes?: readonly string[] | undefined;
  /** Every event type but these (so types Graph adds later are not silently left out). */
  exceptEventTypes?: readonly string[] | undefined;
  /** Rows read per query: memory stays flat whatever the number of sign-ins. */
  batch?: number | undefined;
}

export function createSignInRepo(db: Db) {
  const k = db.kysely;
  return {
    /**
     * Stores a batch in one transaction. The newest fetch of a record wins: a version fetched
     * earlier than the stored one (a slow, overlapping slice) never replaces it. `texts`, when
     * given, are the records' JSON as received (one per record; undefined where there is none),
     * kept as they are.
     */
    async upsert(integrationId: string, records: GraphSignIn[], collectedAt: number, texts?: ReadonlyArray<string | undefined>): Promise<UpsertCounts> {
      const verbatim = texts?.length === records.length ? texts : undefined;
      // Map everything before touching the database: one malformed record fails the whole batch.
      const byId = new Map<string, SignInTable>();
      for (const [i, record] of records.entries()) {
        const row = toSignInRow(integrationId, record, collectedAt, verbatim?.[i]);
        byId.set(row.sign_in_id, row); // a record repeated within the batch: keep the last
      }
      const rows = [...byId.values()];
      if (db.pgPool) return upsertPostgres(db.pgPool, k, integrationId, rows);
      if (!db.signInWriter) throw new Error('internal error: this SQLite store was opened without its sign-in writer');
      return db.signInWriter.write(rows.map(toValues));
    },
    /** One sign-in, by id and its createdDateTime (findings keep both as evidence). */
    get: (integrationId: string, signInId: string, createdAt: number): Promise<SignInRow | undefined> =>
      k
        .selectFrom('signins')
        .selectAll()
        .where('integration_id', '=', integrationId)
        .where('hour', '=', hourOf(createdAt))
        .where('sign_in_id', '=', signInId)
        .executeTakeFirst(),
    /** Sign-ins in [since, until), newest first; optionally one user's. */
    list(q: SignInQuery): Promise<SignInRow[]> {
      let query = k
        .selectFrom('signins')
        .selectAll()
        .where('integration_id', '=', q.integrationId)
        .where('created_at', '>=', q.since)
        .where('created_at', '<', q.until)
        .orderBy('created_at', 'desc')
        .orderBy('sign_in_id');
      if (q.userId !== undefined) query = query.where('hour', 'in', hoursBetween(q.since, q.until)).where('user_id', '=', q.userId);
      if (q.limit !== undefined) query = query.limit(q.limit);
      return query.execute();
    },
    /**
     * Sign-ins in created_at order (then id), a batch at a time: keyset pagination, so each query
     * starts where the last one ended and nothing is held but the current batch.
     */
    async *stream(integrationId: string, q: SignInStreamQuery = {}): AsyncGenerator<SignInRow> {
      const batch = q.batch ?? 1_000;
      let after: { t: number; id: string } | undefined;
      for (;;) {
        let query = k.selectFrom('signins').selectAll().where('integration_id', '=', integrationId);
        if (q.since !== undefined) query = query.where('created_at', '>=', q.since);
        if (q.until !== undefined) query = query.where('created_at', '<', q.until);
        if (q.eventTypes) query = q.eventTypes.length > 0 ? query.where('event_type', 'in', [...q.eventTypes]) : query.where(sql<boolean>`false`);
        if (q.exceptEventTypes && q.exceptEventTypes.length > 0) query = query.where('event_type', 'not in', [...q.exceptEventTypes]);
        if (after) {
          const a = after;
          // The plain lower bound lets the (integration_id, created_at) index start at the cursor.
          query = query.where('created_at', '>=', a.t).where((eb) => eb.or([eb('created_at', '>', a.t), eb('sign_in_id', '>', a.id)]));
        }
        const rows = await query.orderBy('created_at').orderBy('sign_in_id').limit(batch).execute();
        for (const row of rows) yield row;
        if (rows.length < batch) return;
        const last = rows[rows.length - 1]!;
        after = { t: Number(last.created_at), id: last.sign_in_id };
      }
    },
    /** Deletes every sign-in of an integration (after it is removed, when asked); returns how many. */
    async purge(integrationId: string): Promise<number> {
      const r = await k.deleteFrom('signins').where('integration_id', '=', integrationId).executeTakeFirst();
      return Number(r.numDeletedRows);
    },
    async count(integrationId: string): Promise<number> {
      const row = await k
        .selectFrom('signins')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('integration_id', '=', integrationId)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
  };
}
export type SignInRepo = ReturnType<typeof createSignInRepo>;

/** PostgreSQL: the stored versions of a chunk's records, which decide insert, update or leave alone. */
const existingQuery = (k: Kysely<Database>, integrationId: string, chunk: SignInTable[]) =>
  k
    .selectFrom('signins')
    .select(['sign_in_id', 'raw', 'collected_at'])
    .where('integration_id', '=', integrationId)
    .where('hour', 'in', [...new Set(chunk.map((r) => r.hour))])
    .where(
      'sign_in_id',
      'in',
      chunk.map((r) => r.sign_in_id),
    );

type Existing = Pick<SignInTable, 'sign_in_id' | 'raw' | 'collected_at'>;

/** Splits a chunk into new records and newer versions; identical or older ones are counted and dropped. */
function classify(chunk: SignInTable[], existing: Existing[], counts: UpsertCounts): { inserts: SignInTable[]; updates: SignInTable[] } {
  const stored = new Map(existing.map((r) => [r.sign_in_id, r]));
  const inserts: SignInTable[] = [];
  const updates: SignInTable[] = [];
  for (const row of chunk) {
    const old = stored.get(row.sign_in_id);
    if (!old) inserts.push(row);
    else if (keepsStored(old, row)) counts.unchanged++;
    else updates.push(row);
  }
  counts.inserted += inserts.length;
  counts.updated += updates.length;
  return { inserts, updates };
}

/**
 * PostgreSQL: new records go in with COPY, the fastest way into PostgreSQL (about half again as
 * many rows per second as an INSERT of the same rows); newer versions of stored records go
 * through the upsert. Kysely does not speak COPY, so this runs on a pool client with SQL
 * Kysely compiled. Should another writer insert one of the "new" records between the read and
 * the COPY, the batch is redone with the upsert alone, which settles such conflicts.
 */
async function upsertPostgres(pool: pg.Pool, k: Kysely<Database>, integrationId: string, rows: SignInTable[], copy = true): Promise<UpsertCounts> {
  const client = await pool.connect();
  const run = (q: CompiledQuery) => client.query(q.sql, q.parameters as unknown[]);
  try {
    await client.query('begin');
    const counts: UpsertCounts = { inserted: 0, updated: 0, unchanged: 0 };
    for (let i = 0; i < rows.length; i += PG_CHUNK) {
      const chunk = rows.slice(i, i + PG_CHUNK);
      const existing = (await run(existingQuery(k, integrationId, chunk).compile())).rows as Existing[];
      const { inserts, updates } = classify(chunk, existing, counts);
      if (copy && inserts.length > 0) await pipeline(Readable.from(copyText(inserts)), client.query(copyFrom(COPY_SQL)));
      const upserts = copy ? updates : [...inserts, ...updates];
      if (upserts.length > 0) await run(postgresUpsert(k, upserts));
    }
    await client.query('commit');
    return counts;
  } catch (err) {
    await client.query('rollback').catch(() => undefined);
    if (copy && (err as { code?: string }).code === '23505') return upsertPostgres(pool, k, integrationId, rows, false);
    throw err;
  } finally {
    client.release();
  }
}

type Conflict = OnConflictBuilder<Database, 'signins'>;
/** On a known key, the fetched version replaces the stored one unless it is older. */
const newestWins = (oc: Conflict) =>
  oc
    .columns([...KEY])
    .doUpdateSet((eb) => Object.fromEntries(COLUMNS.filter((c) => !KEY.includes(c as never)).map((c) => [c, eb.ref(`excluded.${c}`)])) as never)
    // Re-checked here because another process may have written since the read above.
    .where((eb) => eb('excluded.collected_at', '>=', eb.ref('signins.collected_at')));

/**
 * PostgreSQL: the rows travel as one JSON parameter expanded by json_populate_recordset. A
 * 500-row VALUES list would make the server parse 14,000 parameters per statement; this halves
 * the server's work per row.
 */
function postgresUpsert(k: Kysely<Database>, rows: SignInTable[]): CompiledQuery {
  return k
    .insertInto('signins')
    .columns([...COLUMNS])
    .expression((eb) => eb.selectFrom(sql<SignInTable>`json_populate_recordset(null::signins, ${JSON.stringify(rows)}::json)`.as('r')).select([...COLUMNS]))
    .onConflict(newestWins)
    .compile();
}

const COPY_SQL = `copy signins (${COLUMNS.join(', ')}) from stdin`;

/**
 * Rows in COPY's text format (tab-separated, \\N for null, backslash escapes), in chunks of about
 * 64 KB: a batch as one string would be megabytes that live until a full garbage collection.
 */
function* copyText(rows: SignInTable[]): Generator<string> {
  const field = (v: unknown): string =>
    v === null || v === undefined ? '\\N' : String(v).replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
  let chunk: string[] = [];
  let size = 0;
  for (const row of rows) {
    const line = COLUMNS.map((c) => field(row[c])).join('\t') + '\n';
    chunk.push(line);
    size += line.length;
    if (size >= 65_536) {
      yield chunk.join('');
      chunk = [];
      size = 0;
    }
  }
  if (chunk.length > 0) yield chunk.join('');
}
