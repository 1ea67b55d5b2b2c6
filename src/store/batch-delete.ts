// Deleting a large set of rows a batch at a time, each batch its own statement, so SQLite's write
// lock is never held for long (by SQLite's rowid, PostgreSQL's ctid: any table has one).
import { sql, type RawBuilder } from 'kysely';
import type { Db } from './db.js';

/** A statement deleting up to `rows` rows of `table` whose `column` equals `value`. */
export function deleteBatch(
  db: Db,
  table: string,
  column: string,
  value: string | number,
  rows: number,
): RawBuilder<unknown> {
  const t = sql.table(table);
  const c = sql.ref(column);
  return db.dialect === 'sqlite'
    ? sql`delete from ${t} where rowid in (select rowid from ${t} where ${c} = ${value} limit ${rows})`
    : sql`delete from ${t} where ctid = any(array(select ctid from ${t} where ${c} = ${value} limit ${rows}))`;
}
