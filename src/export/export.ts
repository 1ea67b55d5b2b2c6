// Export of collected data (`idsight export`, GET /api/integrations/:id/export): stored records
// streamed as text, for investigations, SIEM hand-off and verification.
//   jsonl  one line per record: the Graph record exactly as collected (the stored text, never
//          re-serialised, so what leaves is byte for byte what Graph sent);
//   csv    a header and the typed columns (RFC 4180 quoting, CRLF line ends), times as ISO 8601
//          UTC, booleans true/false.
// Records are read a batch at a time (keyset pagination) and written as they come: memory stays
// flat whatever the size of the data set. Everything a caller can get wrong is checked by
// planExport before the first record is read, so the API can answer 400 before any body.
import { stringify, type Options as CsvOptions } from 'csv-stringify/sync';
import { SIGN_IN_EXPORT_TYPES, type ExportFormat, type ExportQuery } from '../api/routes/export/schema.js';
import type { Context } from '../context.js';
import { ValidationError } from '../errors.js';
import { CREDENTIAL_COLUMNS, DATASETS, GROUP_MEMBER_COLUMNS, type DatasetSpec } from '../store/datasets.js';
import type { Repositories } from '../store/repositories.js';

/** The types whose records have a time, which since/until filter on. */
export const TIMED_EXPORT_TYPES: readonly string[] = [
  ...SIGN_IN_EXPORT_TYPES,
  ...(Object.values(DATASETS) as DatasetSpec[])
    .filter((s) => s.time)
    .map((s) => s.name)
    .sort(),
];

export const CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

type Source =
  | { kind: 'signins'; eventTypes?: string[]; exceptEventTypes?: string[] }
  | { kind: 'dataset'; spec: DatasetSpec }
  | { kind: 'links'; table: 'group_members' | 'app_credentials' };

/** A checked export request. */
export interface ExportPlan {
  type: string;
  format: ExportFormat;
  since: number | undefined;
  until: number | undefined;
  includeDeleted: boolean;
  /** The CSV header (and the keys of the JSON lines of link types). */
  columns: readonly string[];
  source: Source;
}

export interface ExportStats {
  records: number;
}

/** The columns of a sign-in export: the typed columns, the Graph id first, as `id`. */
const SIGN_IN_COLUMNS = [
  'id',
  'created_at',
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
  'latitude',
  'longitude',
  'error_code',
  'client_app_used',
  'is_interactive',
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
  'correlation_id',
  'collected_at',
] as const;

// Typed columns follow two naming rules (test/export.test.ts holds them against the tables):
// epoch-ms times end in _at, and booleans (stored as 0/1) start with is_ or end in _enabled.
const isTimeColumn = (c: string): boolean => c.endsWith('_at');
const isBooleanColumn = (c: string): boolean => c.startsWith('is_') || c.endsWith('_enabled');

/** What an export request reads, and the checks across its fields (each mistake its own ValidationError). */
export function planExport({ type, format, since, until, includeDeleted }: ExportQuery): ExportPlan {
  if (since !== undefined && until !== undefined && since > until) {
    throw new ValidationError(
      `since (${new Date(since).toISOString()}) is after until (${new Date(until).toISOString()})`,
    );
  }
  if ((since !== undefined || until !== undefined) && !TIMED_EXPORT_TYPES.includes(type)) {
    // Refused rather than ignored: nobody should believe they exported a window when they did not.
    throw new ValidationError(`${type} has no time: --since/--until apply to ${TIMED_EXPORT_TYPES.join(', ')}`);
  }

  let source: Source;
  let columns: readonly string[];
  if (type === 'signIns' || type === 'nonInteractiveSignIns') {
    // Everything not interactive is the other streams: types Graph adds later are not lost.
    source =
      type === 'signIns'
        ? { kind: 'signins', eventTypes: ['interactiveUser'] }
        : { kind: 'signins', exceptEventTypes: ['interactiveUser'] };
    columns = SIGN_IN_COLUMNS;
  } else if (type === 'groupMembers' || type === 'appCredentials') {
    source = { kind: 'links', table: type === 'groupMembers' ? 'group_members' : 'app_credentials' };
    columns = type === 'groupMembers' ? GROUP_MEMBER_COLUMNS : CREDENTIAL_COLUMNS;
  } else {
    const spec = (DATASETS as Record<string, DatasetSpec>)[type]!;
    source = { kind: 'dataset', spec };
    const named = type === 'roleAssignments' ? ASSIGNMENT_NAME_COLUMNS : [];
    columns = ['id', ...Object.keys(spec.columns), ...named, 'deleted_at', 'removed_reason', 'collected_at'];
  }
  return { type, format, since, until, includeDeleted, columns, source };
}

