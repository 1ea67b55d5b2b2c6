// The simulated directory as Graph serves it: /users (default properties, $select, paging, $top
// limits, filters accepted and refused with Graph's bodies, signInActivity's permission, licence
// and throttle), /groups with members and nesting, and delta rounds for users and groups whose
// changes come from the control API — every response shaped like Microsoft's examples.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { personAt } from '../../src/simulator/data/people.js';
import { DAY } from '../../src/simulator/data/time.js';
import {
  compareShape,
  conformsToMetadata,
  loadGraphFixture,
  loadMetadata,
  type GraphMetadata,
} from '../helpers/graph-shape.js';
import { fetch } from 'undici';
import {
  assertGraphError,
  deltaRound,
  graphPages,
  isoLiteral,
  SIM_T0,
  startTestSimulator,
  tokenRequest,
  useSimulator,
  type TestSimulator,
} from '../helpers/simulator.js';

type Obj = Record<string, any>;
const DEFAULT_USER = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];
const GROUP_DEFAULT = Object.keys((loadGraphFixture('graph-v1/groups-list.json') as Obj).value[0]);
const fixture = (name: string) => loadGraphFixture(`graph-v1/${name}`) as Obj;
const errorFixture = (name: string) => loadGraphFixture(`errors/${name}`) as Obj;

const sim = useSimulator({ throttle: 'off' });
const deltaSim = useSimulator({ throttle: 'off', users: 450 });
const throttleSim = useSimulator({ throttle: 'microsoft' });
let meta: GraphMetadata;

/** Every item of a collection, through all its pages. */
const all = async (t: TestSimulator, path: string, headers?: Record<string, string>) =>
  (await graphPages(t, path, headers ? { headers } : {})).flatMap((p) => p.value as Obj[]);

/**
 * A Graph call with a token fresh from the token endpoint: after the simulated clock moves on,
 * MSAL's cached token (cached by real time) has expired in simulated time.
 */
async function fresh(t: TestSimulator, url: string): Promise<{ status: number; headers: Headers; body: Obj }> {
  const app = t.app('contoso', 'readonly');
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
  return { status: res.status, headers: res.headers as unknown as Headers, body: (await res.json()) as Obj };
}

function assertConforms(items: Obj[], type: string) {
  for (const item of items) assert.deepEqual(conformsToMetadata(item, type, meta), [], JSON.stringify(item));
}

