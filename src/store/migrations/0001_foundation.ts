// Foundation tables: dashboard users, sessions, API tokens, audit log, integrations, the vault's
// key register and the sign-in store. Column types are chosen so that one definition means the
// same in SQLite (type affinity) and PostgreSQL.
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../db.js';

export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('dashboard_users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin', 'helpdesk', 'analyst')`))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_login_at', 'bigint')
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('dashboard_users.id').onDelete('cascade'))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('dashboard_users.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addColumn('expires_at', 'bigint')
    .execute();
  await db.schema.createIndex('api_tokens_user').on('api_tokens').column('user_id').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
      dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
    )
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_label', 'text')
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target', 'text')
    .addColumn('ip', 'text')
    .addColumn('outcome', 'text', (c) => c.notNull().check(sql`outcome in ('success', 'failure', 'denied')`))
    .addColumn('status', 'integer')
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').column('at').execute();
  await db.schema.createIndex('audit_log_actor').on('audit_log').columns(['actor_id', 'at']).execute();

  // Append-only, enforced by the database itself, not just by the absence of code that edits it.
  if (dialect === 'postgres') {
    await sql`create function idsight_audit_log_append_only() returns trigger language plpgsql as $$
      begin raise exception 'audit_log is append-only'; end $$`.execute(db);
    await sql`create trigger audit_log_append_only before update or delete on audit_log
      for each row execute function idsight_audit_log_append_only()`.execute(db);
    await sql`create trigger audit_log_no_truncate before truncate on audit_log
      for each statement execute function idsight_audit_log_append_only()`.execute(db);
  } else {
    await sql`create trigger audit_log_no_update before update on audit_log
      begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
    await sql`create trigger audit_log_no_delete before delete on audit_log
      begin select raise(abort, 'audit_log is append-only'); end`.execute(db);
  }

  await db.schema
    .createTable('integrations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('tenant_id', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('cloud', 'text', (c) => c.notNull())
    .addColumn('secret_envelope', 'text', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('integrations_tenant_app', ['tenant_id', 'client_id'])
    .execute();

  await db.schema
    .createTable('vault_keys')
    .addColumn('key_id', 'text', (c) => c.primaryKey())
    .addColumn('check_envelope', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // The sign-in store. No foreign key to integrations: removing an integration keeps its data
  // until the administrator asks for it to be purged.
  //
  // Keys start with the hour of createdDateTime. A sign-in's id and createdDateTime never
  // change between versions (a re-published record is the same sign-in with more detail), so
  // (integration, hour, id) identifies a record exactly as (integration, id) would. But ids and
  // user ids are random: keyed by them alone, every 1,000-record batch rewrites pages all over
  // each index (3x slower on SQLite at 200k rows, worse as the store grows); keyed by hour
  // first, a batch writes only into the hours it covers. Queries by user, address or app name
  // the hours they want (see store/signins.ts hoursBetween).
  await db.schema
    .createTable('signins')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('sign_in_id', 'text', (c) => c.notNull())
    .addColumn('hour', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text')
    .addColumn('user_principal_name', 'text')
    .addColumn('user_display_name', 'text')
    .addColumn('app_id', 'text')
    .addColumn('app_display_name', 'text')
    .addColumn('resource_id', 'text')
    .addColumn('ip_address', 'text')
    .addColumn('country', 'text')
    .addColumn('city', 'text')
    .addColumn('latitude', 'double precision')
    .addColumn('longitude', 'double precision')
    .addColumn('error_code', 'integer')
    .addColumn('client_app_used', 'text')
    .addColumn('is_interactive', 'smallint')
    .addColumn('conditional_access_status', 'text')
    .addColumn('risk_level_aggregated', 'text')
    .addColumn('risk_level_during_sign_in', 'text')
    .addColumn('risk_state', 'text')
    .addColumn('risk_detail', 'text')
    .addColumn('device_id', 'text')
    .addColumn('correlation_id', 'text')
    .addColumn('collected_at', 'bigint', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('signins_pk', ['integration_id', 'hour', 'sign_in_id'])
    .execute();
  if (dialect === 'postgres') {
    // Records over ~2 KB are compressed by PostgreSQL; lz4 does it several times faster than the
    // default pglz (a seventh of the server's insert time went to pglz). PostgreSQL 14+ built
    // with lz4, as Debian's is; elsewhere the default stays.
    const lz4 = await sql<{
      ok: boolean;
    }>`select exists (select 1 from pg_settings where name = 'default_toast_compression' and 'lz4' = any(enumvals)) as ok`.execute(
      db,
    );
    if (lz4.rows[0]?.ok) await sql`alter table signins alter column raw set compression lz4`.execute(db);
  }

  // Indexes for the access paths of checks, insights and investigations. Each one costs insert
  // speed, so only these: the time window, a user's, an address's and an app's history, and
  // failures (a partial index: failures are the minority spray and brute-force checks scan).
  const indexes: Array<[string, string[]]> = [
    ['signins_time', ['integration_id', 'created_at']],
    ['signins_user', ['integration_id', 'hour', 'user_id']],
    ['signins_ip', ['integration_id', 'hour', 'ip_address']],
    ['signins_app', ['integration_id', 'hour', 'app_id']],
  ];
  for (const [name, columns] of indexes) {
    await db.schema.createIndex(name).on('signins').columns(columns).execute();
  }
  await db.schema
    .createIndex('signins_failures')
    .on('signins')
    .columns(['integration_id', 'created_at'])
    .where(sql.ref('error_code'), '<>', 0)
    .execute();
}
