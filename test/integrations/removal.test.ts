// Removing an integration with its data survives a crash: the integration disappears at once,
// its data goes in batches, the row goes last, and a purge cut short (here by a failure injected
// into the database) is finished by the next start with nothing left behind in any table. Other
// integrations' data is never touched.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { manualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config.js';
import { openContext, type Context } from '../../src/context.js';
import { NotFoundError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { createCollectionRepo } from '../../src/store/collection.js';
import { createDatasetRepo, DATASETS } from '../../src/store/datasets.js';
import type { Db } from '../../src/store/db.js';
import { createIntegrationRepo } from '../../src/store/integrations.js';
import { createSignInRepo } from '../../src/store/signins.js';
import { integrationSecretAad } from '../../src/vault/service.js';
import { signIns, take } from '../fixtures/signin-factory.js';
import { createTestDatabase, DIALECTS, openMigrated, skipReason, type TestDatabase } from '../helpers/databases.js';

const T0 = Date.parse('2026-11-27T09:00:00Z');
const DAY = 86_400_000;

/** Starts the application on a database, as a process would (one start = one context). */
async function start(database: TestDatabase): Promise<{ ctx: Context; logs(): string }> {
  const config = loadConfig({
    IDSIGHT_DATA_DIR: database.dataDir,
    ...(database.databaseUrl ? { IDSIGHT_DATABASE_URL: database.databaseUrl } : {}),
    IDSIGHT_GRAPH_PACING: 'off',
  });
  let captured = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      captured += chunk.toString('utf8');
      done();
    },
  });
  const ctx = await openContext(config, {
    db: database.open(),
    clock: manualClock(T0),
    log: createLogger({ logLevel: 'info', logFormat: 'json' }, sink),
  });
  return { ctx, logs: () => captured };
}

/** An integration with data in every kind of table: sign-ins, data sets, members, app credentials, collection state and runs. */
async function seed(ctx: Context, seedNo: number): Promise<string> {
  const id = randomUUID();
  await createIntegrationRepo(ctx.db.kysely).insert({
    id,
    name: `Tenant ${seedNo}`,
    tenantId: randomUUID(),
    clientId: randomUUID(),
    cloud: 'global',
    secretEnvelope: ctx.vault.encrypt('not a real secret', integrationSecretAad(id)),
    settings: {},
    now: T0,
  });
  await createSignInRepo(ctx.db).upsert(id, take(signIns({ seed: seedNo }), 40), T0);
  const datasets = createDatasetRepo(ctx.db);
  const o = { generation: 1, collectedAt: T0 };
  await datasets.upsert(
    DATASETS.users,
    id,
    Array.from({ length: 30 }, (_, i) => ({ id: `u${i}`, userPrincipalName: `u${i}@example.com` })),
    o,
  );
  await datasets.upsert(DATASETS.groups, id, [{ id: 'g1', displayName: 'Group' }], o);
  await datasets.applyMembers(
    id,
    'g1',
    [
      { id: 'u1', type: 'user' },
      { id: 'u2', type: 'user' },
    ],
    [],
    1,
  );
  await datasets.upsert(
    DATASETS.applications,
    id,
    [
      {
        id: 'a1',
        appId: randomUUID(),
        displayName: 'App',
        passwordCredentials: [{ keyId: randomUUID(), endDateTime: '2027-01-01T00:00:00Z' }],
      },
    ],
    o,
  );
  const collection = createCollectionRepo(ctx.db);
  await collection.saveDeltaLink(id, 'users', 'https://graph.microsoft.com/v1.0/users/delta?$deltatoken=x', T0, T0);
  await sql`
    insert into collection_slices (integration_id, data_type, slice_start, slice_end, done, updated_at)
    values (${id}, 'signIns', ${T0 - DAY}, ${T0}, 0, ${T0})`.execute(ctx.db.kysely);
  const run = await collection.startRun({
    integrationId: id,
    dataType: 'users',
    trigger: 'manual',
    now: T0,
    leaseMs: 60_000,
  });
  await collection.finishRun(run, { status: 'succeeded', now: T0, stats: {} });
  return id;
}

