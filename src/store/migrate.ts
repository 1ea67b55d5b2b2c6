// Migrations live in code and run at start-up and from `idsight db migrate`. Kysely's migrator
// records what ran and, on PostgreSQL, holds a row lock while migrating; on SQLite a second
// process meets a busy database instead, so both dialects retry until the other is done.
import { Migrator, type Kysely, type Migration, type MigrationResult } from 'kysely';
import type { Db, Dialect } from './db.js';
import * as m0001 from './migrations/0001_foundation.js';

type DialectMigration = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001_foundation': m0001,
};

export interface MigrateOutcome {
  applied: string[];
  total: number;
}

export async function migrate(db: Db, attempts = 20): Promise<MigrateOutcome> {
  const migrations: Record<string, Migration> = Object.fromEntries(
    Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: (k: Kysely<unknown>) => m.up(k, db.dialect) }]),
  );
  const migrator = new Migrator({
    db: db.kysely,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'idsight_migrations',
    migrationLockTableName: 'idsight_migrations_lock',
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) {
      return { applied: (results ?? []).filter((r: MigrationResult) => r.status === 'Success').map((r) => r.migrationName), total: Object.keys(MIGRATIONS).length };
    }
    if (attempt >= attempts || !isConcurrentMigration(error)) {
      const failed = results?.find((r) => r.status === 'Error');
      throw new Error(`database migration ${failed ? `${failed.migrationName} ` : ''}failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
  }
}

/** Errors a concurrent migrator causes, after which a retry finds the work done. */
function isConcurrentMigration(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  // SQLITE_BUSY*: another process holds the write lock. 23505/42P07/42710: another PostgreSQL
  // session created the migrator's own tables at the same moment.
  return (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) || code === '23505' || code === '42P07' || code === '42710';
}
