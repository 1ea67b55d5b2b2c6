// Collection state, slices and runs (see migrations/0003_collection.ts).
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../errors.js';
import type { Db } from './db.js';
import type { UpdateQueryBuilder, UpdateResult } from 'kysely';
import type { CollectionRunRow, Database } from './schema.js';
import { writeTransaction } from './tx.js';

/**
 * A chain of pages over [start, end] of an event stream, read newest first; it resumes at
 * `resumeAt` (the oldest time stored so far, or `end` before its first page).
 */
export interface Chain {
  start: number;
  end: number;
  resumeAt: number;
  done: boolean;
}

type SliceUpdate = UpdateQueryBuilder<Database, 'collection_slices', 'collection_slices', UpdateResult>;
const chainRow = (q: SliceUpdate, integrationId: string, dataType: string, start: number) =>
  q.where('integration_id', '=', integrationId).where('data_type', '=', dataType).where('slice_start', '=', start);

/** The counts a run keeps as it goes (collection_runs.stats). */
export type RunStats = {
  fetched?: number;
  inserted?: number;
  updated?: number;
  unchanged?: number;
  pages?: number;
  chains?: number;
  chainsDone?: number;
  /** Event logs: the time span the run reads, and how much of it is stored (ms). */
  spanMs?: number;
  coveredMs?: number;
  /** Event logs: how much of the span left Microsoft's retention before it could be read (ms). */
  expiredMs?: number;
  [more: string]: unknown;
};

export interface CollectionRun {
  id: string;
  integrationId: string;
  dataType: string;
  trigger: string;
  status: string;
  startedAt: Date;
  endedAt: Date | null;
  leaseUntil: Date;
  stats: RunStats;
  error: string | null;
  guidance: string | null;
}

const toRun = (r: CollectionRunRow): CollectionRun => ({
  id: r.id,
  integrationId: r.integration_id,
  dataType: r.data_type,
  trigger: r.trigger,
  status: r.status,
  startedAt: new Date(Number(r.started_at)),
  endedAt: r.ended_at === null ? null : new Date(Number(r.ended_at)),
  leaseUntil: new Date(Number(r.lease_until)),
  stats: JSON.parse(r.stats) as RunStats,
  error: r.error,
  guidance: r.guidance,
});

