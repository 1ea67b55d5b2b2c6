// The data sets collected besides sign-ins (tables in migrations/0005_datasets.ts): how each
// Graph record maps to its typed columns, and one repository for all of them. Records are
// stored whole (raw) and upserted by Graph id; a full collection pass stamps what it sees with
// its generation and, once complete, marks the rest as gone, so the copy is never half-replaced.
import { sql, type Kysely } from 'kysely';
import { ValidationError } from '../errors.js';
import type { Db } from './db.js';
import { deleteBatch } from './batch-delete.js';
import { bool, lower, num, obj, str } from './graph-values.js';
import { blockRanges, compressBlock, decompressBlock, digestOf } from './record-blocks.js';
import type { Database } from './schema.js';
import { readSnapshot, writeTransaction } from './tx.js';

export type GraphRecord = Record<string, unknown>;
type Value = string | number | null;
type Extract = (r: GraphRecord) => Value;

export interface DatasetSpec {
  /** The name users know it by (`idsight export --type`). */
  name: string;
  table: string;
  /** Typed columns and how each is read from the Graph record. */
  columns: Record<string, Extract>;
  /** The column `--since`/`--until` filter on, if the records are events. */
  time?: string;
  /** Applications and service principals carry credentials, kept in app_credentials. */
  credentials?: 'application' | 'servicePrincipal';
  /**
   * Event records, many and never merged, are kept compressed in blocks in this table (as sign-ins
   * are, record-blocks.ts); the rows point at them and their `raw` stays empty.
   */
  blocks?: 'audit_blocks';
}

const json = (v: unknown): string | null => (v === undefined || v === null ? null : JSON.stringify(v));
/** ISO time as epoch ms; Graph writes 0001-01-01 for "never". */
const time = (v: unknown): number | null => {
  if (typeof v !== 'string') return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) && ms > 0 ? ms : null;
};
const first = (v: unknown): GraphRecord => (Array.isArray(v) ? obj(v[0]) : {});
const at =
  (...path: string[]) =>
  (r: GraphRecord): unknown =>
    path.reduce<unknown>((v, p) => obj(v)[p], r);