/** What the audit log keeps of an export request, its window in ISO 8601 UTC. */
export function exportDetail(q: ExportQuery) {
  return {
    type: q.type,
    format: q.format,
    ...(q.since !== undefined ? { since: new Date(q.since).toISOString() } : {}),
    ...(q.until !== undefined ? { until: new Date(q.until).toISOString() } : {}),
    includeDeleted: q.includeDeleted,
  };
}

/** A download name that is safe in a header and on any file system: idsight-users-2026-11-20.csv. */
export function exportFilename(plan: ExportPlan, now: number): string {
  return `idsight-${plan.type.replace(/[^A-Za-z0-9]/g, '')}-${new Date(now).toISOString().slice(0, 10)}.${plan.format}`;
}

/** A stored value as it is exported: times as ISO 8601 UTC, booleans as true/false. */
function cell(column: string, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  if (isTimeColumn(column)) return new Date(Number(value)).toISOString();
  if (isBooleanColumn(column)) return Number(value) !== 0 ? 'true' : 'false';
  if (typeof value === 'number' || typeof value === 'string') return value;
  return String(value);
}

/** The stored rows of a plan, a batch at a time, each with its raw Graph record where it has one. */
/** The repositories an export reads. */
export type ExportStore = Pick<Repositories, 'signIns' | 'datasets'>;

function rows(store: ExportStore, integrationId: string, plan: ExportPlan): AsyncGenerator<Record<string, unknown>> {
  const s = plan.source;
  if (s.kind === 'signins') {
    return (async function* () {
      // CSV has the typed columns only: no block of records need be opened
      const query = {
        since: plan.since,
        until: plan.until,
        eventTypes: s.eventTypes,
        exceptEventTypes: s.exceptEventTypes,
        raw: plan.format === 'jsonl',
      };
      for await (const r of store.signIns.stream(integrationId, query)) {
        yield { ...r, id: r.sign_in_id };
      }
    })();
  }
  const repo = store.datasets;
  if (s.kind === 'links') return repo.streamLinks(s.table, integrationId);
  const stored = repo.stream(s.spec, integrationId, {
    since: plan.since,
    until: plan.until,
    includeDeleted: plan.includeDeleted,
  });
  // the names are typed columns: JSON lines are the Graph records as collected and need no lookups
  return s.spec === DATASETS.roleAssignments && plan.format === 'csv'
    ? withAssignmentNames(repo, integrationId, stored)
    : stored;
}

/** Role assignments name a role and a principal by id: their names go beside them, where known. */
const ASSIGNMENT_NAME_COLUMNS = [
  'role_display_name',
  'principal_type',
  'principal_display_name',
  'principal_user_principal_name',
];

async function* withAssignmentNames(
  repo: ExportStore['datasets'],
  integrationId: string,
  stored: AsyncGenerator<Record<string, unknown>>,
): AsyncGenerator<Record<string, unknown>> {
  let batch: Array<Record<string, unknown>> = [];
  const flush = async function* () {
    const ids = (column: string) => [
      ...new Set(batch.map((r) => r[column]).filter((v): v is string => typeof v === 'string')),
    ];
    const names = await repo.roleAssignmentNames(integrationId, ids('role_definition_id'), ids('principal_id'));
    for (const r of batch) {
      const principal = names.principals.get(String(r.principal_id));
      yield {
        ...r,
        role_display_name: names.roles.get(String(r.role_definition_id)) ?? null,
        principal_type: principal?.type ?? null,
        principal_display_name: principal?.displayName ?? null,
        principal_user_principal_name: principal?.userPrincipalName ?? null,
      };
    }
    batch = [];
  };
  for await (const r of stored) {
    batch.push(r);
    if (batch.length >= CSV_ROWS) yield* flush();
  }
  yield* flush();
}