describe('GET /users', () => {
  let t: TestSimulator;
  before(() => {
    t = sim();
    meta = loadMetadata();
  });

  test('without $select: exactly the documented default properties, shaped as users-list.json', async () => {
    const res = await t.graph('contoso', 'readonly', '/v1.0/users?$top=5');
    assert.equal(res.status, 200);
    assert.equal(res.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#users`);
    assert.equal(res.body.value.length, 5);
    for (const u of res.body.value) assert.deepEqual(Object.keys(u), DEFAULT_USER);
    // the fixture has no nextLink; ours pages on
    assert.deepEqual(compareShape(res.body, fixture('users-list.json'), '', { allowExtra: ['@odata.nextLink'] }), []);
    assertConforms(res.body.value, 'user');
    assert.match(res.headers.get('content-type') ?? '', /^application\/json;odata\.metadata=minimal/);
    assert.equal(res.headers.get('x-ms-resource-unit'), '1'); // users cost 2, $top under 20 takes one off
  });

  test('$select returns the selected properties (id always), with Graph types', async () => {
    const select =
      'displayName,accountEnabled,userType,createdDateTime,creationType,externalUserState,externalUserStateChangeDateTime,' +
      'onPremisesSyncEnabled,onPremisesLastSyncDateTime,department,signInSessionsValidFromDateTime,' +
      'lastPasswordChangeDateTime,assignedLicenses,identities,deletedDateTime,city';
    const users = await all(t, `/v1.0/users?$select=${select}`);
    assert.equal(users.length, 60);
    for (const u of users) assert.deepEqual(Object.keys(u).sort(), [...select.split(','), 'id'].sort());
    assertConforms(users, 'user');
    const guests = users.filter((u) => u.userType === 'Guest');
    assert.ok(guests.length > 0 && guests.length < 20, `guests ${guests.length}`);
    for (const g of guests) {
      assert.equal(g.creationType, 'Invitation');
      assert.ok(['PendingAcceptance', 'Accepted'].includes(g.externalUserState));
      assert.deepEqual(g.assignedLicenses, []);
    }
    for (const m of users.filter((u) => u.userType === 'Member')) {
      assert.equal(m.externalUserState, null);
      assert.ok(m.assignedLicenses.length >= 1);
      assert.equal(m.identities[0].signInType, 'userPrincipalName');
    }
    assert.ok(
      users.some((u) => u.onPremisesSyncEnabled === true) && users.some((u) => u.onPremisesSyncEnabled === null),
    );
    assert.ok(
      users.every((u) => u.city === null && u.deletedDateTime === null),
      'selected properties not generated read null',
    );
    const res = await t.graph('contoso', 'readonly', '/v1.0/users?$select=displayName,userType&$top=1');
    assert.equal(res.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#users(displayName,userType)`);
  });

  test('$select of an unknown property is 400; of a single-user-only property on the list, 501', async () => {
    assertGraphError(
      await t.graph('contoso', 'readonly', '/v1.0/users?$select=displayName,shoeSize'),
      400,
      'BadRequest',
      "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.",
    );
    const res = await t.graph('contoso', 'readonly', '/v1.0/users?$select=skills');
    assertGraphError(res, 501, 'NotImplemented', 'This operation target is not yet supported.');
    // the 2019 capture predates client-request-id in innerError
    assert.deepEqual(
      compareShape(res.body, errorFixture('graph-501-NotImplemented-delta-select.json'), '', {
        allowExtra: ['error.innerError.client-request-id'],
      }),
      [],
    );
  });

  test('paging through every user: the tenant count, no duplicates, stable ids, v1.0 and beta alike', async () => {
    const bodies = await graphPages(t, '/v1.0/users?$top=7');
    assert.equal(bodies.length, Math.ceil(60 / 7));
    const ids = bodies.flatMap((b) => b.value.map((u: Obj) => u.id));
    assert.equal(ids.length, t.tenant('contoso').userCount);
    assert.equal(new Set(ids).size, ids.length);
    for (const b of bodies.slice(0, -1))
      assert.match(b['@odata.nextLink'], new RegExp(`^${t.sim.url}/v1\\.0/users\\?\\$skiptoken=`));
    assert.equal(bodies.at(-1)!['@odata.nextLink'], undefined);
    const again = (await all(t, '/v1.0/users?$top=999')).map((u) => u.id);
    assert.deepEqual(again, ids);
    const beta = (await all(t, '/beta/users')).map((u) => u.id);
    assert.deepEqual(beta, ids);
    const one = await t.graph('contoso', 'readonly', '/v1.0/users');
    assert.equal(one.body.value.length, 60, 'default page 100 holds them all');
    assert.equal(one.body['@odata.nextLink'], undefined);
  });

  test('$top: 999 at most, 500 with signInActivity', async () => {
    assert.equal((await t.graph('contoso', 'readonly', '/v1.0/users?$top=999')).status, 200);
    assertGraphError(
      await t.graph('contoso', 'readonly', '/v1.0/users?$top=1000'),
      400,
      'Request_UnsupportedQuery',
      "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.",
    );
    assertGraphError(await t.graph('contoso', 'readonly', '/v1.0/users?$top=0'), 400, 'Request_UnsupportedQuery');
    assert.equal(
      (await t.graph('contoso', 'readonly', '/v1.0/users?$select=displayName,signInActivity&$top=500')).status,
      200,
    );
    assertGraphError(
      await t.graph('contoso', 'readonly', '/v1.0/users?$select=displayName,signInActivity&$top=501'),
      400,
      'Request_UnsupportedQuery',
      "Invalid page size specified: '501'. Must be between 1 and 500 inclusive.",
    );
    assertGraphError(
      await t.graph('contoso', 'readonly', '/v1.0/users?$skip=5'),
      400,
      'Request_BadRequest',
      "'$skip' is not supported by the service.",
    );
  });

  test('supported filters select exactly the matching users', async () => {
    const everyone = await all(
      t,
      '/v1.0/users?$select=userPrincipalName,userType,accountEnabled,createdDateTime,externalUserState&$top=999',
    );
    const ids = (list: Obj[]) => list.map((u) => u.id).sort();
    const filtered = async (f: string) => ids(await all(t, `/v1.0/users?$filter=${encodeURIComponent(f)}&$top=999`));
    assert.deepEqual(await filtered("userType eq 'Guest'"), ids(everyone.filter((u) => u.userType === 'Guest')));
    assert.deepEqual(await filtered('accountEnabled eq false'), ids(everyone.filter((u) => !u.accountEnabled)));
    assert.deepEqual(
      await filtered("externalUserState eq 'PendingAcceptance'"),
      ids(everyone.filter((u) => u.externalUserState === 'PendingAcceptance')),
    );
    const someone = everyone[17]!;
    assert.deepEqual(await filtered(`userPrincipalName eq '${someone.userPrincipalName.toUpperCase()}'`), [someone.id]);
    const prefix = someone.userPrincipalName.slice(0, 4);
    assert.deepEqual(
      await filtered(`startsWith(userPrincipalName,'${prefix}')`),
      ids(everyone.filter((u) => u.userPrincipalName.startsWith(prefix))),
    );
    assert.deepEqual(await filtered(`id eq '${someone.id}'`), [someone.id]);
    assert.deepEqual(
      await filtered(`id in ('${everyone[1]!.id}','${everyone[2]!.id}')`),
      ids([everyone[1]!, everyone[2]!]),
    );
    const cut = '2025-06-01T00:00:00Z';
    assert.deepEqual(
      await filtered(`createdDateTime ge ${cut}`),
      ids(everyone.filter((u) => u.createdDateTime >= cut)),
    );
    assert.deepEqual(
      await filtered(`createdDateTime le ${cut} and userType eq 'Member'`),
      ids(everyone.filter((u) => u.createdDateTime <= cut && u.userType === 'Member')),
    );
    // paging through a filter keeps the filter
    const guests = await graphPages(t, `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Member'")}&$top=10`);
    assert.ok(guests.length > 1);
    assert.ok(
      guests.every((p) => p.value.length > 0),
      'no empty pages',
    );
  });

  test('advanced operators need ConsistencyLevel: eventual, with Microsoft messages; unsupported clauses are refused', async () => {
    const ne = await t.graph('contoso', 'readonly', `/v1.0/users?$filter=${encodeURIComponent("userType ne 'Guest'")}`);
    assertGraphError(ne, 400, 'Request_UnsupportedQuery', "Filter operator 'NotEqualsMatch' is not supported.");
    assertGraphError(
      await t.graph(
        'contoso',
        'readonly',
        `/v1.0/users?$filter=${encodeURIComponent("endsWith(mail,'@contoso.example')")}`,
      ),
      400,
      'Request_UnsupportedQuery',
      "Operator 'endsWith' is not supported because the 'ConsistencyLevel:eventual' header is missing. " +
        'Refer to https://aka.ms/graph-docs/advanced-queries for more information',
    );
    assertGraphError(
      await t.graph('contoso', 'readonly', `/v1.0/users?$filter=${encodeURIComponent("not(userType eq 'Guest')")}`),
      400,
      'Request_UnsupportedQuery',
      /^Operator 'not' is not supported because the 'ConsistencyLevel:eventual' header is missing/,
    );
    const eventual = { ConsistencyLevel: 'eventual' };
    const members = await all(
      t,
      `/v1.0/users?$filter=${encodeURIComponent("userType ne 'Guest'")}&$select=userType`,
      eventual,
    );
    assert.ok(members.length > 40 && members.every((u) => u.userType === 'Member'));
    const byMail = await all(
      t,
      `/v1.0/users?$filter=${encodeURIComponent("endsWith(mail,'@contoso.example')")}&$select=mail`,
      eventual,
    );
    assert.ok(byMail.length > 0 && byMail.every((u) => u.mail.endsWith('@contoso.example')));
    assert.deepEqual(
      (
        await all(
          t,
          `/v1.0/users?$filter=${encodeURIComponent("not(userType eq 'Member')")}&$select=userType`,
          eventual,
        )
      ).map((u) => u.userType),
      members.length < 60 ? Array(60 - members.length).fill('Guest') : [],
    );

    assertGraphError(
      await t.graph('contoso', 'readonly', `/v1.0/users?$filter=${encodeURIComponent("city eq 'Paris'")}`),
      400,
      'Request_UnsupportedQuery',
      "Unsupported or invalid query filter clause specified for property 'city' of resource 'User'.",
    );
    assertGraphError(
      await t.graph(
        'contoso',
        'readonly',
        `/v1.0/users?$filter=${encodeURIComponent('createdDateTime gt 2025-01-01T00:00:00Z')}`,
      ),
      400,
      'Request_UnsupportedQuery',
      "Unsupported or invalid query filter clause specified for property 'createdDateTime' of resource 'User'.",
    );
    assertGraphError(
      await t.graph(
        'contoso',
        'readonly',
        `/v1.0/users?$filter=${encodeURIComponent("createdDateTime ge '2025-01-01T00:00:00Z'")}`,
      ),
      400,
      'Request_UnsupportedQuery',
    );
    assertGraphError(
      await t.graph('contoso', 'readonly', `/v1.0/users?$filter=${encodeURIComponent("shoeSize eq '9'")}`),
      400,
      'BadRequest',
      "Could not find a property named 'shoeSize' on type 'microsoft.graph.user'.",
    );
    assertGraphError(
      await t.graph('contoso', 'readonly', `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Guest' and")}`),
      400,
      'BadRequest',
      'Invalid filter clause',
    );
  });

  test('$search and $count need the header too (Microsoft bodies); with it they work', async () => {
    const search = await t.graph('contoso', 'readonly', `/v1.0/users?$search=${encodeURIComponent('"displayName:a"')}`);
    assert.equal(search.status, 400);
    assert.equal(
      search.body.error.message,
      errorFixture('graph-Request_UnsupportedQuery-search-needs-consistencylevel.json').error.message,
    );
    assert.deepEqual(
      compareShape(search.body, errorFixture('graph-Request_UnsupportedQuery-search-needs-consistencylevel.json')),
      [],
    );
    for (const path of ['/v1.0/users/$count', '/v1.0/users?$count=true']) {
      const count = await t.graph('contoso', 'readonly', path);
      assert.equal(count.status, 400, path);
      assert.equal(count.body.error.code, 'Request_BadRequest');
      assert.equal(
        count.body.error.message,
        errorFixture('graph-Request_BadRequest-count-not-supported.json').error.message,
      );
      assert.deepEqual(compareShape(count.body, errorFixture('graph-Request_BadRequest-count-not-supported.json')), []);
    }
    const eventual = { headers: { ConsistencyLevel: 'eventual' } };
    assert.equal((await t.graph('contoso', 'readonly', '/v1.0/users/$count', eventual)).text, '60');
    const counted = await t.graph(
      'contoso',
      'readonly',
      `/v1.0/users?$count=true&$top=5&$filter=${encodeURIComponent("userType eq 'Guest'")}`,
      eventual,
    );
    const guests = await all(t, `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Guest'")}`);
    assert.equal(counted.body['@odata.count'], guests.length);
    const first = guests[0]!;
    const found = await all(t, `/v1.0/users?$search=${encodeURIComponent(`"displayName:${first.givenName}"`)}`, {
      ConsistencyLevel: 'eventual',
    });
    assert.ok(
      found.some((u) => u.id === first.id) &&
        found.every((u) => u.displayName.toLowerCase().includes(first.givenName.toLowerCase())),
    );
  });

  test('GET /users/{id | userPrincipalName}; 404 with Graph body for an unknown user', async () => {
    const [someone, guest] = [
      (await all(t, '/v1.0/users?$top=999'))[9]!,
      (await all(t, `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Guest'")}`))[0]!,
    ];
    const byId = await t.graph('contoso', 'readonly', `/v1.0/users/${someone.id}`);
    assert.equal(byId.status, 200);
    assert.equal(byId.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#users/$entity`);
    assert.deepEqual(Object.keys(byId.body), ['@odata.context', ...DEFAULT_USER]);
    const byUpn = await t.graph(
      'contoso',
      'readonly',
      `/v1.0/users/${encodeURIComponent(guest.userPrincipalName)}?$select=id,userType`,
    );
    assert.deepEqual(byUpn.body, {
      '@odata.context': `${t.sim.url}/v1.0/$metadata#users(id,userType)/$entity`,
      id: guest.id,
      userType: 'Guest',
    });
    assert.match(guest.userPrincipalName, /#EXT#@/);
    const missing = '8c14a998-3c8d-4c52-ad09-c9032671ea31';
    assertGraphError(
      await t.graph('contoso', 'readonly', `/v1.0/users/${missing}`),
      404,
      'Request_ResourceNotFound',
      `Resource '${missing}' does not exist or one of its queried reference-property objects are not present.`,
    );
  });
});

describe('signInActivity', () => {
  let t: TestSimulator;
  before(() => {
    t = sim();
  });

  test('is shaped as users-list-signInActivity.json: absent for people who never signed in, old for stale accounts, recent for active people', async () => {
    const res = await t.graph(
      'contoso',
      'readonly',
      '/v1.0/users?$select=displayName,userPrincipalName,signInActivity&$top=500',
    );
    assert.equal(res.status, 200);
    assert.equal(
      res.body['@odata.context'],
      `${t.sim.url}/v1.0/$metadata#users(displayName,userPrincipalName,signInActivity)`,
    );
    // Microsoft's example predates lastSuccessfulSignIn*; those two are v1.0 schema properties.
    const extra = (p: string) => /^value\[\d+\]\.signInActivity\.lastSuccessfulSignIn(DateTime|RequestId)$/.test(p);
    // users who never signed in have no signInActivity at all
    const optional = (p: string) => /^value\[\d+\]\.signInActivity$/.test(p);
    assert.deepEqual(
      compareShape(res.body, fixture('users-list-signInActivity.json'), '', {
        allowExtra: extra,
        allowMissing: optional,
      }),
      [],
    );
    assertConforms(res.body.value, 'user');
    const tenant = t.tenant('contoso');
    const t0 = Date.parse(SIM_T0);
    let dormant = 0;
    let stale = 0;
    res.body.value.forEach((u: Obj, i: number) => {
      const p = personAt(tenant, i, t.sim.state.start);
      assert.equal(u.id, p.id);
      if (p.dormant) {
        dormant++;
        assert.equal(u.signInActivity, undefined);
        return;
      }
      const last = Date.parse(u.signInActivity.lastSignInDateTime);
      assert.match(u.signInActivity.lastSignInDateTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.match(u.signInActivity.lastSignInRequestId, /^[0-9a-f-]{36}$/);
      if (p.staleDays > 0) {
        stale++;
        assert.ok(last <= t0 - p.staleDays * DAY, `stale ${p.staleDays} days`);
      } else if (p.accountEnabled) {
        assert.ok(last <= t0 && last > t0 - 2 * DAY, `active user ${i} last ${u.signInActivity.lastSignInDateTime}`);
      }
      assert.ok(Date.parse(u.signInActivity.lastSuccessfulSignInDateTime) <= t0);
    });
    assert.ok(dormant > 0, 'some users never signed in');
    assert.ok(res.body.value.length - dormant > 40);
    assert.ok(stale >= 0);
  });

  test('needs AuditLog.Read.All (Authentication_MSGraphPermissionMissing) and P1/P2 (NonPremium); next pages are gated too', async () => {
    const path = '/v1.0/users?$select=displayName,signInActivity&$top=5';
    assertGraphError(
      await t.graph('contoso', 'noaudit', path),
      403,
      'Authentication_MSGraphPermissionMissing',
      'Calling principal does not have required MSGraph permissions AuditLog.Read.All',
    );
    assertGraphError(
      await t.graph('tailspin', 'readonly', path),
      403,
      'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      "Neither tenant is B2C or tenant doesn't have premium license",
    );
    assertGraphError(
      await t.graph(
        'tailspin',
        'readonly',
        `/v1.0/users?$filter=${encodeURIComponent('signInActivity/lastSignInDateTime le 2026-10-01T00:00:00Z')}`,
      ),
      403,
      'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    );
    assertGraphError(
      await t.graph('contoso', 'noconsent', '/v1.0/users'),
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
    const fabrikam = await t.graph('fabrikam', 'readonly', path);
    assert.equal(fabrikam.status, 200, 'P1 is enough');
    // the noaudit app reads users without signInActivity
    assert.equal((await t.graph('contoso', 'noaudit', '/v1.0/users?$select=displayName&$top=5')).status, 200);
    const first = await t.graph('contoso', 'readonly', path);
    assertGraphError(
      await t.graph('contoso', 'noaudit', first.body['@odata.nextLink']),
      403,
      'Authentication_MSGraphPermissionMissing',
    );
    assertGraphError(
      await t.graph('contoso', 'noaudit', `/v1.0/users/${first.body.value[0].id}?$select=signInActivity`),
      403,
      'Authentication_MSGraphPermissionMissing',
    );
  });

  test('filters on signInActivity alone (stale accounts), not mixed with other properties', async () => {
    const cut = isoLiteral(Date.parse(SIM_T0) - 30 * DAY);
    const stale = await all(
      t,
      `/v1.0/users?$filter=${encodeURIComponent(`signInActivity/lastSignInDateTime le ${cut}`)}&$select=signInActivity`,
    );
    const everyone = await all(t, '/v1.0/users?$select=signInActivity&$top=500');
    const expected = everyone.filter((u) => u.signInActivity && u.signInActivity.lastSignInDateTime <= cut);
    assert.deepEqual(stale.map((u) => u.id).sort(), expected.map((u) => u.id).sort());
    const tenant = t.tenant('contoso');
    const staleAccounts = [...Array(tenant.userCount).keys()]
      .map((i) => personAt(tenant, i, t.sim.state.start))
      .filter((p) => p.staleDays > 0);
    for (const p of staleAccounts)
      assert.ok(
        stale.some((u) => u.id === p.id),
        'every stale account is found',
      );
    assert.ok(stale.every((u) => u.signInActivity.lastSignInDateTime <= cut));
    assertGraphError(
      await t.graph(
        'contoso',
        'readonly',
        `/v1.0/users?$filter=${encodeURIComponent(`signInActivity/lastSignInDateTime le ${cut} and userType eq 'Member'`)}`,
      ),
      400,
      'Request_UnsupportedQuery',
      'Unsupported Query.',
    );
  });
});

describe('signInActivity throttling', () => {
  test('10 requests a minute per app and tenant; the 11th is 429 with Retry-After; other user reads are not counted', async () => {
    const t = throttleSim();
    for (let i = 0; i < 10; i++) {
      const res = await t.graph('contoso', 'readonly', '/v1.0/users?$select=displayName,signInActivity&$top=1');
      assert.equal(res.status, 200, `request ${i + 1}`);
    }
    const throttled = await t.graph('contoso', 'readonly', '/v1.0/users?$select=displayName,signInActivity&$top=1');
    assertGraphError(throttled, 429, 'TooManyRequests', 'Please retry again later.');
    const wait = Number(throttled.headers.get('retry-after'));
    assert.ok(wait > 0 && wait <= 60, `Retry-After ${wait}`);
    // the 2020 capture predates client-request-id in innerError
    assert.deepEqual(
      compareShape(throttled.body, errorFixture('graph-429-TooManyRequests-throttling.json'), '', {
        allowExtra: ['error.innerError.client-request-id'],
      }),
      [],
    );
    assert.equal(
      (await t.graph('contoso', 'readonly', '/v1.0/users?$top=1')).status,
      200,
      'plain user reads use the directory budget',
    );
    assert.equal(
      (await t.graph('contoso', 'readwrite', '/v1.0/users?$select=signInActivity&$top=1')).status,
      200,
      'the budget is per app',
    );
  });
});

describe('GET /groups and members', () => {
  let t: TestSimulator;
  let groups: Obj[];
  const named = (name: string) => groups.find((g) => g.displayName === name)!;
  before(async () => {
    t = sim();
    groups = await all(t, '/v1.0/groups?$top=999');
  });

  test('default properties as groups-list.json; paging; filters', async () => {
    const res = await t.graph('contoso', 'readonly', '/v1.0/groups?$top=5');
    assert.equal(res.status, 200);
    assert.equal(res.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#groups`);
    for (const g of res.body.value) assert.deepEqual(Object.keys(g), GROUP_DEFAULT);
    assert.deepEqual(compareShape(res.body, fixture('groups-list.json'), '', { allowExtra: ['@odata.nextLink'] }), []);
    assertConforms(groups, 'group');
    // a fixed core and one project group per 25 users
    assert.equal(groups.length, 18 + Math.ceil(60 / 25));
    const paged = (await all(t, '/v1.0/groups?$top=4')).map((g) => g.id);
    assert.deepEqual(
      paged,
      groups.map((g) => g.id),
    );
    assert.equal(new Set(paged).size, paged.length);
    assert.ok(named('All Company').groupTypes.includes('Unified') && named('All Company').mailEnabled);
    assert.equal(named('Tier 0 Administrators').isAssignableToRole, true);
    assert.equal(named('Sales Department').onPremisesSyncEnabled, true);
    const unified = await all(t, `/v1.0/groups?$filter=${encodeURIComponent("groupTypes/any(c:c eq 'Unified')")}`);
    assert.deepEqual(
      unified.map((g) => g.id).sort(),
      groups
        .filter((g) => g.groupTypes.includes('Unified'))
        .map((g) => g.id)
        .sort(),
    );
    const sec = await all(
      t,
      `/v1.0/groups?$filter=${encodeURIComponent("startsWith(displayName,'Tier') and securityEnabled eq true")}&$select=displayName`,
    );
    assert.deepEqual(sec, [{ id: named('Tier 0 Administrators').id, displayName: 'Tier 0 Administrators' }]);
    assertGraphError(
      await t.graph('contoso', 'readonly', `/v1.0/groups?$filter=${encodeURIComponent("theme eq 'x'")}`),
      400,
      'Request_UnsupportedQuery',
      "Unsupported or invalid query filter clause specified for property 'theme' of resource 'Group'.",
    );
    assertGraphError(await t.graph('contoso', 'readonly', '/v1.0/groups?$top=1000'), 400, 'Request_UnsupportedQuery');
  });

  test('GET /groups/{id}; 404 for an unknown group', async () => {
    const g = named('VPN Users');
    const res = await t.graph('contoso', 'readonly', `/v1.0/groups/${g.id}`);
    assert.equal(res.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#groups/$entity`);
    const { '@odata.context': _, ...rest } = res.body;
    assert.deepEqual(rest, g);
    assertGraphError(
      await t.graph('contoso', 'readonly', '/v1.0/groups/00000000-0000-4000-8000-000000000000/members'),
      404,
      'Request_ResourceNotFound',
    );
  });

  test('members: typed items with default properties (group-members.json), paged, consistent with the users they list', async () => {
    const allCompany = named('All Company');
    const first = await t.graph('contoso', 'readonly', `/v1.0/groups/${allCompany.id}/members?$top=10`);
    assert.equal(first.status, 200);
    assert.equal(first.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#directoryObjects`);
    assert.equal(first.headers.get('x-ms-resource-unit'), '2'); // members cost 3, $top under 20 takes one off
    // Microsoft's example is abridged to id and mail; Graph sends the type and the default properties
    const extraPath =
      /^value\[\d+\]\.(@odata\.type|businessPhones|displayName|givenName|jobTitle|mobilePhone|officeLocation|preferredLanguage|surname|userPrincipalName)$/;
    const extra = (p: string) => extraPath.test(p);
    assert.deepEqual(
      compareShape(first.body, fixture('group-members.json'), '', {
        allowExtra: (p) => extra(p) || p === '@odata.nextLink',
      }),
      [],
    );
    assertConforms(first.body.value, 'directoryObject');
    for (const m of first.body.value)
      assert.deepEqual(Object.keys(m), ['@odata.type', 'id', ...DEFAULT_USER.filter((k) => k !== 'id')]);
    const members = await all(t, `/v1.0/groups/${allCompany.id}/members?$top=7`);
    const memberUsers = (
      await all(t, `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Member'")}&$top=999`)
    ).map((u) => u.id);
    assert.deepEqual(
      members.map((m) => m.id),
      memberUsers,
    );
    assert.ok(members.every((m) => m['@odata.type'] === '#microsoft.graph.user'));
    const selected = await t.graph(
      'contoso',
      'readonly',
      `/v1.0/groups/${allCompany.id}/members?$select=displayName&$top=2`,
    );
    assert.deepEqual(Object.keys(selected.body.value[0]), ['@odata.type', 'id', 'displayName']);
  });

  test('nested groups, two levels deep: members lists groups as #microsoft.graph.group; transitiveMembers flattens once each', async () => {
    const [priv, tier0, breakGlass, helpdesk] = [
      'Privileged Access',
      'Tier 0 Administrators',
      'Emergency Access Accounts',
      'Helpdesk Operators',
    ].map(named);
    const direct = await all(t, `/v1.0/groups/${priv!.id}/members`);
    assert.deepEqual(
      direct.map((m) => [m['@odata.type'], m.id]),
      [
        ['#microsoft.graph.group', tier0!.id],
        ['#microsoft.graph.group', helpdesk!.id],
      ],
    );
    assert.deepEqual(Object.keys(direct[0]!), ['@odata.type', ...GROUP_DEFAULT]);
    assertConforms(direct, 'directoryObject');
    const tier0Members = await all(t, `/v1.0/groups/${tier0!.id}/members`);
    const admins = tier0Members.filter((m) => m['@odata.type'] === '#microsoft.graph.user');
    assert.equal(admins.length, t.tenant('contoso').globalAdmins);
    assert.deepEqual(
      tier0Members.filter((m) => m['@odata.type'] === '#microsoft.graph.group').map((m) => m.id),
      [breakGlass!.id],
    );
    const glass = await all(t, `/v1.0/groups/${breakGlass!.id}/members`);
    assert.equal(glass.length, 2);
    const helpdeskUsers = await all(t, `/v1.0/groups/${helpdesk!.id}/members`);

    const transitive = await t.graph('contoso', 'readonly', `/v1.0/groups/${priv!.id}/transitiveMembers?$top=3`);
    assert.equal(transitive.headers.get('x-ms-resource-unit'), '4'); // transitiveMembers cost 5
    const flat = await all(t, `/v1.0/groups/${priv!.id}/transitiveMembers?$top=3`);
    const ids = flat.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, 'each member once (the break-glass accounts are also Tier 0 members)');
    const expected = new Set([
      tier0!.id,
      helpdesk!.id,
      breakGlass!.id,
      ...admins.map((m) => m.id),
      ...glass.map((m) => m.id),
      ...helpdeskUsers.map((m) => m.id),
    ]);
    assert.deepEqual(new Set(ids), expected);
    const departments = await all(t, `/v1.0/groups/${named('All Departments').id}/transitiveMembers?$top=999`);
    const memberUsers = await all(t, `/v1.0/users?$filter=${encodeURIComponent("userType eq 'Member'")}&$top=999`);
    assert.equal(
      departments.filter((m) => m['@odata.type'] === '#microsoft.graph.user').length,
      memberUsers.length,
      'every member is in one department',
    );
  });
});

describe('delta: users', () => {
  let t: TestSimulator;
  before(() => {
    t = deltaSim();
  });

  test('initial round: every user once over pages of at most 200, default properties, nextLink then deltaLink (fixture shapes)', async () => {
    const round = await deltaRound(t, '/v1.0/users/delta');
    assert.equal(round.pages.length, 3);
    assert.ok(round.pages.every((p) => p.value.length <= 200));
    assert.equal(round.items.length, 450);
    assert.equal(new Set(round.items.map((u) => u.id)).size, 450);
    for (const u of round.items) assert.deepEqual(Object.keys(u), DEFAULT_USER);
    assert.match(round.pages[0]!['@odata.nextLink'], new RegExp(`^${t.sim.url}/v1\\.0/users/delta\\?\\$skiptoken=`));
    assert.match(round.deltaLink, new RegExp(`^${t.sim.url}/v1\\.0/users/delta\\?\\$deltatoken=`));
    assert.deepEqual(compareShape(round.pages[0], fixture('users-delta-default-properties.json')), []);
    assert.deepEqual(
      compareShape(round.pages.at(-1), fixture('users-delta-final-deltalink.json'), '', {
        allowExtra: (p) => /^value\[\d+\]\./.test(p),
      }),
      [],
    );
    assertConforms(round.items, 'user');
    const none = await t.graph('contoso', 'readonly', round.deltaLink);
    assert.deepEqual(none.body.value, []);
    assert.deepEqual(compareShape(none.body, fixture('users-delta-nochanges.json')), []);
  });

  test('$select is carried in the tokens; the first page names it in its context', async () => {
    const round = await deltaRound(t, '/v1.0/users/delta?$select=displayName,givenName,surname');
    assert.equal(round.pages[0]!['@odata.context'], `${t.sim.url}/v1.0/$metadata#users(displayName,givenName,surname)`);
    assert.equal(round.pages[1]!['@odata.context'], `${t.sim.url}/v1.0/$metadata#users`);
    for (const u of round.items) assert.deepEqual(Object.keys(u), ['displayName', 'givenName', 'surname', 'id']);
    assert.deepEqual(compareShape(round.pages[0], fixture('users-delta-initial-nextlink.json')), []);
    assert.equal(round.items.length, 450);
  });

  test('$deltatoken=latest: no data, a deltaLink from now', async () => {
    const res = await t.graph('contoso', 'readonly', '/v1.0/users/delta?$deltaToken=latest');
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.value, []);
    assert.deepEqual(compareShape(res.body, fixture('users-delta-nochanges.json')), []);
    assert.equal((await t.graph('contoso', 'readonly', res.body['@odata.deltaLink'])).body.value.length, 0);
  });

  test('$top, $orderby, $expand are refused; signInActivity cannot be tracked (501); $filter by id scopes the round', async () => {
    for (const q of ['$top=10', '$orderby=displayName', '$expand=manager']) {
      assertGraphError(
        await t.graph('contoso', 'readonly', `/v1.0/users/delta?${q}`),
        400,
        'Request_UnsupportedQuery',
        'Unsupported Query.',
      );
    }
    assertGraphError(
      await t.graph('contoso', 'readonly', '/v1.0/users/delta?$select=displayName,signInActivity'),
      501,
      'NotImplemented',
      'This operation target is not yet supported.',
    );
    assertGraphError(
      await t.graph('contoso', 'readonly', `/v1.0/users/delta?$filter=${encodeURIComponent("userType eq 'Guest'")}`),
      400,
      'Request_UnsupportedQuery',
    );
    const some = (await t.graph('contoso', 'readonly', '/v1.0/users?$top=3')).body.value as Obj[];
    const scoped = await deltaRound(
      t,
      `/v1.0/users/delta?$filter=${encodeURIComponent(`id eq '${some[0]!.id}' or id eq '${some[2]!.id}'`)}`,
    );
    assert.deepEqual(
      scoped.items.map((u) => u.id),
      [some[0]!.id, some[2]!.id],
    );
  });

  test('changes since a deltaLink, each exactly once: added, soft-deleted (changed), hard-deleted (deleted), restored, patched', async () => {
    const start = await deltaRound(t, '/v1.0/users/delta');
    const users = start.items;
    const [soft, hard, restored, patched] = [users[100]!, users[101]!, users[102]!, users[103]!];
    // restored: deleted in an earlier round, restored in this one
    await t.control('DELETE', `/directory/users/${restored.id}?tenant=contoso`);
    const mid = await deltaRound(t, start.deltaLink);
    assert.deepEqual(mid.items, [{ id: restored.id, '@removed': { reason: 'changed' } }]);

    const added = await t.control('POST', '/directory/users', {
      tenant: 'contoso',
      displayName: 'Nina Novak',
      userPrincipalName: 'nina.novak@contoso.example',
      department: 'Finance',
    });
    assert.equal(added.displayName, 'Nina Novak');
    const softDeleted = await t.control('DELETE', `/directory/users/${soft.id}?tenant=contoso`);
    assert.match(softDeleted.deletedDateTime, /^\d{4}-/);
    await t.control('DELETE', `/directory/users/${hard.id}?tenant=contoso&hard=true`);
    await t.control('POST', `/directory/users/${restored.id}/restore`, { tenant: 'contoso' });
    const patch = await t.graph('contoso', 'readwrite', `/v1.0/users/${patched.id}`, {
      method: 'PATCH',
      body: { userType: patched.userPrincipalName.includes('#EXT#') ? 'Member' : 'Guest' },
    });
    assert.equal(patch.status, 204);
    // a user changed twice still appears once
    await t.graph('contoso', 'readwrite', `/v1.0/users/${patched.id}`, {
      method: 'PATCH',
      body: { jobTitle: 'Analyst' },
    });

    const changes = await deltaRound(t, mid.deltaLink);
    const byId = new Map(changes.items.map((u) => [u.id, u]));
    assert.equal(changes.items.length, 5, JSON.stringify(changes.items));
    assert.equal(byId.size, 5);
    assert.deepEqual(byId.get(soft.id), { id: soft.id, '@removed': { reason: 'changed' } });
    assert.deepEqual(byId.get(hard.id), { id: hard.id, '@removed': { reason: 'deleted' } });
    assert.deepEqual(Object.keys(byId.get(restored.id)!), DEFAULT_USER, 'restored: current properties, no annotation');
    assert.deepEqual(byId.get(added.id), { ...Object.fromEntries(DEFAULT_USER.map((k) => [k, added[k]])) });
    assert.equal(byId.get(patched.id)!.jobTitle, 'Analyst');
    // Microsoft's example tracked displayName, givenName and surname only; this round has the defaults
    const defaults = (p: string) =>
      /^value\[\d+\]\.(businessPhones|jobTitle|mail|mobilePhone|officeLocation|preferredLanguage|userPrincipalName)$/.test(
        p,
      );
    assert.deepEqual(compareShape(changes.pages[0], fixture('users-delta.json'), '', { allowExtra: defaults }), []);
    assertConforms(changes.items, 'user');
    // and the directory agrees
    assert.equal((await t.graph('contoso', 'readonly', `/v1.0/users/${soft.id}`)).status, 404);
    assert.equal((await t.graph('contoso', 'readonly', `/v1.0/users/${added.id}`)).status, 200);
    const listed = (await all(t, '/v1.0/users?$top=999')).map((u) => u.id);
    assert.equal(listed.length, 450 - 2 + 1);
    assert.ok(
      !listed.includes(soft.id) &&
        !listed.includes(hard.id) &&
        listed.includes(restored.id) &&
        listed.includes(added.id),
    );
    // nothing new since
    assert.deepEqual((await deltaRound(t, changes.deltaLink)).items, []);
    // a fresh initial round lists the current users only
    const fresh = await deltaRound(t, '/v1.0/users/delta');
    assert.equal(fresh.items.length, 449);
  });

  test('with $select, changes to properties not selected do not surface', async () => {
    const start = await deltaRound(t, '/v1.0/users/delta?$select=displayName,userType');
    const cloudMembers = start.items.filter((u) => u.userType === 'Member');
    const target = cloudMembers.at(-1)!;
    await t.graph('contoso', 'readwrite', `/v1.0/users/${target.id}`, {
      method: 'PATCH',
      body: { usageLocation: 'DE' },
    });
    assert.deepEqual((await deltaRound(t, start.deltaLink)).items, []);
    await t.graph('contoso', 'readwrite', `/v1.0/users/${target.id}`, { method: 'PATCH', body: { userType: 'Guest' } });
    const round = await deltaRound(t, start.deltaLink);
    assert.deepEqual(round.items, [{ displayName: target.displayName, userType: 'Guest', id: target.id }]);
    assert.equal(
      round.pages[0]!['@odata.context'],
      `${t.sim.url}/v1.0/$metadata#users`,
      'a deltaLink request has no $select of its own',
    );
  });
});

/**
 * A groups/delta page without its nested-group references: Microsoft's examples show user members
 * only, so group references are checked against the schema (assertConforms) instead.
 */
function userRefsOnly(page: Obj): Obj {
  const copy = structuredClone(page);
  for (const entry of copy.value) {
    if (!entry['members@delta']) continue;
    entry['members@delta'] = entry['members@delta'].filter((m: Obj) => m['@odata.type'] === '#microsoft.graph.user');
    if (entry['members@delta'].length === 0) delete entry['members@delta'];
  }
  return copy;
}

describe('delta: groups', () => {
  let t: TestSimulator;
  let groups: Obj[];
  const named = (name: string) => groups.find((g) => g.displayName === name)!;
  before(async () => {
    t = deltaSim();
    groups = await all(t, '/v1.0/groups?$top=999');
  });

  test('initial round: every group with members@delta matching /members, large groups split over entries and pages', async () => {
    const round = await deltaRound(t, '/v1.0/groups/delta');
    assert.ok(round.pages.length >= 2, `pages ${round.pages.length}`);
    const members = new Map<string, string[]>();
    for (const entry of round.items) {
      members.set(entry.id, [
        ...(members.get(entry.id) ?? []),
        ...(entry['members@delta'] ?? []).map((m: Obj) => m.id),
      ]);
      for (const m of entry['members@delta'] ?? []) assert.deepEqual(Object.keys(m), ['@odata.type', 'id']);
    }
    assert.deepEqual([...members.keys()].sort(), groups.map((g) => g.id).sort());
    const allCompany = named('All Company');
    assert.ok(round.items.filter((e) => e.id === allCompany.id).length >= 1);
    for (const name of ['All Company', 'Privileged Access', 'Tier 0 Administrators', 'Project Aurora']) {
      const listed = (await all(t, `/v1.0/groups/${named(name).id}/members?$top=999`)).map((m) => m.id);
      assert.deepEqual(members.get(named(name).id), listed, name);
    }
    const priv = round.items.find((e) => e.id === named('Privileged Access').id)!;
    assert.deepEqual(
      priv['members@delta'].map((m: Obj) => m['@odata.type']),
      ['#microsoft.graph.group', '#microsoft.graph.group'],
    );
    // this round tracks the default properties; Microsoft's example selected two
    assert.deepEqual(
      compareShape(userRefsOnly(round.pages[0]!), fixture('groups-delta-initial-nextlink.json'), '', {
        allowExtra: (p) => /^value\[\d+\]\.[a-zA-Z]+$/.test(p),
      }),
      [],
    );
    assertConforms(round.items, 'group');
  });

  test('membership changes arrive once per group: added members, removed members with @removed deleted, deleted users leave their groups', async () => {
    const start = await deltaRound(t, '/v1.0/groups/delta?$select=displayName,description,members');
    assert.equal(
      start.pages[0]!['@odata.context'],
      `${t.sim.url}/v1.0/$metadata#groups(displayName,description,members)`,
    );
    assert.deepEqual(compareShape(userRefsOnly(start.pages[0]!), fixture('groups-delta-initial-nextlink.json')), []);
    const vpn = named('VPN Users');
    const vpnMembers = (await all(t, `/v1.0/groups/${vpn.id}/members?$top=999`)).map((m) => m.id);
    const outsider = (await all(t, `/v1.0/users?$top=999&$filter=${encodeURIComponent("userType eq 'Member'")}`)).find(
      (u) => !vpnMembers.includes(u.id),
    )!;
    await t.control('POST', `/directory/groups/${vpn.id}/members`, { tenant: 'contoso', id: outsider.id });
    await t.control('DELETE', `/directory/groups/${vpn.id}/members/${vpnMembers[0]}?tenant=contoso`);
    // a group nested at run time
    const glass = named('Emergency Access Accounts');
    await t.control('POST', `/directory/groups/${vpn.id}/members`, { tenant: 'contoso', id: glass.id });
    // a user in several groups is deleted: each of its groups reports it removed
    const leaver = vpnMembers[1]!;
    const leaverGroups: string[] = [];
    for (const g of groups)
      if ((await all(t, `/v1.0/groups/${g.id}/members?$top=999`)).some((m) => m.id === leaver)) leaverGroups.push(g.id);
    assert.ok(leaverGroups.length >= 3, 'All Company, a department, a project, VPN');
    await t.control('DELETE', `/directory/users/${leaver}?tenant=contoso`);

    const changes = await deltaRound(t, start.deltaLink);
    const ids = changes.items.map((e) => e.id);
    assert.equal(new Set(ids).size, ids.length, 'each group once');
    assert.deepEqual(new Set(ids), new Set([vpn.id, ...leaverGroups]));
    const vpnEntry = changes.items.find((e) => e.id === vpn.id)!;
    assert.deepEqual(Object.keys(vpnEntry), ['id', 'description', 'displayName', 'members@delta']);
    assert.deepEqual(vpnEntry['members@delta'], [
      { '@odata.type': '#microsoft.graph.user', id: outsider.id },
      { '@odata.type': '#microsoft.graph.user', id: vpnMembers[0], '@removed': { reason: 'deleted' } },
      { '@odata.type': '#microsoft.graph.group', id: glass.id },
      { '@odata.type': '#microsoft.graph.user', id: leaver, '@removed': { reason: 'deleted' } },
    ]);
    for (const g of changes.items.filter((e) => e.id !== vpn.id))
      assert.deepEqual(g['members@delta'], [
        { '@odata.type': '#microsoft.graph.user', id: leaver, '@removed': { reason: 'deleted' } },
      ]);
    assert.deepEqual(compareShape(userRefsOnly(changes.pages[0]!), fixture('groups-delta.json')), []);
    assertConforms(changes.items, 'group');
    // /members agrees
    const now = (await all(t, `/v1.0/groups/${vpn.id}/members?$top=999`)).map((m) => m.id);
    assert.ok(
      now.includes(outsider.id) && now.includes(glass.id) && !now.includes(vpnMembers[0]!) && !now.includes(leaver),
    );
    // restoring the user brings the memberships back, as additions
    await t.control('POST', `/directory/users/${leaver}/restore`, { tenant: 'contoso' });
    const back = await deltaRound(t, changes.deltaLink);
    assert.deepEqual(new Set(back.items.map((e) => e.id)), new Set(leaverGroups));
    for (const g of back.items)
      assert.deepEqual(g['members@delta'], [{ '@odata.type': '#microsoft.graph.user', id: leaver }]);
    // $expand=members (the older spelling) tracks membership too; other expansions are refused
    const expanded = await deltaRound(
      t,
      `/v1.0/groups/delta?$select=displayName&$expand=members&$filter=${encodeURIComponent(`id eq '${vpn.id}'`)}`,
    );
    assert.deepEqual(
      expanded.items.map((e) => Object.keys(e)),
      [['id', 'displayName', 'members@delta']],
    );
    assertGraphError(
      await t.graph('contoso', 'readonly', '/v1.0/groups/delta?$expand=owners'),
      400,
      'Request_UnsupportedQuery',
    );
    // without members selected, membership changes do not surface
    const noMembers = await deltaRound(t, '/v1.0/groups/delta?$select=displayName');
    await t.control('DELETE', `/directory/groups/${vpn.id}/members/${outsider.id}?tenant=contoso`);
    assert.deepEqual((await deltaRound(t, noMembers.deltaLink)).items, []);
  });
});

describe('delta token expiry', () => {
  let t: TestSimulator;
  before(() => {
    t = deltaSim();
  });

  test('delta tokens expire after 7 days: 410 Gone with a Location that restarts the sync', async () => {
    const round = await deltaRound(t, '/v1.0/users/delta?$select=displayName');
    const latest = (await t.graph('contoso', 'readonly', '/v1.0/groups/delta?$deltatoken=latest')).body[
      '@odata.deltaLink'
    ];
    await t.control('POST', '/clock/advance', { seconds: 6 * 86_400 });
    assert.equal((await fresh(t, round.deltaLink)).status, 200, 'still valid after 6 days');
    await t.control('POST', '/clock/advance', { seconds: 2 * 86_400 });
    const gone = await fresh(t, round.deltaLink);
    assertGraphError(
      gone,
      410,
      'resyncRequired',
      'The delta token is no longer valid, and the app must reset the sync state.',
    );
    const location = gone.headers.get('location')!;
    assert.equal(location, `${t.sim.url}/v1.0/users/delta?$deltatoken=&$select=displayName`);
    const restart = await fresh(t, location);
    assert.equal(restart.status, 200);
    assert.equal(restart.body.value.length, 200);
    assert.deepEqual(Object.keys(restart.body.value[0]), ['displayName', 'id']);
    const groupsGone = await fresh(t, latest);
    assertGraphError(groupsGone, 410, 'resyncRequired');
    assert.equal(groupsGone.headers.get('location'), `${t.sim.url}/v1.0/groups/delta?$deltatoken=`);
  });
});

describe('determinism', () => {
  test('two simulators with one seed serve byte-identical pages of users, groups and members', async () => {
    const a = await startTestSimulator({ seed: 42, throttle: 'off' });
    const b = await startTestSimulator({ seed: 42, throttle: 'off' });
    const c = await startTestSimulator({ seed: 43, throttle: 'off' });
    try {
      const same = async (path: string) => {
        const [ra, rb] = await Promise.all([
          a.graph('contoso', 'readonly', path),
          b.graph('contoso', 'readonly', path),
        ]);
        assert.equal(ra.status, 200);
        assert.equal(ra.text.replaceAll(a.sim.url, 'ROOT'), rb.text.replaceAll(b.sim.url, 'ROOT'), path);
        return ra;
      };
      const users = await same(
        '/v1.0/users?$top=25&$select=displayName,userType,createdDateTime,assignedLicenses,signInSessionsValidFromDateTime',
      );
      await same('/v1.0/users?$top=50');
      const groups = await same('/v1.0/groups?$top=50');
      await same(`/v1.0/groups/${groups.body.value[0].id}/members?$top=20`);
      await same('/v1.0/users/delta');
      const other = await c.graph(
        'contoso',
        'readonly',
        '/v1.0/users?$top=25&$select=displayName,userType,createdDateTime,assignedLicenses,signInSessionsValidFromDateTime',
      );
      assert.notEqual(
        other.text.replaceAll(c.sim.url, 'ROOT'),
        users.text.replaceAll(a.sim.url, 'ROOT'),
        'another seed, another directory',
      );
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