export const DATASETS = {
  users: {
    name: 'users',
    table: 'directory_users',
    columns: {
      user_principal_name: (r) => lower(r.userPrincipalName),
      display_name: (r) => str(r.displayName),
      mail: (r) => str(r.mail),
      user_type: (r) => str(r.userType),
      account_enabled: (r) => bool(r.accountEnabled),
      created_at: (r) => time(r.createdDateTime),
      on_premises_sync_enabled: (r) => bool(r.onPremisesSyncEnabled),
      external_user_state: (r) => str(r.externalUserState),
      last_password_change_at: (r) => time(r.lastPasswordChangeDateTime),
    },
  },
  groups: {
    name: 'groups',
    table: 'directory_groups',
    columns: {
      display_name: (r) => str(r.displayName),
      security_enabled: (r) => bool(r.securityEnabled),
      mail_enabled: (r) => bool(r.mailEnabled),
      group_types: (r) => json(r.groupTypes),
      is_assignable_to_role: (r) => bool(r.isAssignableToRole),
      membership_rule: (r) => str(r.membershipRule),
      created_at: (r) => time(r.createdDateTime),
    },
  },
  signInActivity: {
    name: 'signInActivity',
    table: 'user_sign_in_activity',
    columns: {
      user_principal_name: (r) => lower(r.userPrincipalName),
      last_sign_in_at: (r) => time(at('signInActivity', 'lastSignInDateTime')(r)),
      last_non_interactive_sign_in_at: (r) => time(at('signInActivity', 'lastNonInteractiveSignInDateTime')(r)),
      last_successful_sign_in_at: (r) => time(at('signInActivity', 'lastSuccessfulSignInDateTime')(r)),
    },
  },
  mfaRegistration: {
    name: 'mfaRegistration',
    table: 'mfa_registrations',
    columns: {
      user_principal_name: (r) => lower(r.userPrincipalName),
      user_type: (r) => str(r.userType),
      is_admin: (r) => bool(r.isAdmin),
      is_mfa_capable: (r) => bool(r.isMfaCapable),
      is_mfa_registered: (r) => bool(r.isMfaRegistered),
      is_passwordless_capable: (r) => bool(r.isPasswordlessCapable),
      is_sspr_registered: (r) => bool(r.isSsprRegistered),
      default_mfa_method: (r) => str(r.defaultMfaMethod),
      methods_registered: (r) => json(r.methodsRegistered),
      last_updated_at: (r) => time(r.lastUpdatedDateTime),
    },
  },
  riskyUsers: {
    name: 'riskyUsers',
    table: 'risky_users',
    columns: {
      user_principal_name: (r) => lower(r.userPrincipalName),
      risk_level: (r) => str(r.riskLevel),
      risk_state: (r) => str(r.riskState),
      risk_detail: (r) => str(r.riskDetail),
      risk_last_updated_at: (r) => time(r.riskLastUpdatedDateTime),
      is_deleted: (r) => bool(r.isDeleted),
    },
  },
  riskDetections: {
    name: 'riskDetections',
    table: 'risk_detections',
    time: 'detected_at',
    columns: {
      user_id: (r) => str(r.userId),
      user_principal_name: (r) => lower(r.userPrincipalName),
      risk_event_type: (r) => str(r.riskEventType),
      risk_level: (r) => str(r.riskLevel),
      risk_state: (r) => str(r.riskState),
      risk_detail: (r) => str(r.riskDetail),
      ip_address: (r) => str(r.ipAddress),
      country: (r) => str(at('location', 'countryOrRegion')(r)),
      city: (r) => str(at('location', 'city')(r)),
      request_id: (r) => str(r.requestId),
      detected_at: (r) => time(r.detectedDateTime),
      activity_at: (r) => time(r.activityDateTime),
      last_updated_at: (r) => time(r.lastUpdatedDateTime),
    },
  },
  conditionalAccess: {
    name: 'conditionalAccess',
    table: 'ca_policies',
    columns: {
      display_name: (r) => str(r.displayName),
      state: (r) => str(r.state),
      created_at: (r) => time(r.createdDateTime),
      modified_at: (r) => time(r.modifiedDateTime),
    },
  },
  applications: {
    name: 'applications',
    table: 'applications',
    credentials: 'application',
    columns: {
      app_id: (r) => str(r.appId),
      display_name: (r) => str(r.displayName),
      sign_in_audience: (r) => str(r.signInAudience),
      created_at: (r) => time(r.createdDateTime),
    },
  },
  servicePrincipals: {
    name: 'servicePrincipals',
    table: 'service_principals',
    credentials: 'servicePrincipal',
    columns: {
      app_id: (r) => str(r.appId),
      display_name: (r) => str(r.displayName),
      service_principal_type: (r) => str(r.servicePrincipalType),
      account_enabled: (r) => bool(r.accountEnabled),
      app_owner_organization_id: (r) => str(r.appOwnerOrganizationId),
    },
  },
  roleDefinitions: {
    name: 'roleDefinitions',
    table: 'role_definitions',
    columns: {
      display_name: (r) => str(r.displayName),
      template_id: (r) => str(r.templateId),
      is_built_in: (r) => bool(r.isBuiltIn),
      is_enabled: (r) => bool(r.isEnabled),
    },
  },
  roleAssignments: {
    name: 'roleAssignments',
    table: 'role_assignments',
    columns: {
      role_definition_id: (r) => str(r.roleDefinitionId),
      principal_id: (r) => str(r.principalId),
      directory_scope_id: (r) => str(r.directoryScopeId),
    },
  },
  managedDevices: {
    name: 'managedDevices',
    table: 'managed_devices',
    columns: {
      device_name: (r) => str(r.deviceName),
      user_id: (r) => str(r.userId),
      user_principal_name: (r) => lower(r.userPrincipalName),
      operating_system: (r) => str(r.operatingSystem),
      os_version: (r) => str(r.osVersion),
      compliance_state: (r) => str(r.complianceState),
      is_encrypted: (r) => bool(r.isEncrypted),
      management_agent: (r) => str(r.managementAgent),
      azure_ad_device_id: (r) => str(r.azureADDeviceId),
      enrolled_at: (r) => time(r.enrolledDateTime),
      last_sync_at: (r) => time(r.lastSyncDateTime),
    },
  },
  licences: {
    name: 'licences',
    table: 'licences',
    columns: {
      sku_id: (r) => str(r.skuId),
      sku_part_number: (r) => str(r.skuPartNumber),
      capability_status: (r) => str(r.capabilityStatus),
      applies_to: (r) => str(r.appliesTo),
      enabled_units: (r) => num(at('prepaidUnits', 'enabled')(r)),
      consumed_units: (r) => num(r.consumedUnits),
    },
  },
  directoryAudits: {
    name: 'directoryAudits',
    table: 'directory_audits',
    time: 'activity_at',
    blocks: 'audit_blocks',
    columns: {
      activity_at: (r) => time(r.activityDateTime),
      category: (r) => str(r.category),
      activity_display_name: (r) => str(r.activityDisplayName),
      operation_type: (r) => str(r.operationType),
      result: (r) => str(r.result),
      logged_by_service: (r) => str(r.loggedByService),
      initiated_by_user_id: (r) => str(at('initiatedBy', 'user', 'id')(r)),
      initiated_by_upn: (r) => lower(at('initiatedBy', 'user', 'userPrincipalName')(r)),
      initiated_by_app_id: (r) => str(at('initiatedBy', 'app', 'appId')(r)),
      target_id: (r) => str(first(r.targetResources).id),
      target_display_name: (r) => str(first(r.targetResources).displayName),
      correlation_id: (r) => str(r.correlationId),
    },
  },
} as const satisfies Record<string, DatasetSpec>;