/** A line break followed by what a spreadsheet would start a formula with (see CSV). */
const FORMULA_AFTER_BREAK = /(\r\n|\r|\n)(?=[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20])/g;

const CSV: CsvOptions = {
  record_delimiter: 'windows', // RFC 4180: CRLF
  // Formula (CSV) injection: names, display names and the like come from the tenant, and anyone
  // who can create a user or app there chooses them. A spreadsheet opening the export runs a
  // cell that starts with = + - @ (or tab or CR, which some strip first; or their full-width
  // forms) as a formula — =HYPERLINK(...) can send the row's data away, DDE can run commands.
  // csv-stringify prefixes such cells with a single quote, which makes them text (OWASP's
  // advice). Numbers stay numbers (a negative longitude is not a formula); times and booleans
  // never start so. A line break inside a cell is quoted (csv-stringify quotes only the whole
  // CRLF), and a formula start after it is neutralised too: a reader that splits lines first
  // must not find a formula at the start of one.
  escape_formulas: true,
  quoted_match: /[\r\n]/,
  cast: { string: (value) => value.replace(FORMULA_AFTER_BREAK, "$1'") },
};

/** Output flushed when this much is buffered: few, large writes, and a bounded buffer. */
const FLUSH_BYTES = 64 * 1024;
const CSV_ROWS = 500;

/**
 * The export as text chunks. Reads nothing until the first chunk is asked for, and stops
 * reading when the consumer stops asking (a closed connection, a full pipe waits).
 */
export async function* exportChunks(
  store: ExportStore,
  integrationId: string,
  plan: ExportPlan,
  stats: ExportStats = { records: 0 },
): AsyncGenerator<string> {
  if (plan.format === 'csv') {
    yield stringify([[...plan.columns]], CSV);
    let batch: Array<Array<string | number | null>> = [];
    for await (const r of rows(store, integrationId, plan)) {
      batch.push(plan.columns.map((c) => cell(c, r[c])));
      stats.records++;
      if (batch.length >= CSV_ROWS) {
        yield stringify(batch, CSV);
        batch = [];
      }
    }
    if (batch.length > 0) yield stringify(batch, CSV);
    return;
  }
  let buffer = '';
  for await (const r of rows(store, integrationId, plan)) {
    // The stored text itself: JSON.stringify never puts a raw newline in a document, so one
    // record is one line. Links have no Graph record of their own: their typed columns instead.
    const line =
      typeof r.raw === 'string'
        ? r.raw
        : JSON.stringify(Object.fromEntries(plan.columns.map((c) => [c, cell(c, r[c])])));
    buffer += `${line}\n`;
    stats.records++;
    if (buffer.length >= FLUSH_BYTES) {
      yield buffer;
      buffer = '';
    }
  }
  if (buffer) yield buffer;
}

export interface OpenExport {
  plan: ExportPlan;
  chunks: AsyncGenerator<string>;
  stats: ExportStats;
  contentType: string;
  filename: string;
}

/**
 * Checks the request (400) and the integration (404), then returns the export, not yet read.
 * The CLI and the API both start here.
 */
export async function openExport(
  ctx: Pick<Context, 'store' | 'integrations' | 'clock'>,
  integrationId: string,
  query: ExportQuery,
): Promise<OpenExport> {
  const plan = planExport(query);
  await ctx.integrations.get(integrationId);
  const stats: ExportStats = { records: 0 };
  return {
    plan,
    stats,
    chunks: exportChunks(ctx.store, integrationId, plan, stats),
    contentType: CONTENT_TYPES[plan.format],
    filename: exportFilename(plan, ctx.clock.now()),
  };
}
