// Remediation writes on the simulated directory: PATCH /users/{id} (userType and friends), DELETE
// /users/{id} (soft delete) and POST /users/{id}/revokeSignInSessions — their Graph responses,
// their refusals (permissions, administrators, synced users, bad bodies, unknown users) and their
// effect on what later reads and delta rounds return.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { fetch } from 'undici';
import { personAt, type Person } from '../../src/simulator/data/people.js';
import { isAdmin } from '../../src/simulator/data/roles.js';
import { compareShape, loadGraphFixture } from '../helpers/graph-shape.js';
import {
  assertGraphError,
  deltaRound,
  SIM_T0,
  tokenRequest,
  useSimulator,
  type TestSimulator,
} from '../helpers/simulator.js';

type Obj = Record<string, any>;
const sim = useSimulator({ throttle: 'off' });
let t: TestSimulator;
let people: Person[];

/** The first person that fits, who is no administrator of any kind. */
const pick = (fits: (p: Person) => boolean, skip = 0): Person =>
  people.filter((p) => fits(p) && !isAdmin(t.tenant('contoso'), p, t.sim.state.start))[skip]!;
const write = (
  method: string,
  path: string,
  body?: unknown,
  app: 'readwrite' | 'readonly' | 'noconsent' = 'readwrite',
) => t.graph('contoso', app, path, { method, ...(body !== undefined ? { body } : {}) });
const read = (path: string) => t.graph('contoso', 'readonly', path);

const notFoundMessage = (id: string) =>
  `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`;
const DENIED = 'Insufficient privileges to complete the operation.';

