// Every data type besides sign-ins, collected through the runner from the simulated tenant and
// compared with what Graph itself lists: the directory by delta (changes, soft and hard
// deletes, memberships, the 410 resync that keeps the old copy until the new one is whole),
// posture data read whole, and data types skipped for a licence or a permission.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Kysely } from 'kysely';
import { startApp, T0, type TestApp } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/databases.js';
import { graphPages, simulatedCredentials, startTestSimulator, type TestSimulator } from '../helpers/simulator.js';

const DAY = 86_400_000;

for (const dialect of DIALECTS)
  describe(`collecting the directory and posture data (${dialect})`, { skip: skipReason(dialect) }, () => {
    let app: TestApp;
    let sim: TestSimulator;
    let k: Kysely<any>;
    const ids: Record<string, string> = {};

    async function addIntegration(
      name: string,
      tenant: 'contoso' | 'tailspin',
      state: 'readwrite' | 'readonly' | 'noaudit',
    ) {
      const { integration } = await app.ctx.integrations.add({ name, ...simulatedCredentials(sim, tenant, state) });
      ids[name] = integration.id;
    }
    const run = (name: string, types: string[]) => app.ctx.collector.run(ids[name]!, { types });
    const advance = async (ms: number) => {
      await sim.control('POST', '/clock/advance', { seconds: ms / 1000 });
      app.clock.advance(ms);
    };
    const present = async (table: string, name = 'contoso') =>
      (
        await k
          .selectFrom(table)
          .select('id')
          .where('integration_id', '=', ids[name]!)
          .where('deleted_at', 'is', null)
          .execute()
      )
        .map((r) => r.id as string)
        .sort();
    const row = (table: string, id: string) =>
      k
        .selectFrom(table)
        .selectAll()
        .where('integration_id', '=', ids.contoso!)
        .where('id', '=', id)
        .executeTakeFirst();
    /** Every record Graph lists at this path (as the tenant's read-write app). */
    const graphList = async (path: string): Promise<any[]> =>
      (await graphPages(sim, path, { app: 'readwrite' })).flatMap((p) => p.value);
    const graphIds = async (path: string) => (await graphList(path)).map((r) => r.id as string).sort();

    before(async () => {
      sim = await startTestSimulator({
        throttle: 'off',
        users: 40,
        scenario: 'attacks',
        clock: `fixed:${new Date(T0).toISOString()}`,
      });
      app = await startApp(dialect);
      k = app.ctx.db.kysely as unknown as Kysely<any>;
      await addIntegration('contoso', 'contoso', 'readwrite');
      await addIntegration('tailspin', 'tailspin', 'readwrite');
      await addIntegration('noaudit', 'contoso', 'noaudit');
    });
    after(async () => {
      await app.close();
      await sim.close();
    });

    test('every data type of a P2 tenant with Intune is collected and equals what Graph lists', async () => {
      const outcomes = await app.ctx.collector.run(ids.contoso!);
      for (const o of outcomes) assert.equal(o.status, 'succeeded', `${o.dataType}: ${o.error ?? ''}`);
      assert.equal(outcomes.length, 14);

      assert.deepEqual(await present('directory_users'), await graphIds('/v1.0/users?$select=id&$top=999'));
      assert.deepEqual(await present('directory_groups'), await graphIds('/v1.0/groups?$select=id&$top=999'));
      assert.deepEqual(
        await present('mfa_registrations'),
        await graphIds('/v1.0/reports/authenticationMethods/userRegistrationDetails'),
      );
      assert.deepEqual(await present('ca_policies'), await graphIds('/v1.0/identity/conditionalAccess/policies'));
      assert.deepEqual(await present('applications'), await graphIds('/v1.0/applications?$top=999'));
      assert.deepEqual(await present('service_principals'), await graphIds('/v1.0/servicePrincipals?$top=999'));
      assert.deepEqual(
        await present('role_assignments'),
        await graphIds('/v1.0/roleManagement/directory/roleAssignments'),
      );
      assert.deepEqual(await present('managed_devices'), await graphIds('/v1.0/deviceManagement/managedDevices'));
      assert.deepEqual(await present('licences'), await graphIds('/v1.0/subscribedSkus'));
      assert.deepEqual(await present('risky_users'), await graphIds('/v1.0/identityProtection/riskyUsers'));
      assert.deepEqual(await present('risk_detections'), await graphIds('/v1.0/identityProtection/riskDetections'));
      assert.deepEqual(
        await present('user_sign_in_activity'),
        await graphIds('/v1.0/users?$select=id,signInActivity&$top=500'),
      );
      const audits = await present('directory_audits');
      assert.ok(audits.length > 0 && new Set(audits).size === audits.length);

      // typed columns read from the record
      const guest = await k
        .selectFrom('directory_users')
        .selectAll()
        .where('integration_id', '=', ids.contoso!)
        .where('user_type', '=', 'Guest')
        .executeTakeFirst();
      assert.ok(guest, 'the tenant has guests');
      assert.equal(JSON.parse(guest.raw).userType, 'Guest');

      // memberships: each group's direct members as Graph lists them, nested groups included
      const groups = await graphList('/v1.0/groups?$select=id&$top=999');
      let nested = 0;
      for (const g of groups) {
        const members = await graphList(`/v1.0/groups/${g.id}/members?$select=id&$top=999`);
        const stored = await k
          .selectFrom('group_members')
          .select(['member_id', 'member_type'])
          .where('integration_id', '=', ids.contoso!)
          .where('group_id', '=', g.id)
          .execute();
        assert.deepEqual(
          stored.map((m) => m.member_id).sort(),
          members.map((m: any) => m.id).sort(),
          `members of ${g.id}`,
        );
        nested += stored.filter((m) => m.member_type === 'group').length;
      }
      assert.ok(nested > 0, 'nested groups are kept');

      // credentials of applications and service principals, with their expiry
      const apps = [
        ...(await graphList('/v1.0/applications?$top=999')),
        ...(await graphList('/v1.0/servicePrincipals?$top=999')),
      ];
      const expected = apps.reduce(
        (n, a) => n + (a.passwordCredentials?.length ?? 0) + (a.keyCredentials?.length ?? 0),
        0,
      );
      const creds = await k
        .selectFrom('app_credentials')
        .selectAll()
        .where('integration_id', '=', ids.contoso!)
        .execute();
      assert.equal(creds.length, expected);
      assert.ok(
        creds.some(
          (c) => c.credential_type === 'password' && Number(c.end_at) > T0 && Number(c.end_at) < T0 + 90 * DAY,
        ),
        'a secret expiring within 90 days',
      );
    });

    test('a second pass changes nothing and reads the directory as changes only', async () => {
      const outcomes = await run('contoso', ['users', 'groups', 'conditionalAccess']);
      for (const o of outcomes) {
        assert.equal(o.status, 'succeeded');
        assert.equal(o.stats.inserted, 0, o.dataType);
        assert.equal(o.stats.deleted, 0, o.dataType);
      }
      assert.equal(outcomes[0]!.stats.round, 'changes');
      assert.equal(outcomes[0]!.stats.fetched, 0);
    });

    test('users created, soft-deleted, hard-deleted and restored, and members added and removed, reach the store', async () => {
      const users = await graphList('/v1.0/users?$select=id,userType,userPrincipalName&$top=999');
      const [soft, hard] = users.filter((u: any) => u.userType === 'Member').slice(-2);
      const domain = soft.userPrincipalName.split('@')[1];
      const created = await sim.control('POST', '/directory/users', {
        tenant: 'contoso',
        displayName: 'Nora New',
        userPrincipalName: `nora.new@${domain}`,
      });
      await sim.control('DELETE', `/directory/users/${soft.id}?tenant=contoso`);
      await sim.control('DELETE', `/directory/users/${hard.id}?tenant=contoso&hard=true`);
      const { value: groups } = await sim.control('GET', '/directory/groups?tenant=contoso');
      const group = groups.find((g: any) => g.kind !== 'dynamic') ?? groups[0];
      const before = (await graphList(`/v1.0/groups/${group.id}/members?$select=id&$top=999`)).map((m: any) => m.id);
      await sim.control('POST', `/directory/groups/${group.id}/members`, { tenant: 'contoso', id: created.id });
      await sim.control('DELETE', `/directory/groups/${group.id}/members/${before[0]}?tenant=contoso`);
      await advance(60_000);

      const [u, g] = await run('contoso', ['users', 'groups']);
      assert.equal(u!.status, 'succeeded', u!.error);
      assert.equal(u!.stats.inserted, 1);
      assert.equal(u!.stats.deleted, 2);
      assert.equal((await row('directory_users', created.id))!.deleted_at, null);
      const softRow = await row('directory_users', soft.id);
      assert.equal(softRow!.removed_reason, 'changed', 'soft-deleted: restorable');
      assert.ok(Number(softRow!.deleted_at) > 0);
      assert.equal((await row('directory_users', hard.id))!.removed_reason, 'deleted');
      assert.deepEqual(await present('directory_users'), await graphIds('/v1.0/users?$select=id&$top=999'));

      assert.equal(g!.status, 'succeeded', g!.error);
      const stored = (
        await k
          .selectFrom('group_members')
          .select('member_id')
          .where('integration_id', '=', ids.contoso!)
          .where('group_id', '=', group.id)
          .execute()
      )
        .map((m) => m.member_id)
        .sort();
      assert.deepEqual(
        stored,
        (await graphList(`/v1.0/groups/${group.id}/members?$select=id&$top=999`)).map((m: any) => m.id).sort(),
      );
      assert.ok(stored.includes(created.id) && !stored.includes(before[0]));

      // read whole: users gone from /users are marked absent, even by a pass at the same instant
      const [activity] = await run('contoso', ['signInActivity']);
      assert.equal(activity!.stats.deleted, 2);
      const third = users.filter((u: any) => u.userType === 'Member').at(-3);
      await sim.control('DELETE', `/directory/users/${third.id}?tenant=contoso&hard=true`);
      const [again] = await run('contoso', ['signInActivity']); // the clocks have not moved
      assert.equal(again!.stats.deleted, 1);
      assert.equal((await row('user_sign_in_activity', third.id))!.removed_reason, 'absent');
      assert.deepEqual(await present('user_sign_in_activity'), await graphIds('/v1.0/users?$select=id&$top=999'));

      await sim.control('POST', `/directory/users/${soft.id}/restore`, { tenant: 'contoso' });
      await advance(60_000);
      const [restored] = await run('contoso', ['users']);
      assert.equal(restored!.stats.updated, 1);
      const back = await row('directory_users', soft.id);
      assert.equal(back!.deleted_at, null);
      assert.equal(back!.removed_reason, null);
    });

    test('429s, 503s, 504s, connection resets and a 60-second token: the directory and posture data arrive exact', async () => {
      await addIntegration('faulty', 'contoso', 'readonly');
      await sim.control('PATCH', '/faults', {
        rate429: 0.3,
        rate503: 0.1,
        rate504: 0.05,
        resetRate: 0.05,
        tokenLifetime: 60,
      });
      try {
        const outcomes = await run('faulty', ['users', 'groups', 'applications', 'licences', 'roleAssignments']);
        for (const o of outcomes) assert.equal(o.status, 'succeeded', `${o.dataType}: ${o.error ?? ''}`);
        assert.ok(
          outcomes.some((o) => Number(o.stats.throttled) > 0 && Number(o.stats.retries) > 0),
          'the faults were met',
        );
      } finally {
        await sim.control('PATCH', '/faults', {
          rate429: 0,
          rate503: 0,
          rate504: 0,
          resetRate: 0,
          tokenLifetime: 3900,
        });
      }
      assert.deepEqual(await present('directory_users', 'faulty'), await graphIds('/v1.0/users?$select=id&$top=999'));
      for (const table of [
        'directory_groups',
        'applications',
        'service_principals',
        'licences',
        'role_assignments',
        'role_definitions',
      ]) {
        assert.deepEqual(await present(table, 'faulty'), await present(table, 'contoso'), table);
      }
      for (const g of await graphList('/v1.0/groups?$select=id&$top=999')) {
        const stored = await k
          .selectFrom('group_members')
          .select('member_id')
          .where('integration_id', '=', ids.faulty!)
          .where('group_id', '=', g.id)
          .execute();
        assert.deepEqual(
          stored.map((m) => m.member_id).sort(),
          await graphIds(`/v1.0/groups/${g.id}/members?$select=id&$top=999`),
          `members of ${g.id}`,
        );
      }
    });

    test('an expired delta link: a full resync that keeps the old copy whole until it completes', async () => {
      const beforeIds = await present('directory_users');
      await advance(8 * DAY); // delta tokens last 7 days
      const gone = beforeIds.find((id) => !id.startsWith('0'))!;
      await sim.control('DELETE', `/directory/users/${gone}?tenant=contoso&hard=true`);

      // the resync is interrupted after its first page: nothing is marked gone, the old copy stays
      const stop = new AbortController();
      const [stopped] = await app.ctx.collector.run(ids.contoso!, {
        types: ['users'],
        signal: stop.signal,
        onProgress: (p) => (p.stats.pages ?? 0) >= 1 && stop.abort(new Error('process killed')),
      });
      assert.equal(stopped!.status, 'interrupted');
      assert.deepEqual(await present('directory_users'), beforeIds);

      const [resync] = await run('contoso', ['users']);
      assert.equal(resync!.status, 'succeeded', resync!.error);
      assert.equal(resync!.stats.resync, true);
      assert.equal(resync!.stats.round, 'full');
      assert.equal((await row('directory_users', gone))!.removed_reason, 'absent');
      // (another app's client: the test's cached token has expired in simulated time)
      const now = (await graphPages(sim, '/v1.0/users?$select=id&$top=999', { app: 'readonly' })).flatMap((p) =>
        p.value.map((u: any) => u.id as string),
      );
      assert.deepEqual(await present('directory_users'), now.sort());
    });

    test('a Free tenant: sign-ins skipped with the licence reason, the directory collected', async () => {
      const outcomes = await run('tailspin', ['signIns', 'users', 'groups', 'directoryAudits']);
      const by = Object.fromEntries(outcomes.map((o) => [o.dataType, o]));
      assert.equal(by.signIns!.status, 'skipped');
      assert.match(by.signIns!.error!, /P1|P2/);
      for (const t of ['users', 'groups', 'directoryAudits'])
        assert.equal(by[t]!.status, 'succeeded', `${t}: ${by[t]!.error ?? ''}`);
      assert.ok((await present('directory_users', 'tailspin')).length > 0);
      // Free keeps 7 days of audits: the backfill asks for no more
      const audits = await k
        .selectFrom('directory_audits')
        .select((eb) => eb.fn.min('activity_at').as('first'))
        .where('integration_id', '=', ids.tailspin!)
        .executeTakeFirst();
      assert.ok(Number(audits!.first) >= app.clock.now() - 7 * DAY);
    });

    test('a missing permission: its data types skipped with what to grant, the others collected', async () => {
      const outcomes = await run('noaudit', ['signIns', 'directoryAudits', 'users']);
      const by = Object.fromEntries(outcomes.map((o) => [o.dataType, o]));
      for (const t of ['signIns', 'directoryAudits']) {
        assert.equal(by[t]!.status, 'skipped');
        assert.match(by[t]!.error!, /AuditLog\.Read\.All/);
      }
      assert.equal(by.users!.status, 'succeeded');
    });
  });