/** Tables with a column of that name (whatever tables later versions add). */
async function tablesWith(db: Db, column: string): Promise<string[]> {
  const { rows } =
    db.dialect === 'sqlite'
      ? await sql<{
          name: string;
        }>`select m.name from sqlite_master m join pragma_table_info(m.name) c where m.type = 'table' and c.name = ${column}`.execute(
          db.kysely,
        )
      : await sql<{
          name: string;
        }>`select table_name as name from information_schema.columns where table_schema = current_schema() and column_name = ${column}`.execute(
          db.kysely,
        );
  return rows.map((r) => r.name);
}

/** The number the sign-in tables know an integration by (integration_no), while it has one. */
async function integrationNo(db: Db, id: string): Promise<number | undefined> {
  if (!(await tablesWith(db, 'integration_no')).length) return undefined;
  const { rows } = await sql<{
    no: number | string;
  }>`select no from signin_integrations where integration_id = ${id}`.execute(db.kysely);
  return rows[0] ? Number(rows[0].no) : undefined;
}

/**
 * Rows of the integration in every table keyed by its id or (sign-ins) by its number, and its
 * own row: `no` is the number it had before the purge.
 */
async function leftovers(db: Db, id: string, no?: number): Promise<Record<string, number>> {
  const tables = await tablesWith(db, 'integration_id');
  assert.ok(tables.length >= 20, `found the integration's tables (${tables.length})`);
  const out: Record<string, number> = {};
  const count = async (table: string, column: string, value: string | number) => {
    const { rows } = await sql<{
      n: number | string;
    }>`select count(*) as n from ${sql.table(table)} where ${sql.ref(column)} = ${value}`.execute(db.kysely);
    if (Number(rows[0]!.n) > 0) out[table] = Number(rows[0]!.n);
  };
  for (const table of tables) await count(table, 'integration_id', id);
  if (no !== undefined)
    for (const table of await tablesWith(db, 'integration_no')) await count(table, 'integration_no', no);
  const row = await db.kysely.selectFrom('integrations').select('status').where('id', '=', id).executeTakeFirst();
  if (row) out.integrations = 1;
  return out;
}

/** Makes every delete from app_credentials fail, as a crash between two purge steps would stop it. */
async function injectFailure(db: Db, on: boolean): Promise<void> {
  if (db.dialect === 'sqlite') {
    if (on)
      await sql`create trigger fail_purge before delete on app_credentials begin select raise(abort, 'injected failure'); end`.execute(
        db.kysely,
      );
    else await sql`drop trigger fail_purge`.execute(db.kysely);
  } else if (on) {
    await sql`create function fail_purge() returns trigger language plpgsql as $$ begin raise exception 'injected failure'; end $$`.execute(
      db.kysely,
    );
    await sql`create trigger fail_purge before delete on app_credentials for each statement execute function fail_purge()`.execute(
      db.kysely,
    );
  } else {
    await sql`drop trigger fail_purge on app_credentials`.execute(db.kysely);
    await sql`drop function fail_purge()`.execute(db.kysely);
  }
}