export type DatasetName = keyof typeof DATASETS;

/** What every data set row has besides its typed columns (migrations 0005 and 0008). */
interface DatasetRowBase {
  integration_id: string;
  /** Graph's id of the record. */
  id: string;
  /** The collection pass that last saw it. */
  generation: number;
  /** When it left the tenant (null: present), and why. */
  deleted_at: number | null;
  removed_reason: string | null;
  collected_at: number;
  /** The Graph record as JSON; empty when it is kept in a block (`blocks`). */
  raw: string;
  block_id: number | null;
  block_pos: number | null;
  digest: number | null;
}

/** A data set's table: its typed columns, each of the type its extractor in DATASETS gives. */
type DatasetTable<S extends DatasetSpec> = DatasetRowBase & {
  [C in keyof S['columns']]: ReturnType<S['columns'][C]>;
};

/** The data set tables by name, for Kysely (schema.ts), derived from DATASETS so they are written once. */
export type DatasetTables = {
  [N in DatasetName as (typeof DATASETS)[N]['table']]: DatasetTable<(typeof DATASETS)[N]>;
} & {
  group_members: {
    integration_id: string;
    group_id: string;
    member_id: string;
    member_type: string;
    generation: number;
  };
  app_credentials: {
    integration_id: string;
    owner_id: string;
    owner_kind: string;
    key_id: string;
    app_id: string | null;
    owner_display_name: string | null;
    credential_type: string;
    display_name: string | null;
    hint: string | null;
    start_at: number | null;
    end_at: number | null;
  };
};

export interface DatasetCounts {
  inserted: number;
  updated: number;
  unchanged: number;
}

/** A member reference from members@delta: which object, and of what type (user, group, …). */
export interface MemberRef {
  id: string;
  type: string;
}

/** Memberships, credentials and the typed columns exported as CSV for them. */
export const GROUP_MEMBER_COLUMNS = ['group_id', 'member_id', 'member_type'] as const;
export const CREDENTIAL_COLUMNS = [
  'owner_id',
  'owner_kind',
  'app_id',
  'owner_display_name',
  'key_id',
  'credential_type',
  'display_name',
  'hint',
  'start_at',
  'end_at',
] as const;

/** Memberships and credentials are shown as data sets of their own. */
const LINK_SETS = { groupMembers: 'group_members', appCredentials: 'app_credentials' } as const;

/** The data type whose runs fill a data set, where it is not the one of the data set's name. */
const FILLED_BY: Record<string, string> = {
  servicePrincipals: 'applications',
  roleDefinitions: 'roleAssignments',
  groupMembers: 'groups',
  appCredentials: 'applications',
};

const COMMON = ['generation', 'deleted_at', 'removed_reason', 'collected_at', 'raw'] as const;
// SQLite allows 32,766 bound parameters per statement: rows × columns stays well inside.
const CHUNK = 400;

export interface UpsertOptions {
  /** The collection pass writing; a complete full pass sweeps rows of older generations. */
  generation: number;
  collectedAt: number;
  /**
   * Delta rounds send changed objects with "at least the updated properties" (delta-query
   * overview): those are merged into the stored record instead of replacing it.
   */
  merge?: boolean;
  /** Each record's JSON as received (page-text.ts), where known: kept as it is. */
  texts?: ReadonlyArray<string | undefined>;
}

