// The sign-in store on SQLite and PostgreSQL: typed columns, lossless raw records, and an
// upsert where the newest fetch of a record wins and nothing is duplicated.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { arrayItemSpans, spanTexts } from '../../src/entra/page-text.js';
import { ValidationError } from '../../src/errors.js';
import { createSignInRepo, type GraphSignIn, type SignInRepo } from '../../src/store/signins.js';
import { DIALECTS, openMigrated, skipReason } from '../helpers/databases.js';
import { fixturePath, loadFixture, signIns, take } from '../fixtures/signin-factory.js';

const T = Date.parse('2026-11-27T09:00:00Z');
const at = (r: GraphSignIn): number => Date.parse(String(r.createdDateTime));

for (const dialect of DIALECTS) {
  describe(`sign-in store (${dialect})`, { skip: skipReason(dialect) }, () => {
    let fixture: Awaited<ReturnType<typeof openMigrated>>;
    let repo: SignInRepo;
    before(async () => {
      fixture = await openMigrated(dialect);
      repo = createSignInRepo(fixture.db);
    });
    after(() => fixture.dispose());

    it('maps Microsoft’s v1.0 example into typed columns and keeps the record losslessly', async () => {
      const [record] = loadFixture('signins-list.json').value;
      assert.ok(record);
      const counts = await repo.upsert('int-v1', [record], T);
      assert.deepEqual(counts, { inserted: 1, updated: 0, unchanged: 0 });
      const row = await repo.get('int-v1', '66ea54eb-6301-4ee5-be62-ff5a759b0100', at(record));
      assert.ok(row);
      assert.equal(row.created_at, Date.parse('2020-03-13T19:15:41.6195833Z'));
      assert.equal(row.hour, Math.floor(row.created_at / 3_600_000));
      assert.equal(row.event_type, 'interactiveUser');
      assert.equal(row.user_id, '26be570a-ae82-4189-b4e2-a37c6808512d');
      assert.equal(row.user_principal_name, 'testaccount1@contoso.com');
      assert.equal(row.app_id, 'de8bc8b5-d9f9-48b1-a8ad-b748da725064');
      assert.equal(row.ip_address, '131.107.159.37');
      assert.equal(row.country, 'US');
      assert.equal(row.city, 'Redmond');
      assert.equal(row.latitude, 47.68050003051758);
      assert.equal(row.longitude, -122.12094116210938);
      assert.equal(row.error_code, 0);
      assert.equal(row.client_app_used, 'Browser');
      assert.equal(row.is_interactive, 1);
      assert.equal(row.conditional_access_status, 'notApplied');
      assert.equal(row.risk_level_aggregated, 'none');
      assert.equal(row.risk_state, 'none');
      assert.equal(row.device_id, null, 'an empty deviceId is no device');
      assert.deepEqual(JSON.parse(row.raw), record, 'the full Graph record, as received');
    });

    it("keeps each record's text as received when the page's texts are given", async () => {
      const records = loadFixture('signins-list.json').value;
      // compact, as Graph answers, with an escape JSON.stringify would not write
      const page = JSON.stringify({ value: records }).replace('"Redmond"', '"Redm\\u006fnd"');
      const received = { bytes: Buffer.from(page), spans: arrayItemSpans(Buffer.from(page), 'value')! };
      const texts = spanTexts(received.bytes, received.spans);
      assert.ok(texts[0]!.includes('Redm\\u006fnd'));
      await repo.upsert('int-verbatim', records, T, received);
      const row = await repo.get('int-verbatim', String(records[0]!.id), at(records[0]!));
      assert.equal(row?.raw, texts[0]);
      assert.equal(row?.city, 'Redmond');
      // a pretty-printed page has no one-line texts: the record is serialised (stored records are one line)
      const pretty = readFileSync(fixturePath('signins-list.json'), 'utf8');
      await repo.upsert('int-verbatim-2', records, T, {
        bytes: Buffer.from(pretty),
        spans: arrayItemSpans(Buffer.from(pretty), 'value')!,
      });
      const other = await repo.get('int-verbatim-2', String(records[0]!.id), at(records[0]!));
      assert.equal(other?.raw, JSON.stringify(records[0]));
      // texts that do not match the records one for one are not used
      await repo.upsert('int-verbatim-3', records, T, { bytes: Buffer.from(page), spans: received.spans.slice(2) });
      assert.equal(
        (await repo.get('int-verbatim-3', String(records[0]!.id), at(records[0]!)))?.raw,
        JSON.stringify(records[0]),
      );
    });

    it("stores a page's records without changing or taking its buffer, its own or one it shares (Node's pool)", async () => {
      const records = loadFixture('signins-list.json').value.slice(0, 2);
      for (const [name, bytes] of [
        ['own', new TextEncoder().encode(JSON.stringify({ value: records }))],
        ['pooled', Buffer.from(JSON.stringify({ value: records.slice(0, 1) }))],
      ] as const) {
        const kept = records.slice(0, name === 'own' ? 2 : 1);
        const before = Buffer.from(bytes).toString('utf8');
        await repo.upsert(`int-${name}`, kept, T, { bytes, spans: arrayItemSpans(bytes, 'value')! });
        for (const r of kept)
          assert.equal((await repo.get(`int-${name}`, String(r.id), at(r)))?.raw, JSON.stringify(r), name);
        assert.equal(Buffer.from(bytes).toString('utf8'), before, `${name}: the page is neither changed nor moved`);
      }
      assert.equal(Buffer.from('still usable').toString(), 'still usable');
    });

    if (dialect === 'sqlite') {
      it('stores through its writer thread until closed, then refuses clearly', async () => {
        const own = await openMigrated('sqlite');
        const ownRepo = createSignInRepo(own.db);
        const batch = take(signIns({ seed: 11 }), 50);
        assert.deepEqual(await ownRepo.upsert('int-closed', batch, T), { inserted: 50, updated: 0, unchanged: 0 });
        await own.db.close();
        await assert.rejects(ownRepo.upsert('int-closed', batch, T), /the sign-in store is closed/);
        await own.database.drop();
      });
    }

    it('maps the beta example: event type, failure code, missing coordinates', async () => {
      const [record] = loadFixture('beta/signins-list.json').value;
      assert.ok(record);
      await repo.upsert('int-beta', [record], T);
      const row = await repo.get('int-beta', String(record.id), at(record));
      assert.ok(row);
      assert.equal(row.event_type, 'interactiveUser');
      assert.equal(row.error_code, 50126);
      assert.equal(row.latitude, null);
      assert.equal(row.longitude, null);
      assert.deepEqual(JSON.parse(row.raw), record);
    });

    it('counts inserts, updates and unchanged records, and never duplicates', async () => {
      const batch = take(signIns({ seed: 7 }), 1200);
      assert.deepEqual(await repo.upsert('int-a', batch, T), { inserted: 1200, updated: 0, unchanged: 0 });
      // the same records fetched again (overlapping windows): nothing is rewritten
      assert.deepEqual(await repo.upsert('int-a', batch, T + 1000), { inserted: 0, updated: 0, unchanged: 1200 });
      // Microsoft re-publishes a record with risk or MFA details added: the new version wins
      const republished = batch.slice(0, 10).map((r) => ({ ...r, riskLevelAggregated: 'high', riskState: 'atRisk' }));
      assert.deepEqual(await repo.upsert('int-a', [...republished, ...batch.slice(10, 20)], T + 2000), {
        inserted: 0,
        updated: 10,
        unchanged: 10,
      });
      assert.equal(await repo.count('int-a'), 1200);
      const row = await repo.get('int-a', String(batch[0]!.id), at(batch[0]!));
      assert.equal(row?.risk_level_aggregated, 'high');
      assert.equal(JSON.parse(row!.raw).riskState, 'atRisk');
      // the same id under another integration is another record
      await repo.upsert('int-b', batch.slice(0, 5), T);
      assert.equal(await repo.count('int-b'), 5);
      assert.equal(await repo.count('int-a'), 1200);
    });

    it('never lets an older fetch replace a newer one', async () => {
      const [record] = take(signIns({ seed: 11 }), 1);
      const newer = { ...record!, riskState: 'remediated' };
      await repo.upsert('int-c', [newer], T + 10_000);
      const counts = await repo.upsert('int-c', [record!], T + 5_000); // a slow slice committing late
      assert.deepEqual(counts, { inserted: 0, updated: 0, unchanged: 1 });
      const row = await repo.get('int-c', String(record!.id), at(record!));
      assert.equal(JSON.parse(row!.raw).riskState, 'remediated');
      assert.equal(row!.collected_at, T + 10_000);
    });

    it('keeps the last copy when a batch repeats a record', async () => {
      const [record] = take(signIns({ seed: 12 }), 1);
      const counts = await repo.upsert('int-d', [record!, { ...record!, riskState: 'dismissed' }], T);
      assert.deepEqual(counts, { inserted: 1, updated: 0, unchanged: 0 });
      assert.equal(JSON.parse((await repo.get('int-d', String(record!.id), at(record!)))!.raw).riskState, 'dismissed');
    });

    it('rejects a batch with a malformed record and stores none of it', async () => {
      const batch = take(signIns({ seed: 13 }), 20) as GraphSignIn[];
      const broken = [...batch.slice(0, 10), { ...batch[10]!, createdDateTime: 'yesterday' }, ...batch.slice(11)];
      await assert.rejects(
        repo.upsert('int-e', broken, T),
        (err: unknown) => err instanceof ValidationError && /createdDateTime/.test(err.message),
      );
      const noId = [...batch.slice(0, 3), { ...batch[3]!, id: undefined }];
      await assert.rejects(
        repo.upsert('int-e', noId, T),
        (err: unknown) => err instanceof ValidationError && /no id/.test(err.message),
      );
      assert.equal(await repo.count('int-e'), 0);
    });

    it('stores awkward text exactly: tabs, newlines, backslashes, quotes and non-Latin scripts', async () => {
      const [base] = take(signIns({ seed: 31 }), 1);
      const record = {
        ...base!,
        userDisplayName: 'Tab\there \\ back "quoted"\nnew line\r\u00a0Ünïcødé 名前 🙂',
        appDisplayName: '\\N',
      };
      await repo.upsert('int-g', [record], T);
      const row = await repo.get('int-g', String(record.id), at(record));
      assert.equal(row?.raw, JSON.stringify(record), 'the record, byte for byte');
      assert.equal(row?.user_display_name, record.userDisplayName);
      assert.equal(row?.app_display_name, '\\N', 'a literal \\N is text, not null');
    });

    it('stores a batch once when two writers race to insert it', async () => {
      const batch = take(signIns({ seed: 41 }), 300);
      const [a, b] = await Promise.all([repo.upsert('int-h', batch, T), repo.upsert('int-h', batch, T)]);
      assert.equal(a!.inserted + b!.inserted, 300);
      assert.equal(a!.unchanged + b!.unchanged, 300);
      assert.equal(await repo.count('int-h'), 300);
    });

    it('lists by time window and user, newest first', async () => {
      const batch = take(signIns({ seed: 21, users: 3, end: T, spacingMs: 60_000 }), 100);
      await repo.upsert('int-f', batch, T);
      const window = await repo.list({ integrationId: 'int-f', since: T - 30 * 60_000, until: T - 10 * 60_000 });
      assert.equal(window.length, 20);
      assert.ok(window.every((r, i) => i === 0 || r.created_at <= window[i - 1]!.created_at));
      const user = String(batch[0]!.userId);
      const mine = await repo.list({ integrationId: 'int-f', userId: user, since: T - 200 * 60_000, until: T + 1 });
      assert.equal(mine.length, batch.filter((r) => r.userId === user).length);
    });
  });
}
