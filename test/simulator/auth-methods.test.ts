// Users' authentication methods on the simulator over real HTTPS: the methods list and its typed
// collections (Microsoft's example and the v1.0 schema), consistency with the MFA registration
// report, and DELETE with Microsoft's rules (password never, the default phone not while other
// methods remain, no alternate mobile without a mobile), as "Reset MFA" uses it.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { compareShape, conformsToMetadata, loadGraphFixture, loadMetadata } from '../helpers/graph-shape.js';
import { assertGraphError, graphPages, SIM_T0, useSimulator, type TestSimulator } from '../helpers/simulator.js';
import {
  methodPlan,
  PASSWORD_METHOD_ID,
  PHONE_METHOD_IDS,
  type MethodPlan,
} from '../../src/simulator/data/auth-methods.js';
import { personAt, type Person } from '../../src/simulator/data/people.js';

type Obj = Record<string, any>;
const meta = loadMetadata();
const T0 = Date.parse(SIM_T0);
const REPORT = '/v1.0/reports/authenticationMethods/userRegistrationDetails';

// The report's name for each method type (methodsRegistered).
const REGISTERED: Record<string, (m: Obj) => string | undefined> = {
  '#microsoft.graph.passwordAuthenticationMethod': () => undefined,
  '#microsoft.graph.phoneAuthenticationMethod': (m) =>
    ({ mobile: 'mobilePhone', alternateMobile: 'alternateMobilePhone', office: 'officePhone' })[m.phoneType as string],
  '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod': () => 'microsoftAuthenticatorPush',
  '#microsoft.graph.softwareOathAuthenticationMethod': () => 'softwareOneTimePasscode',
  '#microsoft.graph.fido2AuthenticationMethod': () => 'passKeyDeviceBound',
  '#microsoft.graph.windowsHelloForBusinessAuthenticationMethod': () => 'windowsHelloForBusiness',
  '#microsoft.graph.emailAuthenticationMethod': () => 'email',
  '#microsoft.graph.temporaryAccessPassAuthenticationMethod': () => 'temporaryAccessPass',
};
const STRONG = new Set([
  'mobilePhone',
  'alternateMobilePhone',
  'officePhone',
  'microsoftAuthenticatorPush',
  'softwareOneTimePasscode',
  'passKeyDeviceBound',
  'windowsHelloForBusiness',
]);