/** A row of a data set: the typed columns, plus the whole record. */
function rowOf(spec: DatasetSpec, integrationId: string, record: GraphRecord, o: UpsertOptions): Record<string, Value> {
  const id = str(record.id);
  if (!id) throw new ValidationError(`malformed ${spec.name} record: it has no id`);
  const row: Record<string, Value> = { integration_id: integrationId, id };
  for (const [column, read] of Object.entries(spec.columns)) row[column] = read(record);
  return {
    ...row,
    generation: o.generation,
    deleted_at: null,
    removed_reason: null,
    collected_at: o.collectedAt,
    raw: JSON.stringify(record),
  };
}

function credentialRows(integrationId: string, kind: string, record: GraphRecord): Array<Record<string, Value>> {
  const rows: Array<Record<string, Value>> = [];
  for (const [list, type] of [
    ['passwordCredentials', 'password'],
    ['keyCredentials', 'certificate'],
  ] as const) {
    const creds = Array.isArray(record[list]) ? (record[list] as unknown[]) : [];
    for (const c of creds.map(obj)) {
      const keyId = str(c.keyId);
      if (!keyId) continue;
      rows.push({
        integration_id: integrationId,
        owner_id: str(record.id),
        owner_kind: kind,
        key_id: keyId,
        app_id: str(record.appId),
        owner_display_name: str(record.displayName),
        credential_type: type,
        display_name: str(c.displayName),
        hint: str(c.hint),
        start_at: time(c.startDateTime),
        end_at: time(c.endDateTime),
      });
    }
  }
  return rows;
}

export interface StreamQuery {
  since?: number | undefined;
  until?: number | undefined;
  /** Also rows that left the tenant (deleted_at set). */
  includeDeleted?: boolean | undefined;
  /** Rows read per query: memory stays flat whatever the size of the data set. */
  batch?: number;
}

// Queries that serve every data set name their table and columns from DATASETS at run time: they
// see the tables as rows of unknown values, which they convert where they read them.
type UntypedKysely = Kysely<Record<string, Record<string, unknown>>>;
const untyped = (k: Kysely<Database>): UntypedKysely => k as unknown as UntypedKysely;

/** Rows a purge deletes per transaction: a few tens of milliseconds of SQLite's write lock. */
const PURGE_BATCH_ROWS = 5_000;
/** The first key of the advisory locks that serialise an integration's pages of event records (any constant of ours). */
const BLOCK_LOCKS = 0x4175;

/** Names for the ids in role assignments (see roleAssignmentNames). */
export interface AssignmentNames {
  roles: Map<string, string>;
  principals: Map<string, { type: string; displayName: string | null; userPrincipalName: string | null }>;
}

