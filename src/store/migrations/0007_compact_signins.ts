// Sign-ins stored compactly (DESIGN §5; about 3.8 KB per sign-in before, under 800 bytes after):
//   signin_blocks        the Graph records, byte for byte, compressed in blocks (record-blocks.ts)
//   signins              one narrow row per sign-in: key, typed columns, where its record is
//   signin_strings       each integration's repeated texts (users, apps, addresses, user agents…)
//                        once, numbered; the rows hold the numbers
//   signin_integrations  a small number per integration for the rows and indexes, and how many
//                        sign-ins it has (read without counting them)
// The old table is kept as signins_legacy: start-up converts its rows in batches and drops it
// (store/signins-conversion.ts), so a large store converts resumably with its progress shown.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const sqlite = dialect === 'sqlite';
  await sql`alter table signins rename to signins_legacy`.execute(db);
  for (const index of ['signins_time', 'signins_user', 'signins_ip', 'signins_app', 'signins_failures'])
    await db.schema.dropIndex(index).ifExists().execute();

  await db.schema
    .createTable('signin_integrations')
    .addColumn('no', 'integer', (c) =>
      sqlite ? c.primaryKey().autoIncrement() : c.primaryKey().generatedByDefaultAsIdentity(),
    )
    .addColumn('integration_id', 'text', (c) => c.notNull().unique())
    .addColumn('signins', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('signin_strings')
    .addColumn('id', 'integer', (c) => (sqlite ? c.primaryKey() : c.primaryKey().generatedByDefaultAsIdentity()))
    .addColumn('integration_no', 'integer', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('signin_strings_value')
    .unique()
    .on('signin_strings')
    .columns(['integration_no', 'value'])
    .execute();

  await db.schema
    .createTable('signin_blocks')
    .addColumn('id', sqlite ? 'integer' : 'bigint', (c) =>
      sqlite ? c.primaryKey() : c.primaryKey().generatedByDefaultAsIdentity(),
    )
    .addColumn('integration_no', 'integer', (c) => c.notNull())
    .addColumn('collected_at', 'bigint', (c) => c.notNull())
    /** Rows whose current version is in this block; a block nobody points at is deleted. */
    .addColumn('live', 'integer', (c) => c.notNull())
    .addColumn('data', sqlite ? 'blob' : 'bytea', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('signin_blocks_integration').on('signin_blocks').column('integration_no').execute();
  // already compressed: PostgreSQL must not try again (nor move it out of line twice)
  if (!sqlite) await sql`alter table signin_blocks alter column data set storage external`.execute(db);

  let signins = db.schema
    .createTable('signins')
    .addColumn('integration_no', 'integer', (c) => c.notNull())
    .addColumn('hour', 'integer', (c) => c.notNull())
    .addColumn('sign_in_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull());
  for (const column of TEXT_COLUMNS) signins = signins.addColumn(column, 'integer');
  await signins
    .addColumn('latitude', sqlite ? 'real' : 'double precision')
    .addColumn('longitude', sqlite ? 'real' : 'double precision')
    .addColumn('error_code', 'integer')
    .addColumn('is_interactive', 'smallint')
    .addColumn('correlation_id', 'text')
    .addColumn('block_id', 'bigint', (c) => c.notNull())
    .addColumn('block_pos', 'integer', (c) => c.notNull())
    .addColumn('digest', 'bigint', (c) => c.notNull())
    .execute();

  // A record's id and createdDateTime never change between versions, so (integration, hour, id)
  // identifies it exactly; keyed by hour first, a page writes into the hours it covers rather
  // than all over each index (ids and user ids are random). Then the access paths of checks,
  // insights and investigations: the time window, a user's, an address's and an app's history,
  // and failures (a partial index: failures are the minority spray and brute-force checks scan).
  await db.schema
    .createIndex('signins_key')
    .unique()
    .on('signins')
    .columns(['integration_no', 'hour', 'sign_in_id'])
    .execute();
  const indexes: Array<[string, string[]]> = [
    ['signins_time', ['integration_no', 'created_at']],
    ['signins_user', ['integration_no', 'hour', 'user_id']],
    ['signins_ip', ['integration_no', 'hour', 'ip_address']],
    ['signins_app', ['integration_no', 'hour', 'app_id']],
  ];
  for (const [name, columns] of indexes) await db.schema.createIndex(name).on('signins').columns(columns).execute();
  await db.schema
    .createIndex('signins_failures')
    .on('signins')
    .columns(['integration_no', 'created_at'])
    .where(sql.ref('error_code'), '<>', 0)
    .execute();
}

/** The dictionary columns, as of this migration (kept here: a migration never changes with the code). */
const TEXT_COLUMNS = [
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
];
