// Migrations live in code and run at start-up and from `idsight db migrate`, safely from several
// processes at once. On PostgreSQL, Kysely's migrator runs them in a transaction holding a row
// lock. On SQLite it uses neither, so we run it inside one BEGIN IMMEDIATE transaction: a second
// process waits for the first (busy timeout) and then finds nothing to do, and a crash halfway
// leaves no half-built schema (SQLite's DDL is transactional).
import { Migrator, sql, type Kysely, type Migration, type MigrationResult } from 'kysely';
import type { Db, Dialect } from './db.js';
import * as m0001 from './migrations/0001_foundation.js';
import * as m0002 from './migrations/0002_integration_state.js';
import * as m0003 from './migrations/0003_collection.js';
import * as m0004 from './migrations/0004_collection_sweep.js';
import * as m0005 from './migrations/0005_datasets.js';
import * as m0006 from './migrations/0006_collection_chains.js';
import * as m0007 from './migrations/0007_compact_signins.js';
import * as m0008 from './migrations/0008_compact_audits.js';
import * as m0009 from './migrations/0009_stored_counts.js';
import * as m0010 from './migrations/0010_token_limits.js';
import { convertLegacySignIns, type ConversionProgress } from './signins-conversion.js';

type DialectMigration = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

const MIGRATIONS: Record<string, DialectMigration> = {
  '0001_foundation': m0001,
  '0002_integration_state': m0002,
  '0003_collection': m0003,
  '0004_collection_sweep': m0004,
  '0005_datasets': m0005,
  '0006_collection_chains': m0006,
  '0007_compact_signins': m0007,
  '0008_compact_audits': m0008,
  '0009_stored_counts': m0009,
  '0010_token_limits': m0010,
};

export interface MigrateOutcome {
  applied: string[];
  total: number;
  /** Sign-ins stored before the store was compact, converted now (signins-conversion.ts). */
  converted: number;
}

/**
 * Applies the pending migrations, then converts data a migration left to convert in batches
 * (reporting its progress): such work is too long for one transaction, and resumes if stopped.
 */
export async function migrate(
  db: Db,
  opts: { onConversion?: (p: ConversionProgress) => void } = {},
): Promise<MigrateOutcome> {
  const attempts = 20;
  for (let attempt = 1; ; attempt++) {
    try {
      const results = db.dialect === 'sqlite' ? await migrateSqlite(db) : await runMigrator(db.kysely, db.dialect);
      const applied = results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
      return {
        applied,
        total: Object.keys(MIGRATIONS).length,
        converted: await convertLegacySignIns(db, opts.onConversion),
      };
    } catch (err) {
      if (attempt >= attempts || !isConcurrentMigration(err)) throw err;
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
    }
  }
}

async function migrateSqlite(db: Db): Promise<MigrationResult[]> {
  return db.kysely.connection().execute(async (conn) => {
    await sql`begin immediate`.execute(conn);
    try {
      const results = await runMigrator(conn, db.dialect);
      await sql`commit`.execute(conn);
      return results;
    } catch (err) {
      await sql`rollback`.execute(conn);
      throw err;
    }
  });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the migrator works on any schema
async function runMigrator(kysely: Kysely<any>, dialect: Dialect): Promise<MigrationResult[]> {
  const migrations: Record<string, Migration> = Object.fromEntries(
    Object.entries(MIGRATIONS).map(([name, m]) => [name, { up: (k: Kysely<unknown>) => m.up(k, dialect) }]),
  );
  const migrator = new Migrator({
    db: kysely,
    provider: { getMigrations: () => Promise.resolve(migrations) },
    migrationTableName: 'idsight_migrations',
    migrationLockTableName: 'idsight_migrations_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const message = error instanceof Error ? error.message : String(error);
    throw Object.assign(
      new Error(`database migration ${failed ? `${failed.migrationName} ` : ''}failed: ${message}`, { cause: error }),
      {
        code: (error as { code?: unknown }).code,
      },
    );
  }
  return results ?? [];
}

/** Errors a concurrent migrator causes, after which a retry finds the work done. */
function isConcurrentMigration(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  // SQLITE_BUSY*: the other process held the lock past the busy timeout. 23505/42P07/42710:
  // another PostgreSQL session created the migrator's own tables at the same moment.
  return (
    (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) ||
    code === '23505' ||
    code === '42P07' ||
    code === '42710'
  );
}
