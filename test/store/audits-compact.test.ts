// Directory audits kept compactly on SQLite and PostgreSQL: records byte for byte in compressed
// blocks beside their typed columns, a re-read that changed nothing writes nothing, a newer
// version moves to a new block and a block nobody points at goes; rows stored before are
// converted by the migration; a purge leaves no block behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kysely } from 'kysely';
import { convertStoredAudits } from '../../src/store/migrations/0008_compact_audits.js';
import { createDatasetRepo, DATASETS, type DatasetRepo } from '../../src/store/datasets.js';
import { DIALECTS, openMigrated, skipReason } from '../helpers/databases.js';

const T = Date.parse('2026-11-27T09:00:00Z');
const spec = DATASETS.directoryAudits;

/** Audit records as Graph lists them (the fields the typed columns read, and some bulk). */
const audits = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({
    id: `Directory_${String(from + i).padStart(6, '0')}_ABCDE`,
    category: i % 2 ? 'UserManagement' : 'GroupManagement',
    correlationId: `c0ffee00-0000-4000-8000-${String(from + i).padStart(12, '0')}`,
    result: 'success',
    activityDateTime: new Date(T - (from + i) * 60_000).toISOString(),
    activityDisplayName: i % 2 ? 'Update user' : 'Add member to group',
    loggedByService: 'Core Directory',
    operationType: 'Update',
    initiatedBy: {
      user: { id: 'a1b2c3d4-0000-4000-8000-000000000001', userPrincipalName: 'admin@contoso.com' },
      app: null,
    },
    targetResources: [
      {
        id: `d0d0d0d0-0000-4000-8000-${String(i).padStart(12, '0')}`,
        displayName: `User ${i}`,
        type: 'User',
        modifiedProperties: [{ displayName: 'AccountEnabled', oldValue: '[true]', newValue: '[false]' }],
      },
    ],
    additionalDetails: [{ key: 'UserAgent', value: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64)' }],
  }));

for (const dialect of DIALECTS) {
  describe(`compact directory audits (${dialect})`, { skip: skipReason(dialect) }, () => {
    let fixture: Awaited<ReturnType<typeof openMigrated>>;
    let repo: DatasetRepo;
    const k = () => fixture.db.kysely;
    // the data sets' tables are described at run time, not in the schema type
    const untyped = () => fixture.db.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
    const blocks = (integrationId: string) =>
      k()
        .selectFrom('audit_blocks')
        .select(['id', 'live', 'data'])
        .where('integration_id', '=', integrationId)
        .orderBy('id')
        .execute();
    const streamed = async (integrationId: string) => {
      const out = new Map<string, string>();
      for await (const r of repo.stream(spec, integrationId)) out.set(String(r.id), String(r.raw));
      return out;
    };
    before(async () => {
      fixture = await openMigrated(dialect);
      repo = createDatasetRepo(fixture.db);
    });
    after(() => fixture.dispose());

    it('keeps each record as received in compressed blocks; typed columns beside them', async () => {
      const records = audits(600);
      // as received: one escape JSON.stringify would not write
      const texts = records.map((r, i) =>
        i === 3 ? JSON.stringify(r).replace('"success"', '"succ\\u0065ss"') : JSON.stringify(r),
      );
      assert.deepEqual(await repo.upsert(spec, 'int-a', records, { generation: T, collectedAt: T, texts }), {
        inserted: 600,
        updated: 0,
        unchanged: 0,
      });
      const stored = await blocks('int-a');
      assert.equal(stored.length, 3);
      const bytes = stored.reduce((n, b) => n + b.data.length, 0);
      assert.ok(bytes < texts.join('').length / 5, `${Math.round(bytes / 600)} bytes per audit in blocks`);
      const rows = await untyped()
        .selectFrom('directory_audits')
        .select(['id', 'raw', 'category'])
        .where('integration_id', '=', 'int-a')
        .execute();
      assert.ok(
        rows.every((r) => r.raw === ''),
        'the records are not in the rows',
      );
      assert.equal(rows.find((r) => r.id === records[1]!.id)?.category, 'UserManagement');
      const out = await streamed('int-a');
      records.forEach((r, i) => assert.equal(out.get(r.id), texts[i], `${r.id} byte for byte`));
    });

    it('a re-read writes nothing; newer versions move, and a block nobody points at goes', async () => {
      const records = audits(600);
      const texts = records.map((r) => JSON.stringify(r));
      // the record with the escape, received as Graph serialises it now: another text, so a new version
      assert.deepEqual(await repo.upsert(spec, 'int-a', records, { generation: T + 1, collectedAt: T + 1, texts }), {
        inserted: 0,
        updated: 1,
        unchanged: 599,
      });
      assert.deepEqual(await repo.upsert(spec, 'int-a', records, { generation: T + 1, collectedAt: T + 1, texts }), {
        inserted: 0,
        updated: 0,
        unchanged: 600,
      });
      assert.deepEqual(
        (await blocks('int-a')).map((b) => Number(b.live)),
        [199, 200, 200, 1],
      );
      // the newest 200 (the first block) changed: that block is left with nobody
      const changed = records.slice(0, 200).map((r) => ({ ...r, result: 'failure' }));
      assert.deepEqual(await repo.upsert(spec, 'int-a', changed, { generation: T + 2, collectedAt: T + 2 }), {
        inserted: 0,
        updated: 200,
        unchanged: 0,
      });
      const now = await blocks('int-a');
      assert.deepEqual(
        now.map((b) => Number(b.live)),
        [200, 200, 200],
        'the first block and the single one gone, one new',
      );
      const out = await streamed('int-a');
      assert.equal(JSON.parse(out.get(records[0]!.id)!).result, 'failure');
      assert.equal(JSON.parse(out.get(records[300]!.id)!).result, 'success');
    });

    it('the migration moves audits stored before into blocks, byte for byte', async () => {
      const old = audits(5, 1_000);
      const row = (r: (typeof old)[number]) => ({
        integration_id: 'int-old',
        id: r.id,
        ...Object.fromEntries(Object.entries(spec.columns).map(([c, read]) => [c, read(r)])),
        generation: T,
        deleted_at: null,
        removed_reason: null,
        collected_at: T - 5_000,
        raw: JSON.stringify(r),
      });
      await untyped().insertInto('directory_audits').values(old.map(row)).execute();
      await convertStoredAudits(k() as never);
      const out = await streamed('int-old');
      for (const r of old) assert.equal(out.get(r.id), JSON.stringify(r));
      const [block] = await blocks('int-old');
      assert.equal(Number(block!.live), 5);
      assert.ok(
        (
          await untyped().selectFrom('directory_audits').select('raw').where('integration_id', '=', 'int-old').execute()
        ).every((r) => r.raw === ''),
      );
    });

    it('a purge takes the blocks too', async () => {
      await repo.purge('int-a');
      assert.equal((await blocks('int-a')).length, 0);
      assert.equal((await streamed('int-a')).size, 0);
      assert.equal((await blocks('int-old')).length, 1, 'another integration keeps its audits');
    });
  });
}
