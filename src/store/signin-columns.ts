// What the sign-in store keeps of each record besides the record itself: the typed columns that
// checks, insights and investigations filter and group on. Most are strings repeated across
// millions of rows (users, apps, addresses, places, user agents); each is stored once per
// integration in a dictionary and the rows hold its number, which keeps rows and indexes small.
// Shared by the repository and the SQLite writer's thread, so it imports nothing heavy.
import { ValidationError } from '../errors.js';
import { num, obj, str } from './graph-values.js';

/** A sign-in as Graph returns it (v1.0 or beta); only id and createdDateTime are required. */
export type GraphSignIn = Record<string, unknown> & { id?: unknown; createdDateTime?: unknown };

/** The typed columns held as dictionary numbers, in the order rows carry them. */
export const TEXT_COLUMNS = [
  'event_type',
  'user_id',
  'user_principal_name',
  'user_display_name',
  'home_tenant_id',
  'app_id',
  'app_display_name',
  'resource_id',
  'resource_display_name',
  'resource_tenant_id',
  'ip_address',
  'country',
  'city',
  'client_app_used',
  'conditional_access_status',
  'authentication_requirement',
  'risk_level_aggregated',
  'risk_level_during_sign_in',
  'risk_state',
  'risk_detail',
  'device_id',
  'operating_system',
  'browser',
  'user_agent',
] as const;
export type TextColumn = (typeof TEXT_COLUMNS)[number];

/** The typed columns held as themselves. */
export const VALUE_COLUMNS = ['latitude', 'longitude', 'error_code', 'is_interactive', 'correlation_id'] as const;
export type ValueColumn = (typeof VALUE_COLUMNS)[number];

/** A sign-in's key and typed columns, before its texts become dictionary numbers. */
export interface SignInFields {
  sign_in_id: string;
  /** Hour of createdDateTime (epoch ms / 3,600,000): the key prefix that keeps writes local. */
  hour: number;
  created_at: number;
  texts: Array<string | null>;
  values: Array<number | string | null>;
}

const HOUR_MS = 3_600_000;
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);

/**
 * The typed columns of a Graph signIn. Throws ValidationError for a record without a usable id
 * or createdDateTime: such a record cannot be stored without corrupting the store's keys.
 */
export function signInFields(record: GraphSignIn): SignInFields {
  const id = str(record.id);
  if (!id) throw new ValidationError('malformed sign-in record: it has no id');
  const created = typeof record.createdDateTime === 'string' ? Date.parse(record.createdDateTime) : NaN;
  if (!Number.isFinite(created))
    throw new ValidationError(
      `malformed sign-in record ${id}: createdDateTime ${JSON.stringify(record.createdDateTime)} is not a timestamp`,
    );
  const status = obj(record.status);
  const location = obj(record.location);
  const geo = obj(location.geoCoordinates);
  const device = obj(record.deviceDetail);
  const eventTypes = Array.isArray(record.signInEventTypes) ? record.signInEventTypes : [];
  const isInteractive = typeof record.isInteractive === 'boolean' ? record.isInteractive : null;
  const texts: Record<TextColumn, string | null> = {
    // v1.0 carries no signInEventTypes and lists interactive sign-ins only.
    event_type: str(eventTypes[0]) ?? (isInteractive === false ? 'nonInteractiveUser' : 'interactiveUser'),
    user_id: str(record.userId),
    user_principal_name: str(record.userPrincipalName)?.toLowerCase() ?? null,
    user_display_name: str(record.userDisplayName),
    // differing from the resource's tenant: a guest or cross-tenant sign-in
    home_tenant_id: str(record.homeTenantId),
    app_id: str(record.appId),
    app_display_name: str(record.appDisplayName),
    resource_id: str(record.resourceId),
    resource_display_name: str(record.resourceDisplayName),
    resource_tenant_id: str(record.resourceTenantId),
    ip_address: str(record.ipAddress),
    country: str(location.countryOrRegion),
    city: str(location.city),
    client_app_used: str(record.clientAppUsed),
    conditional_access_status: str(record.conditionalAccessStatus),
    authentication_requirement: str(record.authenticationRequirement),
    risk_level_aggregated: str(record.riskLevelAggregated),
    risk_level_during_sign_in: str(record.riskLevelDuringSignIn),
    risk_state: str(record.riskState),
    risk_detail: str(record.riskDetail),
    device_id: str(device.deviceId),
    operating_system: str(device.operatingSystem),
    browser: str(device.browser),
    user_agent: str(record.userAgent),
  };
  const values: Record<ValueColumn, number | string | null> = {
    latitude: num(geo.latitude),
    longitude: num(geo.longitude),
    error_code: num(status.errorCode),
    is_interactive: isInteractive === null ? null : isInteractive ? 1 : 0,
    correlation_id: str(record.correlationId),
  };
  return {
    sign_in_id: id,
    hour: hourOf(created),
    created_at: created,
    texts: TEXT_COLUMNS.map((c) => texts[c]),
    values: VALUE_COLUMNS.map((c) => values[c]),
  };
}

/** The numbers of each sign-in in a batch, in this order (NaN: none). */
export const NUMBER_FIELDS = ['hour', 'created_at', 'latitude', 'longitude', 'error_code', 'is_interactive'] as const;
const N = NUMBER_FIELDS.length;
const T = TEXT_COLUMNS.length;

/**
 * Records as Graph sent them: a page's JSON (UTF-8) and where each record lies in it, [start, end)
 * per record ([0, 0]: not known; see page-text.ts). The store may take the bytes over.
 */
export interface ReceivedRecords {
  bytes: Uint8Array;
  spans: Uint32Array;
}