describe('user writes', () => {
  before(() => {
    t = sim();
    const tenant = t.tenant('contoso');
    people = [...Array(tenant.userCount).keys()].map((i) => personAt(tenant, i, t.sim.state.start));
  });

  test('PATCH userType: 204 without a body, visible in reads, filters and the next delta round', async () => {
    const guest = pick((p) => p.userType === 'Guest');
    const before = await deltaRound(t, '/v1.0/users/delta?$select=userType,displayName');
    const res = await write('PATCH', `/v1.0/users/${guest.id}`, { userType: 'Member' });
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assert.equal((await read(`/v1.0/users/${guest.id}?$select=userType`)).body.userType, 'Member');
    const guests = await read(`/v1.0/users?$filter=${encodeURIComponent("userType eq 'Guest'")}&$top=999`);
    assert.ok(!guests.body.value.some((u: Obj) => u.id === guest.id));
    const round = await deltaRound(t, before.deltaLink);
    assert.deepEqual(round.items, [{ displayName: guest.displayName, userType: 'Member', id: guest.id }]);
    // and back, addressing the user by userPrincipalName
    assert.equal(
      (await write('PATCH', `/v1.0/users/${encodeURIComponent(guest.userPrincipalName)}`, { userType: 'Guest' }))
        .status,
      204,
    );
    assert.equal((await read(`/v1.0/users/${guest.id}?$select=userType`)).body.userType, 'Guest');
    const log = (await t.control('GET', '/writes')).value as Obj[];
    assert.deepEqual(
      log.filter((w) => w.method === 'PATCH').map((w) => [w.status, w.body]),
      [
        [204, { userType: 'Member' }],
        [204, { userType: 'Guest' }],
      ],
    );
  });

  test('PATCH refuses bad bodies with Graph errors, all or nothing', async () => {
    const member = pick((p) => p.userType === 'Member' && !p.synced);
    const path = `/v1.0/users/${member.id}`;
    assertGraphError(
      await write('PATCH', path, { userType: 'Administrator' }),
      400,
      'Request_BadRequest',
      "Invalid value specified for property 'userType' of resource 'User'.",
    );
    assertGraphError(
      await write('PATCH', path, { accountEnabled: 'no' }),
      400,
      'Request_BadRequest',
      "Invalid value specified for property 'accountEnabled' of resource 'User'.",
    );
    assertGraphError(
      await write('PATCH', path, { shoeSize: 44 }),
      400,
      'Request_BadRequest',
      "Invalid property 'shoeSize'.",
    );
    assertGraphError(
      await write('PATCH', path, { createdDateTime: '2020-01-01T00:00:00Z' }),
      400,
      'Request_BadRequest',
      "Property 'createdDateTime' is read-only and cannot be set.",
    );
    assertGraphError(
      await write('PATCH', path, { displayName: null }),
      400,
      'Request_BadRequest',
      "A value is required for property 'displayName' of resource 'User'.",
    );
    assertGraphError(
      await write('PATCH', path, { userPrincipalName: 'someone@not-our-domain.example' }),
      400,
      'Request_BadRequest',
      'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
    );
    assertGraphError(
      await write('PATCH', path, { userPrincipalName: people[1]!.userPrincipalName }),
      400,
      'Request_BadRequest',
      'Another object with the same value for property userPrincipalName already exists.',
    );
    assertGraphError(
      await write('PATCH', path, { passwordProfile: { password: 'x' } }),
      501,
      'NotImplemented',
      'This operation target is not yet supported.',
    );
    assertGraphError(await write('PATCH', path), 400, 'BadRequest', 'Empty Payload. JSON content expected.');
    assertGraphError(
      await write('PATCH', path, { jobTitle: 'Chief Tester', userType: 'Contractor' }),
      400,
      'Request_BadRequest',
    );
    assert.equal((await read(`${path}?$select=jobTitle`)).body.jobTitle, member.jobTitle, 'nothing applied');
    assert.equal(
      (await write('PATCH', path, { jobTitle: 'Chief Tester', '@odata.type': '#microsoft.graph.user' })).status,
      204,
    );
    assert.equal((await read(`${path}?$select=jobTitle`)).body.jobTitle, 'Chief Tester');
  });

  test('PATCH userPrincipalName and mail: the user is found by the new name, no longer by the old; synced users refuse', async () => {
    const member = pick((p) => p.userType === 'Member' && !p.synced, 3);
    const renamed = `renamed.${member.index}@${t.tenant('contoso').domains[0]}`;
    const before = await deltaRound(t, '/v1.0/users/delta?$select=userPrincipalName,mail');
    assert.equal(
      (await write('PATCH', `/v1.0/users/${member.id}`, { userPrincipalName: renamed, mail: renamed })).status,
      204,
    );
    const byNew = await read(`/v1.0/users/${encodeURIComponent(renamed)}?$select=userPrincipalName,mail,identities`);
    assert.equal(byNew.status, 200);
    assert.equal(byNew.body.id, member.id);
    assert.equal(byNew.body.mail, renamed);
    assert.equal(byNew.body.identities[0].issuerAssignedId, renamed);
    assert.equal((await read(`/v1.0/users/${encodeURIComponent(member.userPrincipalName)}`)).status, 404);
    assert.deepEqual((await deltaRound(t, before.deltaLink)).items, [
      { userPrincipalName: renamed, mail: renamed, id: member.id },
    ]);
    const synced = pick((p) => p.userType === 'Member' && p.synced);
    assertGraphError(
      await write('PATCH', `/v1.0/users/${synced.id}`, {
        userPrincipalName: `x.${synced.index}@${t.tenant('contoso').domains[0]}`,
      }),
      400,
      'Request_BadRequest',
      'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
    );
  });

  test('PATCH: administrators and synced users are guarded as in Entra', async () => {
    const admin = people[0]!;
    assert.ok(admin.globalAdmin);
    assertGraphError(
      await write('PATCH', `/v1.0/users/${admin.id}`, { accountEnabled: false }),
      403,
      'Authorization_RequestDenied',
      DENIED,
    );
    const synced = pick((p) => p.synced);
    assertGraphError(
      await write('PATCH', `/v1.0/users/${synced.id}`, { department: 'Legal' }),
      400,
      'Request_BadRequest',
      'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
    );
    assert.equal(
      (await write('PATCH', `/v1.0/users/${synced.id}`, { userType: 'Member', usageLocation: 'FR' })).status,
      204,
      'userType is cloud-mastered',
    );
  });

  test('writes need User.ReadWrite.All (or Directory.ReadWrite.All); unknown users are 404', async () => {
    const member = pick((p) => p.userType === 'Member', 3);
    assertGraphError(
      await write('PATCH', `/v1.0/users/${member.id}`, { userType: 'Guest' }, 'readonly'),
      403,
      'Authorization_RequestDenied',
      DENIED,
    );
    assertGraphError(
      await write('DELETE', `/v1.0/users/${member.id}`, undefined, 'noconsent'),
      403,
      'Authorization_RequestDenied',
      DENIED,
    );
    assertGraphError(
      await write('POST', `/v1.0/users/${member.id}/revokeSignInSessions`, undefined, 'readonly'),
      403,
      'Authorization_RequestDenied',
      DENIED,
    );
    const missing = '8c14a998-3c8d-4c52-ad09-c9032671ea31';
    for (const [method, path] of [
      ['PATCH', `/v1.0/users/${missing}`],
      ['DELETE', `/v1.0/users/${missing}`],
      ['POST', `/v1.0/users/${missing}/revokeSignInSessions`],
    ] as const) {
      assertGraphError(
        await write(method, path, method === 'PATCH' ? { userType: 'Guest' } : undefined),
        404,
        'Request_ResourceNotFound',
        notFoundMessage(missing),
      );
    }
    assert.equal(
      (await read(`/v1.0/users/${member.id}?$select=userType`)).body.userType,
      'Member',
      'the refused writes changed nothing',
    );
  });

  test('DELETE: 204, gone from reads, @removed changed in delta, restorable; administrators refused', async () => {
    const before = await deltaRound(t, '/v1.0/users/delta');
    const victim = pick((p) => p.userType === 'Member', 5);
    const res = await write('DELETE', `/v1.0/users/${victim.id}`);
    assert.equal(res.status, 204);
    assert.equal(res.text, '');
    assertGraphError(
      await read(`/v1.0/users/${victim.id}`),
      404,
      'Request_ResourceNotFound',
      notFoundMessage(victim.id),
    );
    assertGraphError(await write('DELETE', `/v1.0/users/${victim.id}`), 404, 'Request_ResourceNotFound');
    const listed = await read('/v1.0/users?$top=999');
    assert.equal(listed.body.value.length, t.tenant('contoso').userCount - 1);
    assert.ok(!listed.body.value.some((u: Obj) => u.id === victim.id));
    const round = await deltaRound(t, before.deltaLink);
    assert.deepEqual(round.items, [{ id: victim.id, '@removed': { reason: 'changed' } }]);

    // Global Administrators and other role holders need more than User.ReadWrite.All
    assertGraphError(await write('DELETE', `/v1.0/users/${people[1]!.id}`), 403, 'Authorization_RequestDenied', DENIED);
    const roleHolder = people.find((p) => !p.globalAdmin && isAdmin(t.tenant('contoso'), p, t.sim.state.start));
    if (roleHolder)
      assertGraphError(
        await write('DELETE', `/v1.0/users/${roleHolder.id}`),
        403,
        'Authorization_RequestDenied',
        DENIED,
      );

    const restored = await t.control('POST', `/directory/users/${victim.id}/restore`, { tenant: 'contoso' });
    assert.equal(restored.id, victim.id);
    assert.equal(restored.deletedDateTime, null);
    assert.equal((await read(`/v1.0/users/${victim.id}`)).status, 200);
    const again = await deltaRound(t, round.deltaLink);
    assert.equal(again.items.length, 1);
    assert.equal(again.items[0]!.id, victim.id);
    assert.equal(again.items[0]!['@removed'], undefined);
  });

  test('revokeSignInSessions: 200 with the documented body; signInSessionsValidFromDateTime moves to now', async () => {
    const member = pick((p) => p.userType === 'Member', 7);
    const path = `/v1.0/users/${member.id}?$select=signInSessionsValidFromDateTime`;
    const beforeValue = (await read(path)).body.signInSessionsValidFromDateTime;
    const before = await deltaRound(t, '/v1.0/users/delta?$select=signInSessionsValidFromDateTime');
    const res = await write('POST', `/v1.0/users/${member.id}/revokeSignInSessions`);
    assert.equal(res.status, 200);
    const expected = loadGraphFixture('graph-v1/revokeSignInSessions.json') as Obj;
    assert.deepEqual(res.body, {
      ...expected,
      '@odata.context': expected['@odata.context'].replace('https://graph.microsoft.com', t.sim.url),
    });
    assert.deepEqual(compareShape(res.body, expected), []);
    const now = (await t.control('GET', '/clock')).now as string;
    assert.equal(now, SIM_T0);
    const after = (await read(path)).body.signInSessionsValidFromDateTime;
    assert.equal(after, SIM_T0.replace('.000Z', 'Z'));
    assert.notEqual(after, beforeValue);
    assert.deepEqual((await deltaRound(t, before.deltaLink)).items, [
      { signInSessionsValidFromDateTime: after, id: member.id },
    ]);
    // beta answers with its own context
    const beta = await write('POST', `/beta/users/${member.id}/revokeSignInSessions`);
    assert.equal(beta.body['@odata.context'], `${t.sim.url}/beta/$metadata#Edm.Boolean`);
  });

  test("a JSON content type with no body is accepted, as Graph does; a malformed body gets Graph's 400", async () => {
    const member = pick((p) => p.userType === 'Member', 8);
    const empty = await t.graph('contoso', 'readwrite', `/v1.0/users/${member.id}/revokeSignInSessions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(empty.status, 200);
    assert.equal(empty.body.value, true);
    const { fetch } = await import('undici');
    const broken = await fetch(`${t.sim.url}/v1.0/users/${member.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${await t.token('contoso', 'readwrite')}`, 'content-type': 'application/json' },
      body: '{"userType":',
      dispatcher: t.dispatcher,
    });
    assert.equal(broken.status, 400);
    const body = (await broken.json()) as Obj;
    assert.equal(body.error.code, 'BadRequest');
    assert.match(body.error.innerError['request-id'], /^[0-9a-f-]{36}$/);
  });

  test('revokeSignInSessions on a guest succeeds but revokes nothing: guests sign in at home', async () => {
    const guest = pick((p) => p.userType === 'Guest', 1);
    const path = `/v1.0/users/${guest.id}?$select=signInSessionsValidFromDateTime`;
    const beforeValue = (await read(path)).body.signInSessionsValidFromDateTime;
    const res = await write('POST', `/v1.0/users/${guest.id}/revokeSignInSessions`);
    assert.equal(res.status, 200);
    assert.equal(res.body.value, true);
    assert.equal((await read(path)).body.signInSessionsValidFromDateTime, beforeValue);
  });

  test('a deleted user is purged after 30 days: delta then says deleted, and it cannot be restored', async () => {
    // A client that syncs every 6 days keeps a valid deltaLink (tokens live 7 days).
    const app = t.app('contoso', 'readonly');
    const freshRead = async (url: string) => {
      const token = await tokenRequest(t, t.tenant('contoso').id, {
        grant_type: 'client_credentials',
        client_id: app.appId,
        client_secret: app.secrets[0]!.secretText,
        scope: `${t.sim.url}/.default`,
      });
      const res = await fetch(url, {
        headers: { authorization: `Bearer ${token.body.access_token}` },
        dispatcher: t.dispatcher,
      });
      return { status: res.status, body: (await res.json()) as Obj };
    };
    let link = (await deltaRound(t, '/v1.0/users/delta?$select=displayName')).deltaLink;
    const victim = pick((p) => p.userType === 'Member', 9);
    assert.equal((await write('DELETE', `/v1.0/users/${victim.id}`)).status, 204);
    const seen: Obj[][] = [];
    for (let step = 0; step < 5; step++) {
      await t.control('POST', '/clock/advance', { seconds: 6 * 86_400 });
      const res = await freshRead(link);
      assert.equal(res.status, 200);
      seen.push(res.body.value);
      link = res.body['@odata.deltaLink'];
    }
    assert.deepEqual(seen, [
      [{ id: victim.id, '@removed': { reason: 'changed' } }],
      [],
      [],
      [],
      [{ id: victim.id, '@removed': { reason: 'deleted' } }],
    ]);
    assert.equal((await freshRead(`${t.sim.url}/v1.0/users/${victim.id}`)).status, 404);
    await assert.rejects(t.control('POST', `/directory/users/${victim.id}/restore`, { tenant: 'contoso' }), /404/);
  });
});
