// One table per collected data set besides sign-ins (store/datasets.ts maps Graph records to
// them). Every one keeps the whole Graph record (raw) beside typed columns for what checks
// filter on, keyed by (integration, Graph id), with:
//   generation      the collection pass that last saw the record: a full pass that completes
//                   marks what it did not see as gone, so an interrupted pass loses nothing;
//   deleted_at      when the record left the tenant (null: present), and removed_reason:
//                   Graph's @removed reason ('changed' = soft-deleted, restorable; 'deleted')
//                   or 'absent' (a full pass no longer saw it). Rows are kept as evidence.
// Plus group memberships (nested groups are members of type group) and app credentials.
import type { ColumnDataType, Kysely } from 'kysely';

type Columns = Array<[string, ColumnDataType]>;

const TABLES: Record<string, { columns: Columns; indexes?: string[][] }> = {
  directory_users: {
    columns: [
      ['user_principal_name', 'text'],
      ['display_name', 'text'],
      ['mail', 'text'],
      ['user_type', 'text'],
      ['account_enabled', 'smallint'],
      ['created_at', 'bigint'],
      ['on_premises_sync_enabled', 'smallint'],
      ['external_user_state', 'text'],
      ['last_password_change_at', 'bigint'],
    ],
    indexes: [['user_principal_name']],
  },
  directory_groups: {
    columns: [
      ['display_name', 'text'],
      ['security_enabled', 'smallint'],
      ['mail_enabled', 'smallint'],
      ['group_types', 'text'],
      ['is_assignable_to_role', 'smallint'],
      ['membership_rule', 'text'],
      ['created_at', 'bigint'],
    ],
  },
  user_sign_in_activity: {
    columns: [
      ['user_principal_name', 'text'],
      ['last_sign_in_at', 'bigint'],
      ['last_non_interactive_sign_in_at', 'bigint'],
      ['last_successful_sign_in_at', 'bigint'],
    ],
  },
  mfa_registrations: {
    columns: [
      ['user_principal_name', 'text'],
      ['user_type', 'text'],
      ['is_admin', 'smallint'],
      ['is_mfa_capable', 'smallint'],
      ['is_mfa_registered', 'smallint'],
      ['is_passwordless_capable', 'smallint'],
      ['is_sspr_registered', 'smallint'],
      ['default_mfa_method', 'text'],
      ['methods_registered', 'text'],
      ['last_updated_at', 'bigint'],
    ],
  },
  risky_users: {
    columns: [
      ['user_principal_name', 'text'],
      ['risk_level', 'text'],
      ['risk_state', 'text'],
      ['risk_detail', 'text'],
      ['risk_last_updated_at', 'bigint'],
      ['is_deleted', 'smallint'],
    ],
  },
  risk_detections: {
    columns: [
      ['user_id', 'text'],
      ['user_principal_name', 'text'],
      ['risk_event_type', 'text'],
      ['risk_level', 'text'],
      ['risk_state', 'text'],
      ['risk_detail', 'text'],
      ['ip_address', 'text'],
      ['country', 'text'],
      ['city', 'text'],
      ['request_id', 'text'],
      ['detected_at', 'bigint'],
      ['activity_at', 'bigint'],
      ['last_updated_at', 'bigint'],
    ],
    indexes: [['detected_at'], ['user_id']],
  },
  ca_policies: {
    columns: [
      ['display_name', 'text'],
      ['state', 'text'],
      ['created_at', 'bigint'],
      ['modified_at', 'bigint'],
    ],
  },
  applications: {
    columns: [
      ['app_id', 'text'],
      ['display_name', 'text'],
      ['sign_in_audience', 'text'],
      ['created_at', 'bigint'],
    ],
  },
  service_principals: {
    columns: [
      ['app_id', 'text'],
      ['display_name', 'text'],
      ['service_principal_type', 'text'],
      ['account_enabled', 'smallint'],
      ['app_owner_organization_id', 'text'],
    ],
  },
  role_definitions: {
    columns: [
      ['display_name', 'text'],
      ['template_id', 'text'],
      ['is_built_in', 'smallint'],
      ['is_enabled', 'smallint'],
    ],
  },
  role_assignments: {
    columns: [
      ['role_definition_id', 'text'],
      ['principal_id', 'text'],
      ['directory_scope_id', 'text'],
    ],
    indexes: [['principal_id']],
  },
  managed_devices: {
    columns: [
      ['device_name', 'text'],
      ['user_id', 'text'],
      ['user_principal_name', 'text'],
      ['operating_system', 'text'],
      ['os_version', 'text'],
      ['compliance_state', 'text'],
      ['is_encrypted', 'smallint'],
      ['management_agent', 'text'],
      ['azure_ad_device_id', 'text'],
      ['enrolled_at', 'bigint'],
      ['last_sync_at', 'bigint'],
    ],
  },
  licences: {
    columns: [
      ['sku_id', 'text'],
      ['sku_part_number', 'text'],
      ['capability_status', 'text'],
      ['applies_to', 'text'],
      ['enabled_units', 'bigint'],
      ['consumed_units', 'bigint'],
    ],
  },
  directory_audits: {
    columns: [
      ['activity_at', 'bigint'],
      ['category', 'text'],
      ['activity_display_name', 'text'],
      ['operation_type', 'text'],
      ['result', 'text'],
      ['logged_by_service', 'text'],
      ['initiated_by_user_id', 'text'],
      ['initiated_by_upn', 'text'],
      ['initiated_by_app_id', 'text'],
      ['target_id', 'text'],
      ['target_display_name', 'text'],
      ['correlation_id', 'text'],
    ],
    indexes: [['activity_at']],
  },
};

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const [table, { columns, indexes }] of Object.entries(TABLES)) {
    let t = db.schema
      .createTable(table)
      .addColumn('integration_id', 'text', (c) => c.notNull())
      .addColumn('id', 'text', (c) => c.notNull());
    for (const [name, type] of columns) t = t.addColumn(name, type);
    await t
      .addColumn('generation', 'bigint', (c) => c.notNull())
      .addColumn('deleted_at', 'bigint')
      .addColumn('removed_reason', 'text')
      .addColumn('collected_at', 'bigint', (c) => c.notNull())
      .addColumn('raw', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint(`${table}_pk`, ['integration_id', 'id'])
      .execute();
    for (const cols of indexes ?? [])
      await db.schema
        .createIndex(`${table}_by_${cols.join('_')}`)
        .on(table)
        .columns(['integration_id', ...cols])
        .execute();
  }

  await db.schema
    .createTable('group_members')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('group_id', 'text', (c) => c.notNull())
    .addColumn('member_id', 'text', (c) => c.notNull())
    /** user, group (nested), device, servicePrincipal, orgContact */
    .addColumn('member_type', 'text', (c) => c.notNull())
    .addColumn('generation', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('group_members_pk', ['integration_id', 'group_id', 'member_id'])
    .execute();
  await db.schema
    .createIndex('group_members_by_member')
    .on('group_members')
    .columns(['integration_id', 'member_id'])
    .execute();

  await db.schema
    .createTable('app_credentials')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    /** The application or service principal object id, and which of the two it is. */
    .addColumn('owner_id', 'text', (c) => c.notNull())
    .addColumn('owner_kind', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('app_id', 'text')
    .addColumn('owner_display_name', 'text')
    /** password (client secret) or certificate */
    .addColumn('credential_type', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text')
    .addColumn('hint', 'text')
    .addColumn('start_at', 'bigint')
    .addColumn('end_at', 'bigint')
    .addPrimaryKeyConstraint('app_credentials_pk', ['integration_id', 'owner_id', 'key_id'])
    .execute();
  await db.schema
    .createIndex('app_credentials_by_end')
    .on('app_credentials')
    .columns(['integration_id', 'end_at'])
    .execute();
}
