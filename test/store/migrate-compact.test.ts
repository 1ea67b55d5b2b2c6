// A database as the release before the compact store left it — migrated to 0006, sign-ins and
// directory audits stored whole in their rows — brought up to date by idsight's own migrate():
// every record comes back byte for byte, counted, from the compact store, and nothing of the old
// layout is left. On SQLite and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, type Kysely } from 'kysely';
import { exportQuery } from '../../src/api/routes/export/schema.js';
import { exportChunks, planExport } from '../../src/export/export.js';
import type { Db } from '../../src/store/db.js';
import { migrate } from '../../src/store/migrate.js';
import { createRepositories } from '../../src/store/repositories.js';
import * as m0001 from '../../src/store/migrations/0001_foundation.js';
import * as m0002 from '../../src/store/migrations/0002_integration_state.js';
import * as m0003 from '../../src/store/migrations/0003_collection.js';
import * as m0004 from '../../src/store/migrations/0004_collection_sweep.js';
import * as m0005 from '../../src/store/migrations/0005_datasets.js';
import * as m0006 from '../../src/store/migrations/0006_collection_chains.js';
import { countStored } from '../../src/store/migrations/0009_stored_counts.js';
import { createSignInRepo } from '../../src/store/signins.js';
import type { ConversionProgress } from '../../src/store/signins-conversion.js';
import { signIns, take } from '../fixtures/signin-factory.js';
import { createTestDatabase, DIALECTS, skipReason, type TestDatabase } from '../helpers/databases.js';
import { storedSignIns } from '../helpers/signins.js';

const T = Date.parse('2026-11-27T09:00:00Z');
const BEFORE = {
  '0001_foundation': m0001,
  '0002_integration_state': m0002,
  '0003_collection': m0003,
  '0004_collection_sweep': m0004,
  '0005_datasets': m0005,
  '0006_collection_chains': m0006,
};
// the old tables are not in today's schema type
type Old = Kysely<Record<string, Record<string, unknown>>>;

async function text(db: Db, integrationId: string, type: string): Promise<string> {
  let out = '';
  for await (const chunk of exportChunks(
    createRepositories(db),
    integrationId,
    planExport(exportQuery.parse({ type })),
  ))
    out += chunk;
  return out;
}

for (const dialect of DIALECTS) {
  describe(`a database from before the compact store, migrated (${dialect})`, { skip: skipReason(dialect) }, () => {
    let database: TestDatabase;
    let db: Db;
    before(async () => {
      database = await createTestDatabase(dialect);
      db = database.open();
    });
    after(async () => {
      await db.close();
      await database.drop();
    });

    it('keeps every sign-in and audit byte for byte, and leaves nothing of the old layout', async () => {
      const migrator = new Migrator({
        db: db.kysely,
        provider: {
          getMigrations: () =>
            Promise.resolve(
              Object.fromEntries(
                Object.entries(BEFORE).map(([name, m]) => [name, { up: (k: Kysely<unknown>) => m.up(k, dialect) }]),
              ),
            ),
        },
        migrationTableName: 'idsight_migrations',
        migrationLockTableName: 'idsight_migrations_lock',
      });
      assert.equal((await migrator.migrateToLatest()).error, undefined);
      const old = db.kysely as unknown as Old;

      // sign-ins as the old store kept them: typed columns and the record, one row each
      const records = take(signIns({ seed: 77, users: 20 }), 2_300);
      const rows = records.map((r, i) => {
        const created = Date.parse(String(r.createdDateTime));
        return {
          integration_id: i < 1_800 ? 'int-1' : 'int-2',
          sign_in_id: String(r.id),
          hour: Math.floor(created / 3_600_000),
          created_at: created,
          event_type: 'interactiveUser',
          collected_at: T - (i % 4),
          raw: JSON.stringify(r),
        };
      });
      for (let i = 0; i < rows.length; i += 200)
        await old
          .insertInto('signins')
          .values(rows.slice(i, i + 200))
          .execute();
      const audits = Array.from({ length: 300 }, (_, i) => ({
        id: `Directory_${i}`,
        activityDateTime: new Date(T - i * 60_000).toISOString(),
        category: 'UserManagement',
        result: 'success',
      }));
      await old
        .insertInto('directory_audits')
        .values(
          audits.map((a) => ({
            integration_id: 'int-1',
            id: a.id,
            activity_at: Date.parse(a.activityDateTime),
            category: a.category,
            result: a.result,
            generation: T,
            collected_at: T,
            raw: JSON.stringify(a),
          })),
        )
        .execute();

      const seen: ConversionProgress[] = [];
      const outcome = await migrate(db, { onConversion: (p) => seen.push(p) });
      assert.deepEqual(outcome.applied, [
        '0007_compact_signins',
        '0008_compact_audits',
        '0009_stored_counts',
        '0010_token_limits',
      ]);
      assert.equal(outcome.converted, 2_300);
      assert.deepEqual(seen.at(-1), { converted: 2_300, total: 2_300 });

      const repo = createSignInRepo(db);
      for (const integration of ['int-1', 'int-2']) {
        const before = rows.filter((r) => r.integration_id === integration);
        const after = await storedSignIns(db, integration);
        assert.equal(after.length, before.length);
        const raw = new Map(before.map((r) => [r.sign_in_id, r.raw]));
        for (const s of after) assert.equal(s.raw, raw.get(s.id), `${s.id} byte for byte`);
        assert.equal(await repo.count(integration), before.length, 'counted as converted');
      }
      // the kept counts: sign-ins per event type (kept by the writer as the conversion stored them),
      // records per data set; counting the store again gives the same
      const { datasets } = createRepositories(db);
      const kept = async () => ({
        signIns: await repo.countsPerEventType('int-1'),
        records: await datasets.counts('int-1'),
      });
      assert.deepEqual(await kept(), { signIns: { interactiveUser: 1_800 }, records: { directoryAudits: 300 } });
      await db.kysely.deleteFrom('signin_counts').execute();
      await db.kysely.deleteFrom('dataset_counts').execute();
      await countStored(db.kysely as Kysely<unknown>, T);
      assert.deepEqual(await kept(), { signIns: { interactiveUser: 1_800 }, records: { directoryAudits: 300 } });
      const exported = (await text(db, 'int-1', 'signIns')).trim().split('\n');
      assert.deepEqual(new Set(exported), new Set(rows.filter((r) => r.integration_id === 'int-1').map((r) => r.raw)));
      const auditLines = (await text(db, 'int-1', 'directoryAudits')).trim().split('\n');
      assert.deepEqual(new Set(auditLines), new Set(audits.map((a) => JSON.stringify(a))));

      const tables = (await db.kysely.introspection.getTables()).map((t) => t.name);
      assert.ok(!tables.includes('signins_legacy'), 'the old sign-in table is gone');
      assert.deepEqual((await migrate(db)).applied, [], 'a second start has nothing to do');
    });
  });
}
