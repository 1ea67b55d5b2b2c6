// Collection state, slices and runs (see migrations/0003_collection.ts).
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors.js';
import type { Db } from './db.js';
import type { CollectionRunRow } from './schema.js';
import { writeTransaction } from './tx.js';

export interface Slice {
  start: number;
  end: number;
  done: boolean;
}

export function createCollectionRepo(db: Db) {
  const k = db.kysely;
  async function state(integrationId: string, dataType: string): Promise<{ cursor: number | null; sweptAt: number | null; deltaLink: string | null }> {
    const row = await k.selectFrom('collection_state').select(['cursor', 'swept_at', 'delta_link']).where('integration_id', '=', integrationId).where('data_type', '=', dataType).executeTakeFirst();
    return { cursor: row?.cursor == null ? null : Number(row.cursor), sweptAt: row?.swept_at == null ? null : Number(row.swept_at), deltaLink: row?.delta_link ?? null };
  }
  return {
    state,
    cursor: async (integrationId: string, dataType: string): Promise<number | null> => (await state(integrationId, dataType)).cursor,

    /** The slices still to fetch of the plan in progress, oldest first. */
    pendingSlices: async (integrationId: string, dataType: string): Promise<Slice[]> =>
      (
        await k
          .selectFrom('collection_slices')
          .select(['slice_start', 'slice_end', 'done'])
          .where('integration_id', '=', integrationId)
          .where('data_type', '=', dataType)
          .orderBy('slice_start')
          .execute()
      ).map((r) => ({ start: Number(r.slice_start), end: Number(r.slice_end), done: Number(r.done) === 1 })),

    /** Records a plan of slices (replacing none: called only when no plan is in progress). */
    async planSlices(integrationId: string, dataType: string, slices: Array<{ start: number; end: number }>, now: number): Promise<void> {
      if (slices.length === 0) return;
      await writeTransaction(db, async (trx) => {
        for (let i = 0; i < slices.length; i += 200) {
          await trx
            .insertInto('collection_slices')
            .values(slices.slice(i, i + 200).map((s) => ({ integration_id: integrationId, data_type: dataType, slice_start: s.start, slice_end: s.end, done: 0, updated_at: now })))
            .execute();
        }
      });
    },

    async sliceDone(integrationId: string, dataType: string, start: number, now: number): Promise<void> {
      await k
        .updateTable('collection_slices')
        .set({ done: 1, updated_at: now })
        .where('integration_id', '=', integrationId)
        .where('data_type', '=', dataType)
        .where('slice_start', '=', start)
        .execute();
    },

    /**
     * The plan is complete: the cursor moves to its end and the slices go, in one transaction.
     * `sweptAt` records a plan that re-read the recent past (a backfill or a late sweep).
     */
    async completePlan(integrationId: string, dataType: string, cursor: number, now: number, sweptAt?: number): Promise<void> {
      await writeTransaction(db, async (trx) => {
        await trx.deleteFrom('collection_slices').where('integration_id', '=', integrationId).where('data_type', '=', dataType).execute();
        await trx
          .insertInto('collection_state')
          .values({ integration_id: integrationId, data_type: dataType, cursor, delta_link: null, swept_at: sweptAt ?? null, updated_at: now })
          .onConflict((oc) => oc.columns(['integration_id', 'data_type']).doUpdateSet({ cursor, updated_at: now, ...(sweptAt !== undefined ? { swept_at: sweptAt } : {}) }))
          .execute();
      });
    },

    /**
     * A directory delta round completed: the link for the next round (null: the next round is a
     * full one), and the cursor at the round's start.
     */
    async saveDeltaLink(integrationId: string, dataType: string, deltaLink: string | null, cursor: number, now: number): Promise<void> {
      await k
        .insertInto('collection_state')
        .values({ integration_id: integrationId, data_type: dataType, cursor, delta_link: deltaLink, swept_at: null, updated_at: now })
        .onConflict((oc) => oc.columns(['integration_id', 'data_type']).doUpdateSet({ cursor, delta_link: deltaLink, updated_at: now }))
        .execute();
    },

    /** Forgets every cursor, plan and delta link of an integration (its data was purged). */
    async reset(integrationId: string): Promise<void> {
      await writeTransaction(db, async (trx) => {
        await trx.deleteFrom('collection_slices').where('integration_id', '=', integrationId).execute();
        await trx.deleteFrom('collection_state').where('integration_id', '=', integrationId).execute();
      });
    },

    /**
     * Starts a run if no live run holds the (integration, data type) lease. A run whose lease
     * ran out (its process died) is marked abandoned and no longer blocks; an ended run (even
     * an interrupted one) holds no lease.
     */
    async startRun(r: { integrationId: string; dataType: string; trigger: string; now: number; leaseMs: number }): Promise<string> {
      const id = randomUUID();
      await writeTransaction(db, async (trx) => {
        const live = await trx
          .selectFrom('collection_runs')
          .select(['id', 'lease_until'])
          .where('integration_id', '=', r.integrationId)
          .where('data_type', '=', r.dataType)
          .where('status', '=', 'running')
          .execute();
        if (live.some((run) => Number(run.lease_until) > r.now)) throw new ConflictError(`a ${r.dataType} collection is already running for this integration`);
        for (const stale of live) {
          await trx
            .updateTable('collection_runs')
            .set({ status: 'abandoned', ended_at: r.now, error: ABANDONED_ERROR })
            .where('id', '=', stale.id)
            .execute();
        }
        await trx
          .insertInto('collection_runs')
          .values({ id, integration_id: r.integrationId, data_type: r.dataType, trigger: r.trigger, status: 'running', started_at: r.now, ended_at: null, lease_until: r.now + r.leaseMs, stats: '{}', error: null, guidance: null })
          .execute();
      });
      return id;
    },

    async renewLease(runId: string, until: number, stats: Record<string, unknown>): Promise<void> {
      await k.updateTable('collection_runs').set({ lease_until: until, stats: JSON.stringify(stats) }).where('id', '=', runId).where('status', '=', 'running').execute();
    },

    /** Records a run's end and releases its lease (the next run may start at once). */
    async finishRun(runId: string, f: { status: 'succeeded' | 'failed' | 'skipped' | 'interrupted'; now: number; stats: Record<string, unknown>; error?: string | null; guidance?: string | null }): Promise<void> {
      await k
        .updateTable('collection_runs')
        .set({ status: f.status, ended_at: f.now, lease_until: f.now, stats: JSON.stringify(f.stats), error: f.error ?? null, guidance: f.guidance ?? null })
        .where('id', '=', runId)
        .execute();
    },

    /** When the latest run of a data type started (null: never), for the scheduler. */
    async lastRunStart(integrationId: string, dataType: string): Promise<number | null> {
      const row = await k
        .selectFrom('collection_runs')
        .select((eb) => eb.fn.max('started_at').as('at'))
        .where('integration_id', '=', integrationId)
        .where('data_type', '=', dataType)
        .executeTakeFirst();
      return row?.at === null || row?.at === undefined ? null : Number(row.at);
    },

    listRuns: (integrationId: string, limit = 50): Promise<CollectionRunRow[]> =>
      k.selectFrom('collection_runs').selectAll().where('integration_id', '=', integrationId).orderBy('started_at', 'desc').orderBy('id').limit(limit).execute(),
  };
}
export type CollectionRepo = ReturnType<typeof createCollectionRepo>;

/** The error of a run whose process stopped without recording its end. */
export const ABANDONED_ERROR = 'the collecting process stopped without finishing (its lease ran out)';
