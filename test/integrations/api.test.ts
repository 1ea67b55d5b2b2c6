// Integrations through the REST API against the simulated tenant: add (tested first), list,
// show, edit with capability checks, re-test, Reset Credentials both ways, remove with and
// without purge; admins write, analysts read; the secret never comes back out.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSignInRepo } from '../../src/store/signins.js';
import { signedInUser, startApp, type TestApp } from '../helpers/app.js';
import { DIALECTS, skipReason } from '../helpers/databases.js';
import { ApiClient } from '../helpers/http.js';
import { simulatedCredentials, startTestSimulator, type TestSimulator } from '../helpers/simulator.js';
import { signIns, take } from '../fixtures/signin-factory.js';

for (const dialect of DIALECTS) {
  describe(`integrations API (${dialect})`, { skip: skipReason(dialect) }, () => {
    let app: TestApp;
    let sim: TestSimulator;
    let admin: ApiClient;
    let analyst: ApiClient;
    const secretsUsed: string[] = [];

    const credentials = (
      tenant: 'contoso' | 'fabrikam' | 'tailspin',
      state: 'readwrite' | 'readonly' | 'noconsent' | 'noaudit' | 'expired',
      secretIndex = 0,
    ) => {
      const c = simulatedCredentials(sim, tenant, state, secretIndex);
      secretsUsed.push(c.clientSecret);
      return c;
    };

    before(async () => {
      sim = await startTestSimulator({ throttle: 'off' });
      app = await startApp(dialect);
      admin = await signedInUser(app, 'admin');
      analyst = await signedInUser(app, 'analyst');
    });
    after(async () => {
      await app.close();
      await sim.close();
    });

    let contosoId = '';

    test('test unsaved credentials: Connected! with capabilities', async () => {
      const res = await admin.post<any>('/api/integrations/test', credentials('contoso', 'readwrite'));
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.report.connected, true);
      assert.equal(res.body.report.message, 'Connected!');
      assert.equal(res.body.report.mode, 'read-write');
      assert.ok(
        res.body.report.capabilities.every((c: any) => c.available === true),
        JSON.stringify(res.body.report.capabilities.filter((c: any) => !c.available)),
      );
    });

    test('add: tested, saved, secret write-only; the same tenant and app twice is a conflict', async () => {
      const res = await admin.post<any>('/api/integrations', {
        name: 'Contoso',
        ...credentials('contoso', 'readwrite'),
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      contosoId = res.body.integration.id;
      assert.equal(res.body.integration.status, 'connected');
      assert.equal(res.body.integration.cloud, 'custom');
      assert.deepEqual(res.body.integration.customCloud, {
        authorityHost: sim.sim.url,
        graphUrl: sim.sim.url,
        hasCaCertificate: true,
      });
      assert.ok(res.body.integration.secretDaysLeft > 600, 'the secret in use was identified by its hint');
      const again = await admin.post<any>('/api/integrations', {
        name: 'Contoso again',
        ...credentials('contoso', 'readwrite'),
      });
      assert.equal(again.status, 409);
      const list = await analyst.get<any>('/api/integrations');
      assert.equal(list.status, 200);
      assert.deepEqual(
        list.body.integrations.map((i: any) => i.name),
        ['Contoso'],
      );
    });

    test('bad input gets a specific 400 and saves nothing', async () => {
      const cases: Array<[Record<string, unknown>, RegExp]> = [
        [{ tenantId: 'not a tenant' }, /must be a GUID .* or a domain name/],
        [{ clientId: 'abc' }, /client\) ID must be a GUID/],
        [{ clientSecret: '   ' }, /client secret is empty/],
        [{ clientSecret: '0b1c2d3e-4f50-4a61-8b72-93a4b5c6d7e8' }, /looks like the client secret ID/],
        [{ cloud: 'custom', graphUrl: undefined }, /custom cloud needs/],
        // a name is shown in terminals and pages: escape sequences and bidi overrides are refused
        [{ name: 'Evil\x1b[2J' }, /^body\.name: must not contain line breaks or control characters$/],
        [{ name: 'Evil\u202eliveD' }, /^body\.name: must not contain line breaks or control characters$/],
        [{ name: 'two\nlines' }, /^body\.name: must not contain line breaks or control characters$/],
      ];
      for (const [change, message] of cases) {
        const res = await admin.post<any>('/api/integrations', {
          name: 'Broken',
          ...credentials('fabrikam', 'readwrite'),
          ...change,
        });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.match(res.body.error.message, message);
      }
      assert.equal((await admin.get<any>('/api/integrations')).body.integrations.length, 1);
    });

    test('a failing test is not saved (422 with the problem), unless saveUntested', async () => {
      const wrong = {
        name: 'Fabrikam',
        ...credentials('fabrikam', 'readwrite'),
        clientSecret: 'Abc8Q~wrongwrongwrongwrongwrongwrongwrong',
      };
      const res = await admin.post<any>('/api/integrations', wrong);
      assert.equal(res.status, 422);
      assert.equal(res.body.error.details.report.problem.code, 'wrong_secret');
      assert.equal(res.body.error.details.report.problem.microsoftCode, 'AADSTS7000215');
      const untested = await admin.post<any>('/api/integrations', { ...wrong, saveUntested: true });
      assert.equal(untested.status, 201);
      assert.equal(untested.body.integration.status, 'failed');
      assert.equal((await admin.delete<any>(`/api/integrations/${untested.body.integration.id}`)).status, 200);
    });

    test('analysts read but cannot write', async () => {
      assert.equal((await analyst.get<any>(`/api/integrations/${contosoId}`)).status, 200);
      assert.equal(
        (await analyst.post<any>('/api/integrations', { name: 'X', ...credentials('fabrikam', 'readonly') })).status,
        403,
      );
      assert.equal(
        (await analyst.post<any>('/api/integrations/test', credentials('fabrikam', 'readonly'))).status,
        403,
      );
      assert.equal((await analyst.patch<any>(`/api/integrations/${contosoId}`, { name: 'Mine' })).status, 403);
      assert.equal((await analyst.post<any>(`/api/integrations/${contosoId}/test`)).status, 403);
      assert.equal((await analyst.delete<any>(`/api/integrations/${contosoId}`)).status, 403);
    });

    test('edit: turning on a data type the tenant lacks is refused with the reason', async () => {
      const fab = await admin.post<any>('/api/integrations', {
        name: 'Fabrikam',
        ...credentials('fabrikam', 'readonly'),
      });
      assert.equal(fab.status, 201, JSON.stringify(fab.body));
      const risky = fab.body.report.capabilities.find((c: any) => /risky/i.test(c.label));
      assert.equal(risky.available, false);
      assert.equal(
        fab.body.integration.settings.dataTypes[risky.dataType],
        false,
        'unavailable data types default to off',
      );
      const refused = await admin.patch<any>(`/api/integrations/${fab.body.integration.id}`, {
        dataTypes: { [risky.dataType]: true },
      });
      assert.equal(refused.status, 400);
      assert.ok(refused.body.error.message.includes(risky.reason), refused.body.error.message);
      const renamed = await admin.patch<any>(`/api/integrations/${fab.body.integration.id}`, {
        name: 'Fabrikam EU',
        dataTypes: { users: false },
      });
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(renamed.body.integration.name, 'Fabrikam EU');
      assert.equal(renamed.body.integration.settings.dataTypes.users, false);
      const badSchedule = await admin.patch<any>(`/api/integrations/${fab.body.integration.id}`, {
        schedule: { users: 1 },
      });
      assert.equal(badSchedule.status, 400);
      assert.equal(
        badSchedule.body.error.message,
        'body.schedule.users: must be a whole number of minutes from 5 to 10080',
      );
      const late = await admin.patch<any>(`/api/integrations/${fab.body.integration.id}`, { lagMinutes: 241 });
      assert.equal(late.body.error.message, 'body.lagMinutes: must be a whole number of minutes from 0 to 240');
      assert.equal(fab.body.report.mode, 'read-only');
    });

    test('Reset Credentials: a failing secret leaves the old one in place; a good one replaces it', async () => {
      const bad = await admin.request<any>('PUT', `/api/integrations/${contosoId}/credentials`, {
        json: { clientSecret: 'Zzz8Q~nopenopenopenopenopenopenopenopenop' },
      });
      assert.equal(bad.status, 422);
      assert.equal(bad.body.error.details.report.problem.code, 'wrong_secret');
      const still = await admin.post<any>(`/api/integrations/${contosoId}/test`);
      assert.equal(still.body.report.connected, true, 'the old secret still works');
      const good = await admin.request<any>('PUT', `/api/integrations/${contosoId}/credentials`, {
        json: { clientSecret: credentials('contoso', 'readwrite', 1).clientSecret },
      });
      assert.equal(good.status, 200, JSON.stringify(good.body));
      assert.ok(good.body.integration.secretDaysLeft < 90, 'now the secret expiring soon is in use');
    });

    test('endpoints: a custom cloud that does not answer is refused (422, nothing changed); the same place is kept; analysts may not', async () => {
      const before = (await admin.get<any>(`/api/integrations/${contosoId}`)).body.integration.customCloud;
      const nowhere = 'https://127.0.0.1:9';
      const refused = await admin.request<any>('PUT', `/api/integrations/${contosoId}/endpoints`, {
        json: { authorityHost: nowhere, graphUrl: nowhere },
      });
      assert.equal(refused.status, 422, JSON.stringify(refused.body));
      assert.equal(refused.body.error.details.report.connected, false);
      assert.deepEqual((await admin.get<any>(`/api/integrations/${contosoId}`)).body.integration.customCloud, before);
      const bad = await admin.request<any>('PUT', `/api/integrations/${contosoId}/endpoints`, {
        json: { graphUrl: 'http://127.0.0.1:9' },
      });
      assert.equal(bad.status, 400);
      const same = await admin.request<any>('PUT', `/api/integrations/${contosoId}/endpoints`, {
        json: { graphUrl: before.graphUrl },
      });
      assert.equal(same.status, 200, JSON.stringify(same.body));
      assert.equal(same.body.report.connected, true);
      assert.equal(
        (
          await analyst.request<any>('PUT', `/api/integrations/${contosoId}/endpoints`, {
            json: { graphUrl: before.graphUrl },
          })
        ).status,
        403,
      );
    });

    test('remove keeps collected data unless purge, and says how much', async () => {
      const signInsRepo = createSignInRepo(app.ctx.db);
      const fab = (await admin.get<any>('/api/integrations')).body.integrations.find(
        (i: any) => i.name === 'Fabrikam EU',
      );
      await signInsRepo.upsert(contosoId, take(signIns({ seed: 3 }), 40), app.clock.now());
      await signInsRepo.upsert(fab.id, take(signIns({ seed: 4 }), 25), app.clock.now());
      const stored = (await admin.get<any>(`/api/integrations/${contosoId}`)).body.integration.storedData;
      const perType = Object.values(stored.signIns) as number[];
      assert.equal(
        perType.reduce((a, b) => a + b, 0),
        40,
        JSON.stringify(stored),
      );
      const kept = await admin.delete<any>(`/api/integrations/${fab.id}`);
      assert.deepEqual(kept.body, { removed: true, purged: null, kept: { signIns: 25, otherRecords: 0 } });
      assert.equal(await signInsRepo.count(fab.id), 25);
      const purged = await admin.delete<any>(`/api/integrations/${contosoId}?purge=true`);
      assert.deepEqual(purged.body, {
        removed: true,
        purged: { signIns: 40, otherRecords: 0 },
        kept: { signIns: 0, otherRecords: 0 },
      });
      assert.equal(await signInsRepo.count(contosoId), 0);
      assert.equal((await admin.get<any>(`/api/integrations/${contosoId}`)).status, 404);
    });

    test('every write is audited, and no secret is anywhere: database files, logs, responses, audit', async () => {
      const audit = await admin.get<any>('/api/audit?limit=200');
      const actions = new Set(audit.body.entries.map((e: any) => e.action));
      for (const a of [
        'integrations.test',
        'integrations.create',
        'integrations.update',
        'integrations.retest',
        'integrations.reset_credentials',
        'integrations.set_endpoints',
        'integrations.remove',
      ])
        assert.ok(actions.has(a), a);
      const haystacks = [app.logs(), JSON.stringify(audit.body), ...admin.received, ...analyst.received];
      if (dialect === 'sqlite') {
        for (const f of readdirSync(app.database.dataDir))
          if (f.startsWith('idsight.db'))
            haystacks.push(readFileSync(path.join(app.database.dataDir, f)).toString('latin1'));
      }
      for (const secret of new Set(secretsUsed)) {
        for (const hay of haystacks) assert.ok(!hay.includes(secret), 'a secret leaked');
      }
    });
  });
}
