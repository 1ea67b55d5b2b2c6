// Fresh databases for tests: a temporary SQLite file, and a new PostgreSQL database on the
// server named by IDSIGHT_TEST_PG_URL (skipped, visibly, when unset; a failure when
// IDSIGHT_TEST_PG_REQUIRED=1).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDb, type Db, type Dialect } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';

export interface TestDatabase {
  dialect: Dialect;
  /** Settings that point idsight at this database. */
  databaseUrl: string | undefined;
  dataDir: string;
  sqlitePath: string;
  open(): Db;
  drop(): Promise<void>;
}

const pgUrl = (): string | undefined => process.env.IDSIGHT_TEST_PG_URL || undefined;

export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

/** Why a dialect's tests cannot run here, or undefined when they can. */
export function skipReason(dialect: Dialect): string | undefined {
  if (dialect === 'postgres' && !pgUrl()) {
    if (process.env.IDSIGHT_TEST_PG_REQUIRED === '1')
      throw new Error('IDSIGHT_TEST_PG_REQUIRED=1 but IDSIGHT_TEST_PG_URL is unset');
    return 'IDSIGHT_TEST_PG_URL is unset: PostgreSQL variant skipped';
  }
  return undefined;
}

export function tempDir(prefix = 'idsight-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const dataDir = tempDir();
  const sqlitePath = path.join(dataDir, 'idsight.db');
  if (dialect === 'sqlite') {
    return {
      dialect,
      databaseUrl: undefined,
      dataDir,
      sqlitePath,
      open: () => openDb({ sqlitePath }),
      drop: async () => rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const PG_URL = pgUrl();
  if (!PG_URL) throw new Error('IDSIGHT_TEST_PG_URL is unset');
  const name = `idsight_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  const databaseUrl = url.toString();
  return {
    dialect,
    databaseUrl,
    dataDir,
    sqlitePath,
    open: () => openDb({ databaseUrl, sqlitePath }),
    async drop() {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh, migrated database and a way to close and drop it. */
export async function openMigrated(
  dialect: Dialect,
): Promise<{ database: TestDatabase; db: Db; dispose(): Promise<void> }> {
  const database = await createTestDatabase(dialect);
  const db = database.open();
  await migrate(db);
  return {
    database,
    db,
    async dispose() {
      await db.close();
      await database.drop();
    },
  };
}