for (const dialect of DIALECTS) {
  describe(`removing an integration with its data (${dialect})`, { skip: skipReason(dialect) }, () => {
    test('a purge cut short is finished at the next start, with nothing left behind', async () => {
      const database = await createTestDatabase(dialect);
      try {
        const first = await start(database);
        const gone = await seed(first.ctx, 1);
        const kept = await seed(first.ctx, 2);
        const goneNo = await integrationNo(first.ctx.db, gone);
        const keptBefore = await leftovers(first.ctx.db, kept, await integrationNo(first.ctx.db, kept));

        await injectFailure(first.ctx.db, true);
        await assert.rejects(first.ctx.integrations.remove(gone, { purge: true }), /injected failure/);
        await injectFailure(first.ctx.db, false);
        // Half done: collection state and the data sets went (batch by batch), app credentials and sign-ins did not.
        const half = await leftovers(first.ctx.db, gone, goneNo);
        assert.equal(half.directory_users, undefined);
        assert.equal(half.collection_runs, undefined);
        assert.ok(half.app_credentials && half.integrations, JSON.stringify(half));
        assert.ok(
          Object.keys(half).some((t) => t.includes('signin')),
          JSON.stringify(half),
        );
        // ...and the integration is already invisible: lists, reads and collection skip it.
        assert.deepEqual(
          (await first.ctx.integrations.list()).map((i) => i.id),
          [kept],
        );
        await assert.rejects(first.ctx.integrations.get(gone), NotFoundError);
        await assert.rejects(first.ctx.collector.run(gone), NotFoundError);
        await assert.rejects(first.ctx.integrations.remove(gone, { purge: true }), NotFoundError);
        await first.ctx.close(); // the crash

        const second = await start(database);
        try {
          await second.ctx.integrations.finishRemovals(); // started by openContext; this waits for it
          assert.deepEqual(await leftovers(second.ctx.db, gone, goneNo), {});
          assert.deepEqual(
            await leftovers(second.ctx.db, kept, await integrationNo(second.ctx.db, kept)),
            keptBefore,
            'other integrations keep everything',
          );
          assert.match(
            second.logs(),
            new RegExp(`"integrationId":"${gone}".*"msg":"integration removed with its collected data"`),
          );
        } finally {
          await second.ctx.close();
        }
      } finally {
        await database.drop();
      }
    });

    test('a run still holding its lease delays the last step; what it stores meanwhile is purged too', async () => {
      const database = await createTestDatabase(dialect);
      try {
        const { ctx } = await start(database);
        try {
          const id = await seed(ctx, 3);
          const no = await integrationNo(ctx.db, id);
          const collection = createCollectionRepo(ctx.db);
          const run = await collection.startRun({
            integrationId: id,
            dataType: 'signIns',
            trigger: 'schedule',
            now: T0,
            leaseMs: 120_000,
          });
          const result = await ctx.integrations.remove(id, { purge: true });
          assert.deepEqual(result, {
            removed: true,
            purged: { signIns: 40, otherRecords: 32 },
            kept: { signIns: 0, otherRecords: 0 },
          });
          assert.deepEqual(
            Object.keys(await leftovers(ctx.db, id, no)).sort(),
            ['collection_runs', 'collection_slices', 'collection_state', 'integrations'],
            'the data is gone, the row waits',
          );
          assert.deepEqual(await ctx.integrations.list(), []);
          await createSignInRepo(ctx.db).upsert(id, take(signIns({ seed: 4 }), 5), T0); // the run's last page
          const later = await integrationNo(ctx.db, id); // (the sign-in store may number the integration anew)
          await collection.finishRun(run, { status: 'succeeded', now: T0, stats: {} });
          await ctx.integrations.finishRemovals();
          assert.deepEqual(await leftovers(ctx.db, id, no), {});
          assert.deepEqual(await leftovers(ctx.db, id, later), {});
        } finally {
          await ctx.close();
        }
      } finally {
        await database.drop();
      }
    });

    test('data sets are purged in batches, and a stopped purge resumes where it stopped', async () => {
      const { db, dispose } = await openMigrated(dialect);
      try {
        const datasets = createDatasetRepo(db);
        const users = Array.from({ length: 25 }, (_, i) => ({ id: `u${i}` }));
        await datasets.upsert(DATASETS.users, 'i1', users, { generation: 1, collectedAt: T0 });
        await datasets.upsert(DATASETS.users, 'i2', users, { generation: 1, collectedAt: T0 });
        const present = async (id: string) => {
          await datasets.recount(id, 'users', T0);
          return (await datasets.counts(id)).users;
        };
        assert.equal(await present('i1'), 25);
        let batches = 0;
        const first = await datasets.purge('i1', { batchRows: 10, stopped: () => ++batches > 2 });
        assert.equal(first.users, 20, 'two batches of ten, then stopped');
        assert.equal(await present('i1'), 5);
        const second = await datasets.purge('i1', { batchRows: 10 });
        assert.equal(second.users, 5);
        assert.deepEqual(await datasets.counts('i1'), {}, 'the kept counts go with the data');
        assert.equal(await present('i1'), 0);
        assert.equal(await present('i2'), 25);
      } finally {
        await dispose();
      }
    });
  });
}
