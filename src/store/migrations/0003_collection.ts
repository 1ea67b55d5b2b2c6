// Collection state: per integration and data type, the cursor (everything before it is stored
// for certain) and the delta link; the time slices of a backfill or catch-up in progress (a
// slice is done only when its last page is stored, so an interrupted run resumes the rest);
// and the history of runs, whose lease keeps two collectors off the same data.
import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('collection_state')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('data_type', 'text', (c) => c.notNull())
    .addColumn('cursor', 'bigint')
    .addColumn('delta_link', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('collection_state_pk', ['integration_id', 'data_type'])
    .execute();

  await db.schema
    .createTable('collection_slices')
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('data_type', 'text', (c) => c.notNull())
    .addColumn('slice_start', 'bigint', (c) => c.notNull())
    .addColumn('slice_end', 'bigint', (c) => c.notNull())
    .addColumn('done', 'smallint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('collection_slices_pk', ['integration_id', 'data_type', 'slice_start'])
    .execute();

  await db.schema
    .createTable('collection_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('integration_id', 'text', (c) => c.notNull())
    .addColumn('data_type', 'text', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('lease_until', 'bigint', (c) => c.notNull())
    .addColumn('stats', 'text', (c) => c.notNull())
    .addColumn('error', 'text')
    .addColumn('guidance', 'text')
    .execute();
  await db.schema
    .createIndex('collection_runs_by_integration')
    .on('collection_runs')
    .columns(['integration_id', 'started_at'])
    .execute();
  await db.schema
    .createIndex('collection_runs_running')
    .on('collection_runs')
    .columns(['integration_id', 'data_type', 'status'])
    .execute();
}