export function createDatasetRepo(db: Db) {
  const typed = db.kysely;
  const k = untyped(typed);
  /** A write transaction over the untyped tables. */
  const write = <T>(fn: (trx: UntypedKysely) => Promise<T>): Promise<T> => writeTransaction(db, (t) => fn(untyped(t)));

  /**
   * Event records kept in blocks: new records and changed versions (another digest, or back after
   * being marked gone) go into new blocks a page at a time; a block no row points at any more goes.
   */
  async function upsertInBlocks(
    spec: DatasetSpec,
    blocks: string,
    integrationId: string,
    records: GraphRecord[],
    o: UpsertOptions,
  ): Promise<DatasetCounts> {
    const unique = new Map<string, { record: GraphRecord; text: string }>();
    records.forEach((record, i) => {
      const id = str(record.id);
      if (!id) throw new ValidationError(`malformed ${spec.name} record: it has no id`);
      const given = o.texts?.length === records.length ? o.texts[i] : undefined;
      unique.set(id, { record, text: given !== undefined && !given.includes('\n') ? given : JSON.stringify(record) });
    });
    const counts: DatasetCounts = { inserted: 0, updated: 0, unchanged: 0 };
    const columns = [...Object.keys(spec.columns), ...COMMON, 'block_id', 'block_pos', 'digest'];
    await write(async (trx) => {
      // one page of an integration at a time: each sees what the one before it stored (SQLite's write lock does this)
      if (db.dialect === 'postgres')
        await sql`select pg_advisory_xact_lock(${BLOCK_LOCKS}, hashtext(${`${blocks}/${integrationId}`}))`.execute(trx);
      const all = [...unique.values()];
      for (let i = 0; i < all.length; i += CHUNK) {
        const chunk = all.slice(i, i + CHUNK).map((x) => ({ ...x, digest: digestOf(x.text) }));
        const stored = new Map(
          (
            await trx
              .selectFrom(spec.table)
              .select(['id', 'digest', 'block_id', 'deleted_at'])
              .where('integration_id', '=', integrationId)
              .where(
                'id',
                'in',
                chunk.map((x) => x.record.id as string),
              )
              .execute()
          ).map((r) => [r.id as string, r as { digest: unknown; block_id: unknown; deleted_at: unknown }]),
        );
        const writes = chunk.filter((x) => {
          const old = stored.get(x.record.id as string);
          if (!old) counts.inserted++;
          else if (Number(old.digest) !== x.digest || old.deleted_at !== null) counts.updated++;
          else counts.unchanged++;
          return !old || Number(old.digest) !== x.digest || old.deleted_at !== null;
        });
        for (const [a, z] of blockRanges(writes.length)) {
          const part = writes.slice(a, z);
          const data = compressBlock(part.map((x) => x.text).join('\n'));
          const block = await trx
            .insertInto(blocks)
            .values({ integration_id: integrationId, collected_at: o.collectedAt, live: part.length, data })
            .returning('id')
            .executeTakeFirstOrThrow();
          const rows = part.map((x, pos) => ({
            ...rowOf(spec, integrationId, x.record, o),
            raw: '',
            block_id: Number(block.id),
            block_pos: pos,
            digest: x.digest,
          }));
          await trx
            .insertInto(spec.table)
            .values(rows)
            .onConflict((oc) =>
              oc
                .columns(['integration_id', 'id'])
                .doUpdateSet((eb) => Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}`)]))),
            )
            .execute();
        }
        const released = writes.flatMap((x) => {
          const old = stored.get(x.record.id as string);
          return old?.block_id != null ? [Number(old.block_id)] : [];
        });
        for (const id of released)
          await trx
            .updateTable(blocks)
            .set((eb) => ({ live: eb('live', '-', 1) }))
            .where('id', '=', id)
            .execute();
        if (released.length > 0)
          await trx
            .deleteFrom(blocks)
            .where('id', 'in', [...new Set(released)])
            .where('live', '<=', 0)
            .execute();
      }
    });
    return counts;
  }

  /** A batch of rows with their records, out of their blocks, as `raw` (read in the rows' snapshot). */
  async function withRecords(
    trx: UntypedKysely,
    blocks: string,
    rows: Array<Record<string, unknown>>,
  ): Promise<Array<Record<string, unknown>>> {
    const ids = [...new Set(rows.filter((r) => r.block_id != null).map((r) => Number(r.block_id)))];
    const opened = new Map<number, string[]>();
    for (let i = 0; i < ids.length; i += 100) {
      for (const b of await trx
        .selectFrom(blocks)
        .select(['id', 'data'])
        .where('id', 'in', ids.slice(i, i + 100))
        .execute())
        opened.set(Number(b.id), decompressBlock(b.data as Uint8Array));
    }
    return rows.map((r) =>
      r.block_id == null ? r : { ...r, raw: opened.get(Number(r.block_id))![Number(r.block_pos)] },
    );
  }

  async function replaceCredentials(
    trx: UntypedKysely,
    spec: DatasetSpec,
    integrationId: string,
    ownerIds: string[],
    records: GraphRecord[],
  ): Promise<void> {
    if (!spec.credentials || ownerIds.length === 0) return;
    await trx
      .deleteFrom('app_credentials')
      .where('integration_id', '=', integrationId)
      .where('owner_id', 'in', ownerIds)
      .execute();
    const rows = records.flatMap((r) => credentialRows(integrationId, spec.credentials!, r));
    for (let i = 0; i < rows.length; i += CHUNK)
      await trx
        .insertInto('app_credentials')
        .values(rows.slice(i, i + CHUNK))
        .execute();
  }

  async function dropCredentialsOfGone(trx: UntypedKysely, spec: DatasetSpec, integrationId: string): Promise<void> {
    if (!spec.credentials) return;
    await trx
      .deleteFrom('app_credentials')
      .where('integration_id', '=', integrationId)
      .where((eb) =>
        eb(
          'owner_id',
          'in',
          eb
            .selectFrom(spec.table)
            .select('id')
            .where('integration_id', '=', integrationId)
            .where('deleted_at', 'is not', null),
        ),
      )
      .execute();
  }

  return {
    /**
     * Stores a page in one transaction; every record gets this pass's generation. A malformed
     * record (no id) fails the whole page before anything is written.
     */
    async upsert(
      spec: DatasetSpec,
      integrationId: string,
      records: GraphRecord[],
      o: UpsertOptions,
    ): Promise<DatasetCounts> {
      if (spec.blocks) return upsertInBlocks(spec, spec.blocks, integrationId, records, o);
      const unique = new Map<string, GraphRecord>();
      for (const r of records) {
        const id = str(r.id);
        if (!id) throw new ValidationError(`malformed ${spec.name} record: it has no id`);
        unique.set(id, o.merge ? { ...unique.get(id), ...r } : r);
      }
      const counts: DatasetCounts = { inserted: 0, updated: 0, unchanged: 0 };
      const columns = [...Object.keys(spec.columns), ...COMMON];
      await write(async (trx) => {
        const all = [...unique.values()];
        for (let i = 0; i < all.length; i += CHUNK) {
          const chunk = all.slice(i, i + CHUNK);
          const ids = chunk.map((r) => r.id as string);
          const stored = new Map<string, { raw: string; deleted_at: unknown }>(
            (
              await trx
                .selectFrom(spec.table)
                .select(['id', 'raw', 'deleted_at'])
                .where('integration_id', '=', integrationId)
                .where('id', 'in', ids)
                .execute()
            ).map((r) => [r.id as string, r as { raw: string; deleted_at: unknown }]),
          );
          const changed: GraphRecord[] = [];
          const rows = chunk.map((record) => {
            const old = stored.get(record.id as string);
            const merged = o.merge && old ? { ...(JSON.parse(old.raw) as GraphRecord), ...record } : record;
            const row = rowOf(spec, integrationId, merged, o);
            if (!old) counts.inserted++;
            else if (old.raw !== row.raw || old.deleted_at !== null) counts.updated++;
            else counts.unchanged++;
            if (!old || old.raw !== row.raw) changed.push(merged);
            return row;
          });
          await trx
            .insertInto(spec.table)
            .values(rows)
            .onConflict((oc) =>
              oc
                .columns(['integration_id', 'id'])
                .doUpdateSet((eb) => Object.fromEntries(columns.map((c) => [c, eb.ref(`excluded.${c}`)]))),
            )
            .execute();
          await replaceCredentials(
            trx,
            spec,
            integrationId,
            changed.map((r) => r.id as string),
            changed,
          );
        }
      });
      return counts;
    },

    /** Graph reported these objects removed (@removed): kept, marked with when and why. */
    async markRemoved(
      spec: DatasetSpec,
      integrationId: string,
      removed: Array<{ id: string; reason: string }>,
      now: number,
    ): Promise<number> {
      if (removed.length === 0) return 0;
      return write(async (trx) => {
        let n = 0;
        for (const { id, reason } of removed) {
          const r = await trx
            .updateTable(spec.table)
            .set({ deleted_at: now, removed_reason: reason, collected_at: now })
            .where('integration_id', '=', integrationId)
            .where('id', '=', id)
            .where((eb) => eb.or([eb('deleted_at', 'is', null), eb('removed_reason', '!=', reason)]))
            .executeTakeFirst();
          n += Number(r.numUpdatedRows);
        }
        await dropCredentialsOfGone(trx, spec, integrationId);
        return n;
      });
    },

    /** A full pass completed: what it did not see has left the tenant. Returns how many. */
    async sweep(spec: DatasetSpec, integrationId: string, generation: number, now: number): Promise<number> {
      return write(async (trx) => {
        const r = await trx
          .updateTable(spec.table)
          .set({ deleted_at: now, removed_reason: 'absent' })
          .where('integration_id', '=', integrationId)
          .where('generation', '<', generation)
          .where('deleted_at', 'is', null)
          .executeTakeFirst();
        await dropCredentialsOfGone(trx, spec, integrationId);
        return Number(r.numUpdatedRows);
      });
    },

    /** Group members from members@delta: present ones added (or re-stamped), removed ones deleted. */
    async applyMembers(
      integrationId: string,
      groupId: string,
      present: MemberRef[],
      removedIds: string[],
      generation: number,
    ): Promise<void> {
      await write(async (trx) => {
        for (let i = 0; i < removedIds.length; i += CHUNK) {
          await trx
            .deleteFrom('group_members')
            .where('integration_id', '=', integrationId)
            .where('group_id', '=', groupId)
            .where('member_id', 'in', removedIds.slice(i, i + CHUNK))
            .execute();
        }
        const rows = present.map((m) => ({
          integration_id: integrationId,
          group_id: groupId,
          member_id: m.id,
          member_type: m.type,
          generation,
        }));
        for (let i = 0; i < rows.length; i += CHUNK) {
          await trx
            .insertInto('group_members')
            .values(rows.slice(i, i + CHUNK))
            .onConflict((oc) =>
              oc.columns(['integration_id', 'group_id', 'member_id']).doUpdateSet((eb) => ({
                member_type: eb.ref('excluded.member_type'),
                generation: eb.ref('excluded.generation'),
              })),
            )
            .execute();
        }
      });
    },

    /**
     * After a full groups pass: memberships it did not list are gone, and so are those of groups
     * that left the tenant. Returns how many memberships went.
     */
    async sweepMembers(integrationId: string, generation: number | null): Promise<number> {
      let q = k.deleteFrom('group_members').where('integration_id', '=', integrationId);
      q = q.where((eb) =>
        eb.or([
          ...(generation === null ? [] : [eb('generation', '<', generation)]),
          eb(
            'group_id',
            'in',
            eb
              .selectFrom('directory_groups')
              .select('id')
              .where('integration_id', '=', integrationId)
              .where('deleted_at', 'is not', null),
          ),
        ]),
      );
      return Number((await q.executeTakeFirst()).numDeletedRows);
    },

    /** Rows of a data set, in key order, a batch at a time (memory flat in its size). */
    async *stream(
      spec: DatasetSpec,
      integrationId: string,
      q: StreamQuery = {},
    ): AsyncGenerator<Record<string, unknown>> {
      const batch = q.batch ?? 1_000;
      const timeCol = spec.time;
      let after: { t: number; id: string } | undefined;
      for (;;) {
        let query = k.selectFrom(spec.table).selectAll().where('integration_id', '=', integrationId);
        if (!q.includeDeleted) query = query.where('deleted_at', 'is', null);
        if (timeCol) {
          if (q.since !== undefined) query = query.where(timeCol, '>=', q.since);
          if (q.until !== undefined) query = query.where(timeCol, '<', q.until);
          if (after) {
            const a = after;
            // The plain lower bound lets the (integration_id, time) index start at the cursor.
            query = query.where(timeCol, '>=', a.t).where((eb) => eb.or([eb(timeCol, '>', a.t), eb('id', '>', a.id)]));
          }
          query = query.orderBy(timeCol).orderBy('id');
        } else {
          if (after) query = query.where('id', '>', after.id);
          query = query.orderBy('id');
        }
        const page = query.limit(batch).compile();
        // a row and the block it points at are read as of one moment (a newer version may replace the block)
        const rows = spec.blocks
          ? await readSnapshot(db, async (trx) =>
              withRecords(
                untyped(trx),
                spec.blocks!,
                (await trx.executeQuery(page)).rows as Array<Record<string, unknown>>,
              ),
            )
          : ((await k.executeQuery(page)).rows as Array<Record<string, unknown>>);
        for (const row of rows) yield row;
        if (rows.length < batch) return;
        const last = rows[rows.length - 1] as Record<string, unknown>;
        after = { t: timeCol ? Number(last[timeCol]) : 0, id: String(last.id) };
      }
    },

    /** Memberships or credentials, in key order, a batch at a time. */
    async *streamLinks(
      table: 'group_members' | 'app_credentials',
      integrationId: string,
      batch = 1_000,
    ): AsyncGenerator<Record<string, unknown>> {
      const [a, b] = table === 'group_members' ? ['group_id', 'member_id'] : ['owner_id', 'key_id'];
      let after: [string, string] | undefined;
      for (;;) {
        let query = k.selectFrom(table).selectAll().where('integration_id', '=', integrationId);
        if (after) {
          const [x, y] = after;
          query = query.where((eb) => eb.or([eb(a, '>', x), eb.and([eb(a, '=', x), eb(b, '>', y)])]));
        }
        const rows = await query.orderBy(a).orderBy(b).limit(batch).execute();
        for (const row of rows) yield row as Record<string, unknown>;
        if (rows.length < batch) return;
        const last = rows[rows.length - 1] as Record<string, unknown>;
        after = [String(last[a]), String(last[b])];
      }
    },

    /**
     * What the ids of role assignments name, from what is stored for the integration: roles by
     * definition id or template id (built-in roles are assigned by either), principals among users,
     * groups and service principals (gone ones too: an assignment may outlive its principal).
     */
    async roleAssignmentNames(
      integrationId: string,
      roleIds: string[],
      principalIds: string[],
    ): Promise<AssignmentNames> {
      const roles = new Map<string, string>();
      const principals = new Map<
        string,
        { type: string; displayName: string | null; userPrincipalName: string | null }
      >();
      if (roleIds.length > 0) {
        const defs = await typed
          .selectFrom('role_definitions')
          .select(['id', 'template_id', 'display_name'])
          .where('integration_id', '=', integrationId)
          .where((eb) => eb.or([eb('id', 'in', roleIds), eb('template_id', 'in', roleIds)]))
          .execute();
        for (const d of defs)
          for (const key of [d.id, d.template_id]) if (key && d.display_name) roles.set(key, d.display_name);
      }
      if (principalIds.length > 0) {
        const users = await typed
          .selectFrom('directory_users')
          .select(['id', 'display_name', 'user_principal_name'])
          .where('integration_id', '=', integrationId)
          .where('id', 'in', principalIds)
          .execute();
        for (const u of users)
          principals.set(u.id, {
            type: 'user',
            displayName: u.display_name,
            userPrincipalName: u.user_principal_name,
          });
        for (const [table, type] of [
          ['directory_groups', 'group'],
          ['service_principals', 'servicePrincipal'],
        ] as const) {
          const named = await typed
            .selectFrom(table)
            .select(['id', 'display_name'])
            .where('integration_id', '=', integrationId)
            .where('id', 'in', principalIds)
            .execute();
          for (const n of named) principals.set(n.id, { type, displayName: n.display_name, userPrincipalName: null });
        }
      }
      return { roles, principals };
    },

    /**
     * Counts again the records present in the data sets a data type's runs fill, and keeps the
     * counts (dataset_counts): a run's end pays for it, never a read of the counts.
     */
    async recount(integrationId: string, dataType: string, now: number): Promise<void> {
      const sets: Array<[name: string, table: string, presentOnly: boolean]> = [
        ...(Object.values(DATASETS) as DatasetSpec[]).map((spec): [string, string, boolean] => [
          spec.name,
          spec.table,
          true,
        ]),
        ...Object.entries(LINK_SETS).map(([name, table]): [string, string, boolean] => [name, table, false]),
      ];
      for (const [name, table, presentOnly] of sets) {
        if ((FILLED_BY[name] ?? name) !== dataType) continue;
        let q = k
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .where('integration_id', '=', integrationId);
        if (presentOnly) q = q.where('deleted_at', 'is', null);
        const records = Number((await q.executeTakeFirstOrThrow()).n);
        await typed
          .insertInto('dataset_counts')
          .values({ integration_id: integrationId, data_set: name, records, counted_at: now })
          .onConflict((oc) => oc.columns(['integration_id', 'data_set']).doUpdateSet({ records, counted_at: now }))
          .execute();
      }
    },

    /** The records present per data set, as last counted (a data set never collected is absent). */
    async counts(integrationId: string): Promise<Record<string, number>> {
      const rows = await typed
        .selectFrom('dataset_counts')
        .select(['data_set', 'records'])
        .where('integration_id', '=', integrationId)
        .orderBy('data_set')
        .execute();
      return Object.fromEntries(rows.map((r) => [r.data_set, Number(r.records)]));
    },

    /**
     * Deletes everything collected for an integration; returns rows deleted per data set. Rows
     * go `batchRows` at a time, each batch its own transaction, so SQLite's write lock is never
     * held for long (collections of other integrations go on); an interrupted purge leaves whole
     * batches and picks up where it stopped when called again. `stopped` ends it between batches.
     */
    async purge(
      integrationId: string,
      opts: { batchRows?: number; stopped?: () => boolean } = {},
    ): Promise<Record<string, number>> {
      const rows = opts.batchRows ?? PURGE_BATCH_ROWS;
      const out: Record<string, number> = {};
      const tables: Array<[string, string | undefined]> = [
        ...(Object.values(DATASETS) as DatasetSpec[]).map((spec): [string, string] => [spec.table, spec.name]),
        ['group_members', undefined],
        ['app_credentials', undefined],
        ['audit_blocks', undefined],
      ];
      for (const [table, name] of tables) {
        if (name) out[name] = 0;
        for (;;) {
          if (opts.stopped?.()) return out;
          const deleted = await write(async (trx) =>
            Number(
              (await deleteBatch(db, table, 'integration_id', integrationId, rows).execute(trx)).numAffectedRows ?? 0,
            ),
          );
          if (name) out[name]! += deleted;
          if (deleted < rows) break;
        }
      }
      await typed.deleteFrom('dataset_counts').where('integration_id', '=', integrationId).execute();
      return out;
    },
  };
}
export type DatasetRepo = ReturnType<typeof createDatasetRepo>;
