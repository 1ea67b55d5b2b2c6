// The compact sign-in store on SQLite and PostgreSQL: records in compressed blocks and texts
// numbered once, yet every record back byte for byte; newer versions move and leave no dead
// block behind; counts kept without counting; purge in resumable batches; and the conversion of
// a store from before, in place, resumable, with its progress.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type KyselyPlugin } from 'kysely';
import { signInFields } from '../../src/store/signin-columns.js';
import { createSignInRepo, type SignInRepo } from '../../src/store/signins.js';
import { convertLegacySignIns, type ConversionProgress } from '../../src/store/signins-conversion.js';
import { DIALECTS, openMigrated, skipReason } from '../helpers/databases.js';
import { signIns, take } from '../fixtures/signin-factory.js';
import { storedSignIns } from '../helpers/signins.js';

const T = Date.parse('2026-11-27T09:00:00Z');

for (const dialect of DIALECTS) {
  describe(`compact sign-in store (${dialect})`, { skip: skipReason(dialect) }, () => {
    let fixture: Awaited<ReturnType<typeof openMigrated>>;
    let repo: SignInRepo;
    const k = () => fixture.db.kysely;
    const blocksOf = async (integrationId: string) =>
      k()
        .selectFrom('signin_blocks as b')
        .innerJoin('signin_integrations as i', 'i.no', 'b.integration_no')
        .select(['b.id', 'b.live', 'b.data'])
        .where('i.integration_id', '=', integrationId)
        .execute();
    before(async () => {
      fixture = await openMigrated(dialect);
      repo = createSignInRepo(fixture.db);
    });
    after(() => fixture.dispose());

    it('keeps records in compressed blocks, a few hundred bytes each, and gives every one back byte for byte', async () => {
      const batch = take(signIns({ seed: 3, users: 40 }), 1000);
      await repo.upsert('int-size', batch, T);
      const blocks = await blocksOf('int-size');
      assert.equal(blocks.length, 4, 'a page of 1,000 makes four blocks');
      const bytes = blocks.reduce((n, b) => n + b.data.length, 0);
      const json = batch.reduce((n, r) => n + JSON.stringify(r).length, 0);
      assert.ok(bytes / batch.length < 400, `${Math.round(bytes / batch.length)} bytes per record in blocks`);
      assert.ok(bytes < json / 5, `compressed ${Math.round(json / bytes)}×`);
      const stored = await storedSignIns(fixture.db, 'int-size');
      const byId = new Map(batch.map((r) => [String(r.id), JSON.stringify(r)]));
      assert.equal(stored.length, batch.length);
      for (const s of stored) assert.equal(s.raw, byId.get(s.id));
    });

    it('numbers each text once per integration', async () => {
      const batch = take(signIns({ seed: 4, users: 5 }), 500);
      await repo.upsert('int-texts', batch, T);
      const [{ n }] = (
        await sql<{
          n: number;
        }>`select count(*) as n from signin_strings s join signin_integrations i on i.no = s.integration_no where i.integration_id = 'int-texts'`.execute(
          k(),
        )
      ).rows as [{ n: number }];
      // exactly the distinct texts of the typed columns, where the rows would hold 22 each
      const distinct = new Set(batch.flatMap((r) => signInFields(r).texts.filter((t) => t !== null))).size;
      assert.equal(Number(n), distinct);
      assert.ok(distinct < 500 * 22 * 0.1, `${distinct} texts for 500 sign-ins of 5 users`);
      const [first] = await repo.list({ integrationId: 'int-texts', since: 0, until: T + 1, limit: 1 });
      assert.ok(first?.user_id && first.app_id && first.ip_address, 'texts come back');
    });

    it('a newer version moves to a new block; a block nobody points at goes', async () => {
      const batch = take(signIns({ seed: 5 }), 300);
      await repo.upsert('int-move', batch, T);
      const before = await blocksOf('int-move');
      assert.deepEqual(before.map((b) => Number(b.live)).sort(), [150, 150]);
      const republished = batch.map((r) => ({ ...r, riskState: 'atRisk' }));
      assert.deepEqual(await repo.upsert('int-move', republished, T + 1), { inserted: 0, updated: 300, unchanged: 0 });
      const after = await blocksOf('int-move');
      assert.equal(after.length, 2, 'the old blocks are gone');
      assert.ok(after.every((b) => !before.some((o) => o.id === b.id)));
      // half re-published again: the blocks of the second version keep the other half
      assert.deepEqual(await repo.upsert('int-move', batch.slice(0, 150), T + 2), {
        inserted: 0,
        updated: 150,
        unchanged: 0,
      });
      const live = (await blocksOf('int-move')).map((b) => Number(b.live));
      assert.equal(
        live.reduce((a, b) => a + b, 0),
        300,
      );
      assert.equal(
        (await storedSignIns(fixture.db, 'int-move')).filter((s) => JSON.parse(s.raw).riskState === 'atRisk').length,
        150,
      );
      assert.equal(await repo.count('int-move'), 300);
    });

    it('many pages at once, of two integrations, are all stored (no writer waits for a connection another holds)', async () => {
      const pages = Array.from({ length: 24 }, (_, i) => take(signIns({ seed: 100 + i, users: 30 }), 200));
      const all = Promise.all(pages.map((p, i) => repo.upsert(i % 2 ? 'int-many-a' : 'int-many-b', p, T)));
      const stuck = new Promise((_, reject) =>
        setTimeout(() => reject(new Error('writes still waiting after 30 s')), 30_000).unref(),
      );
      const counts = (await Promise.race([all, stuck])) as Array<{ inserted: number }>;
      assert.equal(
        counts.reduce((n, c) => n + c.inserted, 0),
        24 * 200,
      );
      assert.equal((await repo.count('int-many-a')) + (await repo.count('int-many-b')), 24 * 200);
    });

    it('a read sees one state of the store, though a block is replaced and deleted while it reads', async () => {
      const t = T - 3_600_000;
      const page = (v: number) =>
        Array.from({ length: 3 }, (_, i) => ({
          id: `race-${i}`,
          createdDateTime: new Date(t + i * 1000).toISOString(),
          userId: 'u',
          mfaDetail: { v },
        }));
      await repo.upsert('int-race', page(1), T);
      let armed = true;
      // right after the rows are read, before their blocks are: every record of their block gets a new version
      const plugin: KyselyPlugin = {
        transformQuery: (a) => a.node,
        async transformResult(a) {
          if (armed && a.result.rows.length > 0 && 'block_pos' in (a.result.rows[0] as object)) {
            armed = false;
            await repo.upsert('int-race', page(2), T + 1);
          }
          return a.result;
        },
      };
      const reader = createSignInRepo({ ...fixture.db, kysely: fixture.db.kysely.withPlugin(plugin) });
      const rows = await reader.list({ integrationId: 'int-race', since: t - 1, until: t + 10_000 });
      assert.equal(armed, false, 'the writer ran between the reads');
      assert.deepEqual(
        rows.map((r) => JSON.parse(r.raw).mfaDetail.v),
        [1, 1, 1],
        'the versions of the moment the read began',
      );
      assert.deepEqual(
        (await repo.list({ integrationId: 'int-race', since: t - 1, until: t + 10_000 })).map(
          (r) => JSON.parse(r.raw).mfaDetail.v,
        ),
        [2, 2, 2],
      );
    });

    it('purges in batches: stopped midway, the next purge finishes, and nothing of the integration is left', async () => {
      await repo.upsert('int-purge', take(signIns({ seed: 6 }), 700), T);
      await repo.upsert('int-keep', take(signIns({ seed: 7 }), 10), T);
      let batches = 0;
      const first = await repo.purge('int-purge', { batchRows: 200, stopped: () => ++batches > 2 });
      assert.equal(first, 400, 'two batches, then stopped');
      assert.equal(await repo.purge('int-purge', { batchRows: 200 }), 300);
      assert.equal(await repo.count('int-purge'), 0);
      assert.equal((await storedSignIns(fixture.db, 'int-purge')).length, 0);
      assert.equal((await blocksOf('int-purge')).length, 0);
      assert.equal(await repo.count('int-keep'), 10, 'another integration keeps its sign-ins');
      assert.equal((await storedSignIns(fixture.db, 'int-keep')).length, 10);
    });

    it('converts a store from before in place: resumable, byte for byte, with its progress', async () => {
      // the old table, as migration 0001 made it (the columns conversion reads, and the key)
      await sql`
        create table signins_legacy (integration_id text not null, sign_in_id text not null, hour integer not null,
          created_at bigint not null, collected_at bigint not null, raw text not null,
          primary key (integration_id, hour, sign_in_id))`.execute(k());
      const records = take(signIns({ seed: 8 }), 2_500);
      // records kept as Graph sent them, escapes and all
      const rawOf = (r: Record<string, unknown>, i: number) =>
        i % 7 === 0 ? JSON.stringify(r).replace('"id"', '"\\u0069d"') : JSON.stringify(r);
      const legacy = records.map((r, i) => ({
        integration_id: i < 2_000 ? 'int-old-a' : 'int-old-b',
        sign_in_id: String(r.id),
        hour: Math.floor(Date.parse(String(r.createdDateTime)) / 3_600_000),
        created_at: Date.parse(String(r.createdDateTime)),
        collected_at: T - (i % 3) * 1_000,
        raw: rawOf(r, i),
      }));
      for (let i = 0; i < legacy.length; i += 500)
        await k()
          .insertInto('signins_legacy')
          .values(legacy.slice(i, i + 500))
          .execute();

      const seen: ConversionProgress[] = [];
      await assert.rejects(
        convertLegacySignIns(fixture.db, (p) => {
          seen.push(p);
          if (p.converted >= 1_000) throw new Error('stopped');
        }),
        /stopped/,
      );
      assert.deepEqual(seen[0], { converted: 0, total: 2_500 });
      const left = Number(
        (
          await k()
            .selectFrom('signins_legacy')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
      assert.equal(left, 1_500, 'converted rows left the old table');

      const resumed: ConversionProgress[] = [];
      assert.equal(await convertLegacySignIns(fixture.db, (p) => resumed.push(p)), 1_500);
      assert.deepEqual(resumed.at(-1), { converted: 1_500, total: 1_500 });
      assert.equal(await convertLegacySignIns(fixture.db), 0, 'nothing left: the old table is gone');

      for (const integration of ['int-old-a', 'int-old-b']) {
        const expected = legacy.filter((l) => l.integration_id === integration);
        const stored = await storedSignIns(fixture.db, integration);
        assert.equal(stored.length, expected.length);
        const raw = new Map(expected.map((l) => [l.sign_in_id, l.raw]));
        for (const s of stored) assert.equal(s.raw, raw.get(s.id), `${s.id} byte for byte`);
        assert.equal(await repo.count(integration), expected.length);
      }
      const one = legacy[1]!;
      assert.equal(
        (await repo.get('int-old-a', one.sign_in_id, one.created_at))?.collected_at,
        one.collected_at,
        'each version keeps when it was fetched',
      );
    });
  });
}