describe('users/{id}/authentication', () => {
  const sim = useSimulator({ throttle: 'off', users: 400 });
  let t: TestSimulator;
  const graph = (path: string, app: 'readonly' | 'readwrite' | 'noconsent' = 'readonly', init?: { method?: string }) =>
    t.graph('contoso', app, path, init);
  const del = (p: Person, collection: string, id: string, app: 'readonly' | 'readwrite' | 'noconsent' = 'readwrite') =>
    graph(`/v1.0/users/${p.id}/authentication/${collection}/${id}`, app, { method: 'DELETE' });
  const report = async (p: Person) => (await graph(`${REPORT}/${p.id}`)).body as Obj;

  /** People of contoso whose generated methods satisfy `ok`, in index order. */
  const used = new Set<number>();
  const find = (ok: (plan: MethodPlan, p: Person) => boolean): { p: Person; plan: MethodPlan } => {
    const tenant = t.tenant('contoso');
    for (let i = 0; i < tenant.userCount; i++) {
      if (used.has(i)) continue;
      const p = personAt(tenant, i, t.sim.state.start);
      const plan = methodPlan(tenant, p, t.sim.state.start);
      if (ok(plan, p)) {
        used.add(i);
        return { p, plan };
      }
    }
    throw new Error('no such person in the generated tenant');
  };
  const has = (plan: MethodPlan, collection: string) => plan.methods.some((m) => m.collection === collection);
  const phone = (plan: MethodPlan, type: string) => plan.methods.some((m) => m.phoneType === type);

  before(() => {
    t = sim();
  });

  test("methods lists are typed items that fit the v1.0 schema and Microsoft's example, consistent with the registration report", async () => {
    const users = (await graph(`${REPORT}?$top=150`)).body.value as Obj[];
    const seen = new Set<string>();
    const example = loadGraphFixture('graph-v1/authentication-methods-list.json') as { value: Obj[] };
    for (const u of users) {
      const res = await graph(`/v1.0/users/${u.id}/authentication/methods`);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#users('${u.id}')/authentication/methods`);
      const methods = res.body.value as Obj[];
      assert.deepEqual(
        methods.flatMap((m, i) => conformsToMetadata(m, 'authenticationMethod', meta, {}, `value[${i}]`)),
        [],
      );
      for (const m of methods) {
        seen.add(m['@odata.type']);
        // the example's fido2 item says creationDateTime (the schema: createdDateTime) and predates passkeyType
        const typed = example.value.find((e) => e['@odata.type'] === m['@odata.type']);
        if (typed)
          assert.deepEqual(
            compareShape(m, typed, '', {
              allowMissing: ['creationDateTime'],
              allowExtra: ['createdDateTime', 'passkeyType'],
            }),
            [],
          );
      }
      assert.equal(methods.filter((m) => m.id === PASSWORD_METHOD_ID).length, 1, 'everyone has the password method');
      const registered = methods
        .map((m) => REGISTERED[m['@odata.type']]!(m))
        .filter((r): r is string => r !== undefined);
      assert.deepEqual([...registered].sort(), [...u.methodsRegistered].sort(), u.userPrincipalName);
      assert.equal(
        u.isMfaRegistered,
        registered.some((r) => STRONG.has(r)),
      );
      assert.equal(
        u.isPasswordlessCapable,
        registered.some((r) => r === 'passKeyDeviceBound' || r === 'windowsHelloForBusiness'),
      );
      for (const m of methods.filter((x) => x['@odata.type'] === '#microsoft.graph.phoneAuthenticationMethod')) {
        assert.equal(m.id, PHONE_METHOD_IDS[m.phoneType as keyof typeof PHONE_METHOD_IDS]);
        assert.match(m.phoneNumber, /^\+\d{1,3} \d{10}$/);
      }
    }
    for (const type of Object.keys(REGISTERED)) assert.ok(seen.has(type), `some user has a ${type}`);
  });

  test('typed collections list one type without the annotation; single methods by id; by user principal name', async () => {
    const { p } = find((plan) => phone(plan, 'mobile') && has(plan, 'microsoftAuthenticatorMethods'));
    const phones = await graph(`/v1.0/users/${p.id}/authentication/phoneMethods`);
    assert.equal(phones.status, 200);
    assert.equal(
      phones.body['@odata.context'],
      `${t.sim.url}/v1.0/$metadata#users('${p.id}')/authentication/phoneMethods`,
    );
    assert.ok(phones.body.value.length >= 1);
    for (const m of phones.body.value) {
      assert.equal(m['@odata.type'], undefined);
      assert.deepEqual(conformsToMetadata(m, 'phoneAuthenticationMethod', meta), []);
    }
    const apps = await graph(`/v1.0/users/${p.userPrincipalName}/authentication/microsoftAuthenticatorMethods`);
    assert.equal(apps.body.value.length, 1);
    assert.deepEqual(conformsToMetadata(apps.body.value[0], 'microsoftAuthenticatorAuthenticationMethod', meta), []);
    const password = await graph(`/v1.0/users/${p.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`);
    assert.equal(password.status, 200);
    assert.equal(
      password.body['@odata.context'],
      `${t.sim.url}/v1.0/$metadata#users('${p.id}')/authentication/passwordMethods/$entity`,
    );
    assert.equal(password.body.password, null, 'a password is never returned');
    const one = await graph(`/v1.0/users/${p.id}/authentication/methods/${PHONE_METHOD_IDS.mobile}`);
    assert.equal(one.body['@odata.type'], '#microsoft.graph.phoneAuthenticationMethod');
    assert.equal(one.body.phoneType, 'mobile');
    const none = await graph(`/v1.0/users/${p.id}/authentication/temporaryAccessPassMethods`);
    assert.deepEqual(none.body.value, []);
  });

  test('unknown user 404, unknown collection 400, unknown method 404; permissions', async () => {
    const { p } = find(() => true);
    const ghost = '8c14a998-3c8d-4c52-ad09-c9032671ea31';
    assertGraphError(
      await graph(`/v1.0/users/${ghost}/authentication/methods`),
      404,
      'Request_ResourceNotFound',
      `Resource '${ghost}' does not exist or one of its queried reference-property objects are not present.`,
    );
    assertGraphError(
      await graph(`/v1.0/users/${p.id}/authentication/smokeSignalMethods`),
      400,
      'BadRequest',
      "Resource not found for the segment 'smokeSignalMethods'.",
    );
    assertGraphError(
      await graph(`/v1.0/users/${p.id}/authentication/phoneMethods/${ghost}`),
      404,
      'Request_ResourceNotFound',
    );
    assertGraphError(await del(p, 'phoneMethods', ghost), 404, 'Request_ResourceNotFound');
    // only the typed path deletes: the generic one is not a route of the MFA service
    const generic = await del(p, 'methods', PASSWORD_METHOD_ID);
    assertGraphError(generic, 404, 'UnknownError');
    assert.match(
      JSON.parse(generic.body.error.message).Message,
      /^No HTTP resource was found that matches the request URI/,
    );
    assertGraphError(
      await graph(`/v1.0/users/${p.id}/authentication/methods`, 'noconsent'),
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
  });

  test('DELETE needs UserAuthenticationMethod.ReadWrite.All: a read-only app is refused and nothing changes', async () => {
    const { p } = find((plan) => has(plan, 'microsoftAuthenticatorMethods'));
    const before = await graph(`/v1.0/users/${p.id}/authentication/methods`);
    const app = before.body.value.find(
      (m: Obj) => m['@odata.type'] === '#microsoft.graph.microsoftAuthenticatorAuthenticationMethod',
    );
    assertGraphError(
      await del(p, 'microsoftAuthenticatorMethods', app.id, 'readonly'),
      403,
      'Authorization_RequestDenied',
    );
    assertGraphError(
      await del(p, 'microsoftAuthenticatorMethods', app.id, 'noconsent'),
      403,
      'Authorization_RequestDenied',
    );
    assert.equal((await graph(`/v1.0/users/${p.id}/authentication/methods`)).text, before.text);
  });

  test('the password method is never deleted', async () => {
    const { p } = find(() => true);
    const res = await del(p, 'passwordMethods', PASSWORD_METHOD_ID);
    assertGraphError(res, 400, 'badRequest', /password authentication method cannot be deleted/);
    assert.equal(
      res.body.error.innerError.message,
      res.body.error.message,
      'the methods service repeats the message in innerError',
    );
  });

  test('the default phone method cannot go while other methods remain; it can go last', async () => {
    const { p, plan } = find(
      (pl) =>
        pl.preferred === 'sms' &&
        phone(pl, 'mobile') &&
        has(pl, 'microsoftAuthenticatorMethods') &&
        !phone(pl, 'alternateMobile'),
    );
    assertGraphError(
      await del(p, 'phoneMethods', PHONE_METHOD_IDS.mobile),
      400,
      'badRequest',
      'Cannot delete default method with other methods configured. Please change default method before deletion.',
    );
    for (const m of plan.methods.filter((x) => x.collection !== 'passwordMethods' && x.phoneType !== 'mobile')) {
      assert.equal((await del(p, m.collection, m.id)).status, 204, m.collection);
    }
    const last = await del(p, 'phoneMethods', PHONE_METHOD_IDS.mobile);
    assert.equal(last.status, 204);
    assert.equal(last.text, '');
  });

  test('no alternate mobile without a mobile: the mobile cannot go first', async () => {
    const { p } = find(
      (pl) => pl.preferred === 'voiceAlternateMobile' && phone(pl, 'mobile') && phone(pl, 'alternateMobile'),
    );
    assertGraphError(
      await del(p, 'phoneMethods', PHONE_METHOD_IDS.mobile),
      400,
      'badRequest',
      /alternateMobile number without a mobile number/,
    );
    // and the alternate is the default while the mobile remains: both refused
    assertGraphError(
      await del(p, 'phoneMethods', PHONE_METHOD_IDS.alternateMobile),
      400,
      'badRequest',
      /Cannot delete default method/,
    );
  });

  test('deleting the authenticator that was the default falls back to the phone in the report', async () => {
    const { p, plan } = find(
      (pl) =>
        pl.preferred === 'push' &&
        phone(pl, 'mobile') &&
        has(pl, 'microsoftAuthenticatorMethods') &&
        !has(pl, 'softwareOathMethods'),
    );
    assert.equal((await report(p)).userPreferredMethodForSecondaryAuthentication, 'push');
    const app = plan.methods.find((m) => m.collection === 'microsoftAuthenticatorMethods')!;
    assert.equal((await del(p, 'microsoftAuthenticatorMethods', app.id)).status, 204);
    const after = await report(p);
    assert.equal(after.userPreferredMethodForSecondaryAuthentication, 'sms');
    assert.ok(!after.methodsRegistered.includes('microsoftAuthenticatorPush'));
    assert.ok(after.isMfaRegistered);
  });

  test('Reset MFA: every deletable method deleted in an allowed order leaves the password alone, and the report follows', async () => {
    const { p, plan } = find(
      (pl) => has(pl, 'microsoftAuthenticatorMethods') && phone(pl, 'mobile') && pl.methods.length >= 4,
    );
    assert.ok((await report(p)).isMfaRegistered);
    const listed = (await graph(`/v1.0/users/${p.id}/authentication/methods`)).body.value as Obj[];
    const collectionOf = (type: string) =>
      `${type.replace('#microsoft.graph.', '').replace('AuthenticationMethod', '')}Methods`;
    // the default phone method last, as Microsoft's rule requires
    const order = listed
      .filter((m) => m.id !== PASSWORD_METHOD_ID)
      .sort((a, b) => Number(a.id === PHONE_METHOD_IDS.mobile) - Number(b.id === PHONE_METHOD_IDS.mobile));
    assert.equal(order.length, plan.methods.length - 1);
    for (const m of order)
      assert.equal((await del(p, collectionOf(m['@odata.type']), m.id)).status, 204, m['@odata.type']);
    const left = await graph(`/v1.0/users/${p.id}/authentication/methods`);
    assert.deepEqual(
      left.body.value.map((m: Obj) => m.id),
      [PASSWORD_METHOD_ID],
    );
    const after = await report(p);
    assert.equal(after.isMfaRegistered, false);
    assert.equal(after.isMfaCapable, false);
    assert.deepEqual(after.methodsRegistered, []);
    assert.equal(after.userPreferredMethodForSecondaryAuthentication, 'none');
    assert.equal(Date.parse(after.lastUpdatedDateTime), T0, 'updated when the methods were deleted');
    const noMfa = await graph(
      `${REPORT}?$filter=isMfaRegistered eq false and userPrincipalName eq '${p.userPrincipalName}'`,
    );
    assert.deepEqual(
      noMfa.body.value.map((u: Obj) => u.id),
      [p.id],
    );
    // deleted is deleted: a second DELETE is a 404; the writes log has every call
    assertGraphError(await del(p, 'phoneMethods', PHONE_METHOD_IDS.mobile), 404, 'Request_ResourceNotFound');
    const writes = (await t.control('GET', '/writes')).value as Obj[];
    const mine = writes.filter((w) => w.method === 'DELETE' && w.path.includes(p.id));
    assert.deepEqual(
      mine.map((w) => w.status),
      [...order.map(() => 204), 404],
    );
  });
});

describe('authentication methods and the registration report follow the run-time directory', () => {
  const sim = useSimulator({ throttle: 'off' });
  let t: TestSimulator;
  const graph = (path: string, init?: { method?: string; body?: unknown }) =>
    t.graph('contoso', init?.method ? 'readwrite' : 'readonly', path, init);
  /** Every record of the report (following nextLinks), for an optional query. */
  const reportAll = async (query = '') => (await graphPages(t, `${REPORT}${query}`)).flatMap((p) => p.value as Obj[]);
  before(() => {
    t = sim();
  });

  test('a user deleted through Graph or the control API has no methods (404) and leaves the report; restored, both are back', async () => {
    // DELETE /users refuses administrators; pick members without a role
    const [viaGraph, viaControl] = (await graph(`${REPORT}?$filter=isAdmin eq false and userType eq 'member'&$top=2`))
      .body.value as Obj[];
    const before = await graph(`/v1.0/users/${viaControl!.id}/authentication/methods`);
    assert.equal(before.status, 200);
    assert.equal((await graph(`/v1.0/users/${viaGraph!.id}`, { method: 'DELETE' })).status, 204);
    await t.control('DELETE', `/directory/users/${viaControl!.id}?tenant=contoso`);
    for (const u of [viaGraph!, viaControl!]) {
      assertGraphError(
        await graph(`/v1.0/users/${u.id}/authentication/methods`),
        404,
        'Request_ResourceNotFound',
        `Resource '${u.id}' does not exist or one of its queried reference-property objects are not present.`,
      );
      assertGraphError(
        await graph(`/v1.0/users/${u.userPrincipalName}/authentication/methods`),
        404,
        'Request_ResourceNotFound',
      );
      assertGraphError(
        await graph(`/v1.0/users/${u.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`),
        404,
        'Request_ResourceNotFound',
      );
      assertGraphError(
        await graph(`/v1.0/users/${u.id}/authentication/phoneMethods/${PHONE_METHOD_IDS.mobile}`, { method: 'DELETE' }),
        404,
        'Request_ResourceNotFound',
      );
      assertGraphError(await graph(`${REPORT}/${u.id}`), 404, 'Request_ResourceNotFound');
      assert.deepEqual((await graph(`${REPORT}?$filter=userPrincipalName eq '${u.userPrincipalName}'`)).body.value, []);
    }
    const ids = new Set((await reportAll()).map((r) => r.id));
    assert.equal(ids.size, t.tenant('contoso').userCount - 2);
    assert.ok(!ids.has(viaGraph!.id) && !ids.has(viaControl!.id));
    // restored from the deleted items: the same methods, and back in the report
    await t.control('POST', `/directory/users/${viaControl!.id}/restore`, { tenant: 'contoso' });
    assert.equal((await graph(`/v1.0/users/${viaControl!.id}/authentication/methods`)).text, before.text);
    assert.deepEqual((await graph(`${REPORT}/${viaControl!.id}`)).body.isMfaRegistered, viaControl!.isMfaRegistered);
  });

  test('a user added through the control API has only its password: listed in the report, without MFA, in $orderby order', async () => {
    const upn = 'nia.newcomer@contoso.example';
    const added = await t.control('POST', '/directory/users', {
      tenant: 'contoso',
      displayName: 'Nia Newcomer',
      userPrincipalName: upn,
    });
    const methods = await graph(`/v1.0/users/${added.id}/authentication/methods`);
    assert.equal(methods.status, 200, methods.text);
    assert.deepEqual(methods.body.value, [
      {
        '@odata.type': '#microsoft.graph.passwordAuthenticationMethod',
        id: PASSWORD_METHOD_ID,
        password: null,
        createdDateTime: added.createdDateTime,
      },
    ]);
    assert.deepEqual(
      (await graph(`/v1.0/users/${upn}/authentication/passwordMethods`)).body.value.map((m: Obj) => m.id),
      [PASSWORD_METHOD_ID],
    );
    assert.deepEqual((await graph(`/v1.0/users/${added.id}/authentication/phoneMethods`)).body.value, []);
    assertGraphError(
      await graph(`/v1.0/users/${added.id}/authentication/passwordMethods/${PASSWORD_METHOD_ID}`, { method: 'DELETE' }),
      400,
      'badRequest',
      /password authentication method cannot be deleted/,
    );

    const record = (await graph(`${REPORT}/${added.id}`)).body as Obj;
    assert.deepEqual(conformsToMetadata(record, 'userRegistrationDetails', meta), []);
    assert.equal(record.userPrincipalName, upn);
    assert.equal(record.userDisplayName, 'Nia Newcomer');
    assert.equal(record.userType, 'member');
    assert.equal(record.isAdmin, false);
    assert.equal(record.isMfaRegistered, false);
    assert.equal(record.isMfaCapable, false);
    assert.equal(record.isSsprRegistered, false);
    assert.deepEqual(record.methodsRegistered, []);
    assert.deepEqual(record.systemPreferredAuthenticationMethods, []);
    assert.equal(record.userPreferredMethodForSecondaryAuthentication, 'none');
    assert.deepEqual(
      (await graph(`${REPORT}?$filter=isMfaRegistered eq false and userPrincipalName eq '${upn}'`)).body.value.map(
        (r: Obj) => r.id,
      ),
      [added.id],
    );
    // by registration id only: /users/{userPrincipalName} is a users path, not the report's
    assertGraphError(await graph(`${REPORT}/${upn}`), 404, 'Request_ResourceNotFound');

    // ordered listings place it where its name sorts, across pages
    for (const [orderby, key] of [
      ['userPrincipalName', 'userPrincipalName'],
      ['userDisplayName desc', 'userDisplayName'],
    ] as const) {
      const records = await reportAll(`?$orderby=${orderby}&$top=7`);
      assert.equal(records.filter((r) => r.id === added.id).length, 1, orderby);
      const values = records.map((r) => (r[key] as string).toLowerCase());
      const sorted = [...values].sort();
      assert.deepEqual(values, orderby.endsWith('desc') ? sorted.reverse() : sorted, orderby);
    }
  });

  test('a renamed user shows its new name in the report and sorts by it', async () => {
    const users = (await graph('/v1.0/users?$select=id,onPremisesSyncEnabled&$top=999')).body.value as Obj[];
    const admins = new Set((await reportAll('?$filter=isAdmin eq true')).map((r) => r.id));
    // synced users' names are mastered on premises: a cloud-only user without a role
    const target = users.find((u) => u.onPremisesSyncEnabled === null && !admins.has(u.id))!;
    assert.equal(
      (await graph(`/v1.0/users/${target.id}`, { method: 'PATCH', body: { displayName: 'Aaaron Renamed' } })).status,
      204,
    );
    assert.equal((await graph(`${REPORT}/${target.id}`)).body.userDisplayName, 'Aaaron Renamed');
    const first = (await graph(`${REPORT}?$orderby=userDisplayName&$top=1`)).body.value as Obj[];
    assert.deepEqual(
      first.map((r) => r.id),
      [target.id],
    );
  });
});