/**
 * A page of sign-ins as the store receives it, ids unique. Laid out for the trip to the SQLite
 * writer's thread: a few typed arrays and strings rather than thousands of small objects, each
 * text of the page once, and every record's JSON as UTF-8 in one buffer, which moves to the
 * thread rather than being copied (and is what the blocks compress and the digests hash).
 */
export interface SignInBatch {
  integrationNo: number;
  collectedAt: number;
  ids: string[];
  /** NUMBER_FIELDS of each sign-in. */
  numbers: Float64Array<ArrayBuffer>;
  correlationIds: Array<string | null>;
  /** The page's distinct texts; `textRefs` holds, per sign-in and TEXT_COLUMNS, 1 + the index of its text here (0: none). */
  strings: string[];
  textRefs: Uint32Array<ArrayBuffer>;
  /** The records' JSON as UTF-8, one per line, in order (a stored record is always one line). */
  records: Uint8Array<ArrayBuffer>;
  /** Where each record's line is in `records`: [start, end) per sign-in. */
  spans: Uint32Array<ArrayBuffer>;
}

const NEWLINE = 0x0a;

/**
 * The batch of a page: each record's typed columns, a record repeated within the page
 * kept once (its last copy). The records' JSON is as received where known, serialised otherwise.
 * Throws ValidationError for a malformed record before anything is stored.
 */
export function buildBatch(
  records: readonly GraphSignIn[],
  received: ReceivedRecords | undefined,
  collectedAt: number,
): Omit<SignInBatch, 'integrationNo'> {
  const fields = records.map(signInFields);
  const last = new Map<string, number>();
  fields.forEach((f, i) => last.set(f.sign_in_id, i));
  const kept = fields.flatMap((f, i) => (last.get(f.sign_in_id) === i ? [i] : []));
  const numbers = new Float64Array(kept.length * N);
  const textRefs = new Uint32Array(kept.length * T);
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  kept.forEach((i, row) => {
    const f = fields[i]!;
    const [latitude, longitude, errorCode, isInteractive] = f.values as Array<number | null>;
    numbers.set(
      [f.hour, f.created_at, latitude ?? NaN, longitude ?? NaN, errorCode ?? NaN, isInteractive ?? NaN],
      row * N,
    );
    f.texts.forEach((t, c) => {
      if (t === null) return;
      let at = stringIndex.get(t);
      if (at === undefined) {
        at = strings.push(t) - 1;
        stringIndex.set(t, at);
      }
      textRefs[row * T + c] = at + 1;
    });
  });
  return {
    collectedAt,
    ids: kept.map((i) => fields[i]!.sign_in_id),
    numbers,
    correlationIds: kept.map((i) => fields[i]!.values[4] as string | null),
    strings,
    textRefs,
    ...recordLines(records, kept, received?.spans.length === 2 * records.length ? received : undefined),
  };
}

/**
 * The kept records' lines, copied into a buffer of their own that moves to the writer's thread.
 * (Moving the page's own buffer instead, its commas made newlines, measured no faster and 10–20 MB
 * heavier: the whole page then lives until its write is done, where the copy lets it die young.)
 */
function recordLines(
  records: readonly GraphSignIn[],
  kept: number[],
  received: ReceivedRecords | undefined,
): Pick<SignInBatch, 'records' | 'spans'> {
  const n = kept.length;
  const encoder = new TextEncoder();
  const lines = kept.map((i) => {
    const [start, end] = received ? [received.spans[2 * i]!, received.spans[2 * i + 1]!] : [0, 0];
    return end > 0 ? received!.bytes.subarray(start, end) : encoder.encode(JSON.stringify(records[i]));
  });
  const out = new Uint8Array(lines.reduce((sum, l) => sum + l.length + 1, -1));
  const spans = new Uint32Array(2 * n);
  let at = 0;
  lines.forEach((line, row) => {
    if (row > 0) out[at++] = NEWLINE;
    out.set(line, at);
    spans[2 * row] = at;
    spans[2 * row + 1] = at += line.length;
  });
  return { records: out, spans };
}

/** Texts of records (an old store's, say) as received records; a text over several lines is not kept. */
export function receivedOf(texts: readonly string[]): ReceivedRecords {
  const spans = new Uint32Array(2 * texts.length);
  let start = 0;
  texts.forEach((text, i) => {
    const end = start + Buffer.byteLength(text);
    if (!text.includes('\n')) spans.set([start, end], 2 * i);
    start = end + 1;
  });
  return { bytes: new TextEncoder().encode(texts.join('\n')), spans };
}

/** A number of a batch's sign-in (null for none). */
export const batchNumber = (
  b: Pick<SignInBatch, 'numbers'>,
  row: number,
  field: (typeof NUMBER_FIELDS)[number],
): number | null => {
  const v = b.numbers[row * N + NUMBER_FIELDS.indexOf(field)]!;
  return Number.isNaN(v) ? null : v;
};

/** A text of a batch's sign-in (null for none). */
export const batchText = (
  b: Pick<SignInBatch, 'textRefs' | 'strings'>,
  row: number,
  column: TextColumn,
): string | null => {
  const i = b.textRefs[row * T + TEXT_COLUMNS.indexOf(column)]! - 1;
  return i >= 0 ? b.strings[i]! : null;
};

/** The texts of a batch's sign-in, as indexes into `strings` (-1: none), in TEXT_COLUMNS order. */
export const batchTexts = (b: Pick<SignInBatch, 'textRefs'>, row: number): number[] =>
  Array.from(b.textRefs.subarray(row * T, row * T + T), (r) => r - 1);
