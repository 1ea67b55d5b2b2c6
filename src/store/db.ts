// The database behind one door: Kysely over better-sqlite3 (embedded default) or pg.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type SQLite from 'better-sqlite3';
import {
  Kysely,
  PostgresDialect,
  sql,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';
import { SignInWriter } from './signin-writer.js';
import { openSqlite } from './sqlite-connection.js';
import { assertPrivate, ensurePrivateDir, ensurePrivateFile } from '../private-files.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** PostgreSQL only: the pool under Kysely, for COPY (which Kysely does not speak). */
  pgPool?: pg.Pool;
  /** SQLite only: where sign-ins are stored, on a thread of their own (signin-writer.ts). */
  signInWriter?: SignInWriter;
  /** Where the data is, for people: the SQLite file or the PostgreSQL URL without its password. */
  location: string;
  close(): Promise<void>;
}

/** Whether the database answers (the health check). */
export async function pingDb(db: Db): Promise<void> {
  await sql`select 1`.execute(db.kysely);
}

export interface DbOptions {
  /** postgres:// URL; when absent, the SQLite file at sqlitePath. */
  databaseUrl?: string | undefined;
  sqlitePath: string;
}

// int8 (bigint) columns hold epoch milliseconds and counts, all far below 2^53: read them as
// numbers, not strings. Set per pool, not globally.
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === pg.types.builtins.INT8) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

export function openDb(options: DbOptions): Db {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: 10,
      types: pgTypes as pg.CustomTypesConfig,
    });
    // An idle client's connection error must not crash the process; the next query reports it.
    pool.on('error', () => undefined);
    const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return {
      kysely,
      dialect: 'postgres',
      pgPool: pool,
      location: redactUrl(options.databaseUrl),
      close: () => kysely.destroy(),
    };
  }
  // the sign-in writer's threads open the file too: an in-memory database would be a different one each
  if (options.sqlitePath === ':memory:' || options.sqlitePath === '')
    throw new Error('idsight needs an SQLite file, not an in-memory database');
  // SQLite gives the -wal and -shm files the database file's own mode: a private file made first
  // keeps all three private
  ensurePrivateDir(path.dirname(options.sqlitePath));
  ensurePrivateFile(options.sqlitePath);
  for (const suffix of ['', '-wal', '-shm']) assertPrivate(`${options.sqlitePath}${suffix}`, 'the database file');
  const sqlite = openSqlite(options.sqlitePath);
  sqlite.pragma('busy_timeout = 0'); // this thread waits for the write lock asynchronously (PatientSqliteDialect)
  const kysely = new Kysely<Database>({ dialect: new PatientSqliteDialect({ database: withStatementCache(sqlite) }) });
  const signInWriter = new SignInWriter(options.sqlitePath);
  return {
    kysely,
    dialect: 'sqlite',
    signInWriter,
    location: options.sqlitePath,
    async close() {
      await signInWriter.close();
      await kysely.destroy();
    },
  };
}

/**
 * Kysely prepares every statement anew; preparing a 500-row insert costs SQLite as much as
 * running it. Reusing prepared statements by their SQL text (an LRU of recent ones) removes that.
 * The LRU is bounded by count and by the SQL's total length: a prepared statement's memory grows
 * with its text, and two hundred 500-row statements held over 100 MB. Safe because Kysely runs
 * one statement at a time on the one SQLite connection.
 */
function withStatementCache(sqlite: SQLite.Database, capacity = 200, maxChars = 1_000_000): SqliteDatabase {
  const cache = new Map<string, SQLite.Statement>();
  let chars = 0;
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (stmt) {
        cache.delete(text); // re-insert: most recently used last
      } else {
        stmt = sqlite.prepare(text);
        chars += text.length;
        for (const oldest of cache.keys()) {
          if (cache.size < capacity && chars <= maxChars) break;
          cache.delete(oldest);
          chars -= oldest.length;
        }
      }
      cache.set(text, stmt);
      return stmt;
    },
  };
}

/** How long a statement waits for SQLite's write lock before SQLITE_BUSY is the caller's (as the busy timeout of the other connections). */
const BUSY_WAIT_MS = 10_000;

/**
 * Waits for SQLite's write lock without blocking the event loop. The sign-in writer's thread (and
 * another idsight process) holds the lock for a transaction at a time, tens of milliseconds for a
 * page; SQLite's busy handler would sleep this thread meanwhile, stalling every request and
 * collection on it (3 s of a 35 s ingest, measured). So this connection has no busy timeout: a
 * statement refused with SQLITE_BUSY, which changed nothing, is asked again after a pause.
 */
class PatientSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver();
    const acquire = driver.acquireConnection.bind(driver);
    driver.acquireConnection = async () => patient(await acquire());
    return driver;
  }
}

function patient(connection: DatabaseConnection): DatabaseConnection {
  return {
    executeQuery: (query) => whileBusy(() => connection.executeQuery(query)),
    streamQuery: (query, chunkSize) => connection.streamQuery(query, chunkSize),
  };
}

/** Runs `attempt` again, after a growing pause, while it fails with SQLITE_BUSY, for up to BUSY_WAIT_MS. */
export async function whileBusy<T>(attempt: () => Promise<T>): Promise<T> {
  for (let waited = 0, pause = 1; ; pause = Math.min(2 * pause, 16)) {
    try {
      return await attempt();
    } catch (err) {
      if ((err as { code?: unknown }).code !== 'SQLITE_BUSY' || waited >= BUSY_WAIT_MS) throw err;
      await sleep(pause);
      waited += pause;
    }
  }
}

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparseable URL)';
  }
}