export function createCollectionRepo(db: Db) {
  const k = db.kysely;
  async function state(
    integrationId: string,
    dataType: string,
  ): Promise<{ cursor: number | null; sweptAt: number | null; deltaLink: string | null }> {
    const row = await k
      .selectFrom('collection_state')
      .select(['cursor', 'swept_at', 'delta_link'])
      .where('integration_id', '=', integrationId)
      .where('data_type', '=', dataType)
      .executeTakeFirst();
    return {
      cursor: row?.cursor == null ? null : Number(row.cursor),
      sweptAt: row?.swept_at == null ? null : Number(row.swept_at),
      deltaLink: row?.delta_link ?? null,
    };
  }
  return {
    state,
    cursor: async (integrationId: string, dataType: string): Promise<number | null> =>
      (await state(integrationId, dataType)).cursor,

    /** The chains of the plan in progress (done or not), oldest first. */
    planInProgress: async (integrationId: string, dataType: string): Promise<Chain[]> =>
      (
        await k
          .selectFrom('collection_slices')
          .select(['slice_start', 'slice_end', 'resume_at', 'done'])
          .where('integration_id', '=', integrationId)
          .where('data_type', '=', dataType)
          .orderBy('slice_start')
          .execute()
      ).map((r) => ({
        start: Number(r.slice_start),
        end: Number(r.slice_end),
        resumeAt: Number(r.resume_at ?? r.slice_end),
        done: Number(r.done) === 1,
      })),

    /** Records a plan of chains (replacing none: called only when no plan is in progress). */
    async planChains(
      integrationId: string,
      dataType: string,
      chains: Array<{ start: number; end: number }>,
      now: number,
    ): Promise<void> {
      if (chains.length === 0) return;
      await writeTransaction(db, async (trx) => {
        for (let i = 0; i < chains.length; i += 200) {
          await trx
            .insertInto('collection_slices')
            .values(
              chains.slice(i, i + 200).map((c) => ({
                integration_id: integrationId,
                data_type: dataType,
                slice_start: c.start,
                slice_end: c.end,
                resume_at: null,
                done: 0,
                updated_at: now,
              })),
            )
            .execute();
        }
      });
    },

    /** Everything of the chain from `resumeAt` to its end is stored. */
    async chainProgress(
      integrationId: string,
      dataType: string,
      start: number,
      resumeAt: number,
      now: number,
    ): Promise<void> {
      await chainRow(
        k.updateTable('collection_slices').set({ resume_at: resumeAt, updated_at: now }),
        integrationId,
        dataType,
        start,
      ).execute();
    },

    /**
     * Splits a chain at `at` (start < at < resumeAt), in one transaction: its older part becomes a
     * chain of its own, not yet read (keyed by the old start), and the part being read keeps its
     * progress under the key `at`.
     */
    async splitChain(
      integrationId: string,
      dataType: string,
      chain: { start: number; end: number; resumeAt: number },
      at: number,
      now: number,
    ): Promise<void> {
      await writeTransaction(db, async (trx) => {
        await chainRow(
          trx.updateTable('collection_slices').set({ slice_end: at, resume_at: at, updated_at: now }),
          integrationId,
          dataType,
          chain.start,
        ).execute();
        await trx
          .insertInto('collection_slices')
          .values({
            integration_id: integrationId,
            data_type: dataType,
            slice_start: at,
            slice_end: chain.end,
            resume_at: chain.resumeAt,
            done: 0,
            updated_at: now,
          })
          .execute();
      });
    },

    async chainDone(integrationId: string, dataType: string, start: number, now: number): Promise<void> {
      await chainRow(
        k.updateTable('collection_slices').set({ done: 1, updated_at: now }),
        integrationId,
        dataType,
        start,
      ).execute();
    },

    /**
     * The plan is complete: the cursor moves to its end and the slices go, in one transaction.
     * `sweptAt` records a plan that re-read the recent past (a backfill or a late sweep).
     */
    async completePlan(
      integrationId: string,
      dataType: string,
      cursor: number,
      now: number,
      sweptAt?: number,
    ): Promise<void> {
      await writeTransaction(db, async (trx) => {
        await trx
          .deleteFrom('collection_slices')
          .where('integration_id', '=', integrationId)
          .where('data_type', '=', dataType)
          .execute();
        await trx
          .insertInto('collection_state')
          .values({
            integration_id: integrationId,
            data_type: dataType,
            cursor,
            delta_link: null,
            swept_at: sweptAt ?? null,
            updated_at: now,
          })
          .onConflict((oc) =>
            oc
              .columns(['integration_id', 'data_type'])
              .doUpdateSet({ cursor, updated_at: now, ...(sweptAt !== undefined ? { swept_at: sweptAt } : {}) }),
          )
          .execute();
      });
    },

    /**
     * A directory delta round completed: the link for the next round (null: the next round is a
     * full one), and the cursor at the round's start.
     */
    async saveDeltaLink(
      integrationId: string,
      dataType: string,
      deltaLink: string | null,
      cursor: number,
      now: number,
    ): Promise<void> {
      await k
        .insertInto('collection_state')
        .values({
          integration_id: integrationId,
          data_type: dataType,
          cursor,
          delta_link: deltaLink,
          swept_at: null,
          updated_at: now,
        })
        .onConflict((oc) =>
          oc.columns(['integration_id', 'data_type']).doUpdateSet({ cursor, delta_link: deltaLink, updated_at: now }),
        )
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
     * Forgets an integration being removed: its cursors, plans and run history, in one
     * transaction. Refused (false, nothing deleted) while one of its runs still holds its lease:
     * that run may store more, to be purged once it ends.
     */
    async forget(integrationId: string, now: number): Promise<boolean> {
      return writeTransaction(db, async (trx) => {
        const live = await trx
          .selectFrom('collection_runs')
          .select('id')
          .where('integration_id', '=', integrationId)
          .where('status', '=', 'running')
          .where('lease_until', '>', now)
          .executeTakeFirst();
        if (live) return false;
        await trx.deleteFrom('collection_slices').where('integration_id', '=', integrationId).execute();
        await trx.deleteFrom('collection_state').where('integration_id', '=', integrationId).execute();
        await trx.deleteFrom('collection_runs').where('integration_id', '=', integrationId).execute();
        return true;
      });
    },

    /**
     * Starts a run if no live run holds the (integration, data type) lease. A run whose lease
     * ran out (its process died) is marked abandoned and no longer blocks; an ended run (even
     * an interrupted one) holds no lease.
     */
    async startRun(r: {
      integrationId: string;
      dataType: string;
      trigger: string;
      now: number;
      leaseMs: number;
    }): Promise<string> {
      const id = randomUUID();
      await writeTransaction(db, async (trx) => {
        const live = await trx
          .selectFrom('collection_runs')
          .select(['id', 'lease_until'])
          .where('integration_id', '=', r.integrationId)
          .where('data_type', '=', r.dataType)
          .where('status', '=', 'running')
          .execute();
        if (live.some((run) => Number(run.lease_until) > r.now))
          throw new ConflictError(`a ${r.dataType} collection is already running for this integration`);
        for (const stale of live) {
          await trx
            .updateTable('collection_runs')
            .set({ status: 'abandoned', ended_at: r.now, error: ABANDONED_ERROR })
            .where('id', '=', stale.id)
            .execute();
        }
        await trx
          .insertInto('collection_runs')
          .values({
            id,
            integration_id: r.integrationId,
            data_type: r.dataType,
            trigger: r.trigger,
            status: 'running',
            started_at: r.now,
            ended_at: null,
            lease_until: r.now + r.leaseMs,
            stats: '{}',
            error: null,
            guidance: null,
          })
          .execute();
      });
      return id;
    },

    async renewLease(runId: string, until: number, stats: Record<string, unknown>): Promise<void> {
      await k
        .updateTable('collection_runs')
        .set({ lease_until: until, stats: JSON.stringify(stats) })
        .where('id', '=', runId)
        .where('status', '=', 'running')
        .execute();
    },

    /** Records a run's end and releases its lease (the next run may start at once). */
    async finishRun(
      runId: string,
      f: {
        status: 'succeeded' | 'failed' | 'skipped' | 'interrupted';
        now: number;
        stats: Record<string, unknown>;
        error?: string | null;
        guidance?: string | null;
      },
    ): Promise<void> {
      await k
        .updateTable('collection_runs')
        .set({
          status: f.status,
          ended_at: f.now,
          lease_until: f.now,
          stats: JSON.stringify(f.stats),
          error: f.error ?? null,
          guidance: f.guidance ?? null,
        })
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

    listRuns: async (integrationId: string, limit = 50): Promise<CollectionRun[]> =>
      (
        await k
          .selectFrom('collection_runs')
          .selectAll()
          .where('integration_id', '=', integrationId)
          .orderBy('started_at', 'desc')
          .orderBy('id')
          .limit(limit)
          .execute()
      ).map(toRun),
  };
}
export type CollectionRepo = ReturnType<typeof createCollectionRepo>;

/** The error of a run whose process stopped without recording its end. */
export const ABANDONED_ERROR = 'the collecting process stopped without finishing (its lease ran out)';
