// Table types for Kysely. Times are epoch milliseconds (integer / bigint) in both dialects, so
// one code path reads and compares them; booleans are 0/1 integers for the same reason.
import type { Generated, Insertable, Selectable } from 'kysely';
import type { DatasetTables } from './datasets.js';
import type { TextColumn } from './signin-columns.js';

export type Role = 'admin' | 'helpdesk' | 'analyst';

export interface DashboardUserTable {
  id: string;
  email: string;
  password_hash: string;
  role: Role;
  created_at: number;
  updated_at: number;
  last_login_at: number | null;
}

export interface SessionTable {
  /** sha256 of the cookie value: a leaked database row cannot be replayed as a cookie. */
  token_hash: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}

export interface ApiTokenTable {
  id: string;
  user_id: string;
  name: string;
  /** The first characters of the token, for people to recognise it in lists. */
  prefix: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
  /** What the token may do, space-separated (api/routes/tokens/schema.ts SCOPES). */
  scopes: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor_type: 'user' | 'token' | 'cli' | 'system' | 'anonymous';
  actor_id: string | null;
  actor_label: string | null;
  action: string;
  target: string | null;
  ip: string | null;
  outcome: 'success' | 'failure' | 'denied';
  status: number | null;
  /** JSON object with what else matters (never secrets). */
  detail: string | null;
}

export interface IntegrationTable {
  id: string;
  name: string;
  tenant_id: string;
  client_id: string;
  cloud: string;
  /** AES-256-GCM envelope (see integrations/vault.ts); never leaves the server. */
  secret_envelope: string;
  /** JSON: data types, schedule and other per-integration settings. */
  settings: string;
  /** JSON {authorityHost, graphUrl, caPem} when cloud is 'custom'. */
  custom_cloud: string | null;
  status: Generated<string>;
  /** JSON: the last connectivity report (no secret in it). */
  last_report: string | null;
  last_tested_at: number | null;
  secret_expires_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface CollectionStateTable {
  integration_id: string;
  data_type: string;
  /** Epoch ms: every record created before it is stored (null before the first complete run). */
  cursor: number | null;
  delta_link: string | null;
  /** Epoch ms of the last late sweep (see collect/signins.ts). */
  swept_at: number | null;
  updated_at: number;
}

export interface CollectionSliceTable {
  integration_id: string;
  data_type: string;
  slice_start: number;
  slice_end: number;
  /** Where the chain resumes: the oldest time stored so far (null: nothing stored, resume at slice_end). */
  resume_at: number | null;
  done: Generated<number>;
  updated_at: number;
}

export interface CollectionRunTable {
  id: string;
  integration_id: string;
  data_type: string;
  trigger: string;
  status: string;
  started_at: number;
  ended_at: number | null;
  lease_until: number;
  /** JSON: counts (fetched, inserted, updated, unchanged, requests, throttled, retries, slices). */
  stats: string;
  error: string | null;
  guidance: string | null;
}
export type CollectionRunRow = Selectable<CollectionRunTable>;

export interface VaultKeyTable {
  key_id: string;
  /** An envelope of a known text under this key: proves the configured key is the right one. */
  check_envelope: string;
  created_at: number;
}

/** The sign-in store before it was compact (migration 0007): rows are converted, then it goes. */
export interface LegacySignInTable {
  integration_id: string;
  sign_in_id: string;
  hour: number;
  created_at: number;
  collected_at: number;
  /** The Graph record as received, JSON. */
  raw: string;
}

/** A number per integration for the sign-in tables. */
export interface SignInIntegrationTable {
  no: Generated<number>;
  integration_id: string;
}

/** Sign-ins stored per integration and event type, kept by the writers (never counted). */
export interface SignInCountTable {
  integration_no: number;
  event_type: string;
  signins: number;
}

/** Records present per integration and data set, counted at the end of each run that fills it. */
export interface DatasetCountTable {
  integration_id: string;
  data_set: string;
  records: number;
  counted_at: number;
}

/** Each integration's repeated texts of its sign-ins, numbered. */
export interface SignInStringTable {
  id: Generated<number>;
  integration_no: number;
  value: string;
}

/** Graph sign-in records, compressed a block at a time (record-blocks.ts). */
export interface SignInBlockTable {
  id: Generated<number>;
  integration_no: number;
  /** When idsight fetched these versions; the newest fetch of a record wins. */
  collected_at: number;
  /** Sign-ins whose current version is in this block. */
  live: number;
  data: Uint8Array;
}

/** Directory audit records, compressed a block at a time (the rows of directory_audits point at them). */
export interface AuditBlockTable {
  id: Generated<number>;
  integration_id: string;
  collected_at: number;
  live: number;
  data: Uint8Array;
}

/** One sign-in: its key, typed columns (texts as signin_strings numbers) and where its record is. */
export type SignInTable = {
  integration_no: number;
  /** Hour of createdDateTime (epoch ms / 3,600,000): the key prefix that keeps writes local. */
  hour: number;
  sign_in_id: string;
  created_at: number;
  latitude: number | null;
  longitude: number | null;
  error_code: number | null;
  is_interactive: number | null;
  correlation_id: string | null;
  block_id: number;
  block_pos: number;
  /** 48 bits of the record's SHA-256: versions are compared by it. */
  digest: number;
} & Record<TextColumn, number | null>;

/** Every table: idsight's own, and the data sets (datasets.ts describes those, once). */
export type Database = CoreTables & DatasetTables;

interface CoreTables {
  dashboard_users: DashboardUserTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  audit_log: AuditLogTable;
  integrations: IntegrationTable;
  vault_keys: VaultKeyTable;
  signins: SignInTable;
  signins_legacy: LegacySignInTable;
  signin_integrations: SignInIntegrationTable;
  signin_counts: SignInCountTable;
  dataset_counts: DatasetCountTable;
  signin_strings: SignInStringTable;
  signin_blocks: SignInBlockTable;
  audit_blocks: AuditBlockTable;
  collection_state: CollectionStateTable;
  collection_slices: CollectionSliceTable;
  collection_runs: CollectionRunTable;
}

export type DashboardUserRow = Selectable<DashboardUserTable>;
export type SessionRow = Selectable<SessionTable>;
export type ApiTokenRow = Selectable<ApiTokenTable>;
export type AuditRow = Selectable<AuditLogTable>;
export type NewAuditRow = Insertable<AuditLogTable>;
export type IntegrationRow = Selectable<IntegrationTable>;
