// How idsight opens its SQLite file: one place for the settings, shared by the Kysely connection
// (db.ts) and the sign-in writer's thread (signin-writer-thread.ts), which must not load Kysely.
import SQLite from 'better-sqlite3';

export function openSqlite(file: string): SQLite.Database {
  const sqlite = new SQLite(file);
  // 16 KiB pages hold about five 2–3 KB sign-ins each, where 4 KiB pages waste a third of every
  // page. Only takes effect on a new database file.
  sqlite.pragma('page_size = 16384');
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 10000');
  sqlite.pragma('foreign_keys = ON');
  // 16 MiB of page cache keeps the indexes' hot pages (sign-ins arrive in time order, so writes are local);
  // more bought no speed in the ingest benchmarks and cost the collector its memory target.
  sqlite.pragma('cache_size = -16384');
  return sqlite;
}
