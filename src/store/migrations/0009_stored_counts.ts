// What an integration has stored, per sign-in event type and per data set, kept as it changes so
// that showing it never counts millions of rows (DESIGN §5):
//   signin_counts   sign-ins per integration and event type (interactiveUser, nonInteractiveUser,
//                   servicePrincipal, managedIdentity…), kept by the sign-in writers; it replaces
//                   signin_integrations.signins, the one total of every stream
//   dataset_counts  records present per integration and data set (users, groups, groupMembers…),
//                   counted again at the end of each collection run that fills it
// Both are filled here from what is stored.
import { sql, type Kysely } from 'kysely';

/** The data set tables as of this migration, and the name each is shown by (a migration never changes with the code). */
const DATA_SETS: Array<[name: string, table: string, presentOnly: boolean]> = [
  ['users', 'directory_users', true],
  ['groups', 'directory_groups', true],
  ['signInActivity', 'user_sign_in_activity', true],
  ['mfaRegistration', 'mfa_registrations', true],
  ['riskyUsers', 'risky_users', true],
  ['riskDetections', 'risk_detections', true],
  ['conditionalAccess', 'ca_policies', true],
  ['applications', 'applications', true],
  ['servicePrincipals', 'service_principals', true],
  ['roleDefinitions', 'role_definitions', true],
  ['roleAssignments', 'role_assignments', true],
  ['managedDevices', 'managed_devices', true],
  ['licences', 'licences', true],
  ['directoryAudits', 'directory_audits', true],
  ['groupMembers', 'group_members', false],
  ['appCredentials', 'app_credentials', false],
];

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signin_counts')
    .addColumn('integration_no', 'integer', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('signins', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('signin_counts_pk', ['integration_no', 'event_type'])
    .execute();
  await db.schema.alterTable('signin_integrations').dropColumn('signins').execute();

  await db.schema
    .createTable('dataset_counts')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('data_set', 'text', (c) => c.notNull())
    .addColumn('records', 'bigint', (c) => c.notNull())
    .addColumn('counted_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('dataset_counts_pk', ['integration_id', 'data_set'])
    .execute();
  await countStored(db, Date.now());
}

/** Counts what is stored into both tables (they must be empty). */
export async function countStored(db: Kysely<unknown>, now: number): Promise<void> {
  await sql`
    insert into signin_counts (integration_no, event_type, signins)
    select s.integration_no, t.value, count(*) from signins s join signin_strings t on t.id = s.event_type
    group by s.integration_no, t.value`.execute(db);
  for (const [name, table, presentOnly] of DATA_SETS) {
    await sql`
      insert into dataset_counts (integration_id, data_set, records, counted_at)
      select integration_id, ${name}, count(*), ${now} from ${sql.table(table)}
      ${presentOnly ? sql`where deleted_at is null` : sql``}
      group by integration_id`.execute(db);
  }
}
