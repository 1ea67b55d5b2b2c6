// GET auditLogs/signIns on the simulator: paging, filters, retention, gating and shape, checked
// against the simulator's ground truth and Microsoft's example payloads.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { compareShape, conformsToMetadata, loadGraphFixture, loadMetadata } from '../helpers/graph-shape.js';
import {
  assertGraphError,
  graphPages,
  isoLiteral as iso,
  SIM_T0,
  useSimulator,
  type TestSimulator,
} from '../helpers/simulator.js';
import { DAY, HOUR } from '../../src/simulator/data/time.js';

const sim = useSimulator({ throttle: 'off', scenario: 'attacks', users: 120 });
let t: TestSimulator;
const T0 = Date.parse(SIM_T0);

/** Follows nextLinks to the end; returns every record and the number of pages. */
async function all(path: string, app: 'readwrite' | 'readonly' = 'readwrite', version = 'v1.0') {
  const pages = await graphPages(t, `/${version}/${path}`, { app });
  return { records: pages.flatMap((p) => p.value), pages: pages.length };
}

describe('auditLogs/signIns', () => {
  before(() => {
    t = sim();
  });

  test('a window pages newest first through opaque next links, matching the ground truth exactly', async () => {
    const since = T0 - 6 * HOUR;
    const { records, pages } = await all(
      `auditLogs/signIns?$filter=createdDateTime ge ${iso(since)} and createdDateTime le ${iso(T0)}&$top=50`,
    );
    const truth = await t.control(
      'GET',
      `/truth/signins?tenant=contoso&since=${iso(since)}&until=${new Date(T0 + 1).toISOString()}&ids=true`,
    );
    assert.ok(truth.count > 100, `a busy window (${truth.count})`);
    assert.equal(records.length, truth.count);
    assert.equal(pages, Math.ceil(truth.count / 50));
    assert.deepEqual(new Set(records.map((r) => r.id)), new Set(truth.ids));
    const times = records.map((r) => Date.parse(r.createdDateTime));
    assert.ok(
      times.every((time, i) => i === 0 || time <= times[i - 1]!),
      'newest first',
    );
    assert.ok(times.every((time) => time >= since && time <= T0));
    assert.ok(
      records.every((r) => r.isInteractive === true),
      'v1.0 lists interactive sign-ins only',
    );
  });

  test('the next link carries the query: only $top and an opaque, signed $skiptoken', async () => {
    const first = await t.graph(
      'contoso',
      'readwrite',
      `/v1.0/auditLogs/signIns?$top=5&$filter=status/errorCode eq 50126`,
    );
    const next = new URL(first.body['@odata.nextLink']);
    assert.equal(next.pathname, '/v1.0/auditLogs/signIns');
    assert.deepEqual([...next.searchParams.keys()], ['$top', '$skiptoken']);
    const second = await t.graph('contoso', 'readwrite', next.href);
    assert.ok(second.body.value.every((r: any) => r.status.errorCode === 50126));
    const tampered = new URL(next.href);
    tampered.searchParams.set('$skiptoken', `${next.searchParams.get('$skiptoken')!.slice(0, -2)}xx`);
    assert.equal((await t.graph('contoso', 'readwrite', tampered.href)).status, 400);
  });

  test('supported filters select exactly the matching records', async () => {
    const sample = (await t.graph('contoso', 'readwrite', '/v1.0/auditLogs/signIns?$top=1')).body.value[0];
    const byUser = await all(
      `auditLogs/signIns?$filter=userId eq '${sample.userId}' and createdDateTime ge ${iso(T0 - DAY)}`,
    );
    assert.ok(byUser.records.length >= 1 && byUser.records.every((r) => r.userId === sample.userId));
    const byApp = await t.graph(
      'contoso',
      'readwrite',
      `/v1.0/auditLogs/signIns?$filter=startsWith(appDisplayName,'microsoft t')&$top=20`,
    );
    assert.ok(
      byApp.body.value.length > 0 && byApp.body.value.every((r: any) => r.appDisplayName === 'Microsoft Teams'),
    );
    const at = await t.graph(
      'contoso',
      'readwrite',
      `/v1.0/auditLogs/signIns?$filter=createdDateTime eq ${sample.createdDateTime.slice(0, 23)}Z and id eq '${sample.id}'`,
    );
    assert.deepEqual(
      at.body.value.map((r: any) => r.id),
      [sample.id],
    );
  });

  test('unsupported or malformed filters get Graph\'s 400 "Invalid filter clause"', async () => {
    const bad = [
      `createdDateTime ge '${iso(T0 - HOUR)}'`, // dates are unquoted
      'status/errorCode ne 0',
      "userType eq 'Guest'",
      'createdDateTime ge',
      "endsWith(userPrincipalName,'x')",
      "signInEventTypes/any(t: t eq 'nonInteractiveUser')", // beta only
      `createdDateTime ge ${iso(T0 - 31 * DAY)}`, // beyond the 30-day retention
    ];
    for (const filter of bad) {
      assertGraphError(
        await t.graph('contoso', 'readwrite', `/v1.0/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`),
        400,
        'BadRequest',
        'Invalid filter clause',
      );
    }
    assertGraphError(
      await t.graph('contoso', 'readwrite', '/v1.0/auditLogs/signIns?$top=1001'),
      400,
      'Request_UnsupportedQuery',
    );
  });

  test('beta serves non-interactive, service-principal and managed-identity sign-ins through signInEventTypes/any()', async () => {
    const window = `createdDateTime ge ${iso(T0 - HOUR)} and createdDateTime le ${iso(T0)}`;
    for (const type of ['nonInteractiveUser', 'servicePrincipal', 'managedIdentity', 'interactiveUser']) {
      const { records } = await all(
        `auditLogs/signIns?$filter=${encodeURIComponent(`(${window}) and signInEventTypes/any(t: t eq '${type}')`)}`,
        'readwrite',
        'beta',
      );
      const truth = await t.control(
        'GET',
        `/truth/signins?tenant=contoso&eventType=${type}&since=${iso(T0 - HOUR)}&until=${new Date(T0 + 1).toISOString()}`,
      );
      assert.equal(records.length, truth.count, type);
      assert.ok(
        records.every((r) => r.signInEventTypes[0] === type && r.isInteractive === (type === 'interactiveUser')),
      );
    }
    const plain = await t.graph('contoso', 'readwrite', `/beta/auditLogs/signIns?$top=50`);
    assert.ok(
      plain.body.value.every((r: any) => r.signInEventTypes[0] === 'interactiveUser'),
      'beta without the filter lists interactive sign-ins',
    );
  });

  test('permissions and licences gate the logs as Microsoft does', async () => {
    assertGraphError(
      await t.graph('contoso', 'noaudit', '/v1.0/auditLogs/signIns?$top=1'),
      403,
      'Authentication_MSGraphPermissionMissing',
      'Calling principal does not have required MSGraph permissions AuditLog.Read.All',
    );
    assertGraphError(
      await t.graph('contoso', 'noconsent', '/v1.0/auditLogs/signIns?$top=1'),
      403,
      'Authentication_MSGraphPermissionMissing',
    );
    assertGraphError(
      await t.graph('tailspin', 'readwrite', '/v1.0/auditLogs/signIns?$top=1'),
      403,
      'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      "Neither tenant is B2C or tenant doesn't have premium license",
    );
    const p1 = (await t.graph('fabrikam', 'readwrite', '/v1.0/auditLogs/signIns?$top=20')).body.value;
    assert.ok(
      p1.length > 0 && p1.every((r: any) => r.riskLevelDuringSignIn === 'hidden' && r.riskDetail === 'hidden'),
      'risk reads "hidden" without P2',
    );
  });

  test('the access token is checked: missing, malformed, expired', async () => {
    const { fetch } = await import('undici');
    const url = `${t.sim.url}/v1.0/auditLogs/signIns?$top=1`;
    const missing = await fetch(url, { dispatcher: t.dispatcher });
    assert.equal(missing.status, 401);
    assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer realm=""/);
    assert.equal(((await missing.json()) as any).error.code, 'InvalidAuthenticationToken');
    const forged = await fetch(url, {
      headers: { authorization: 'Bearer eyJ0eXAiOiJKV1QifQ.e30.c2ln' },
      dispatcher: t.dispatcher,
    });
    assert.equal(((await forged.json()) as any).error.code, 'InvalidAuthenticationToken');
  });

  test("the v1.0 and beta records have the shape of Microsoft's examples and the v1.0 schema", async () => {
    const meta = loadMetadata();
    const v1 = (await t.graph('contoso', 'readwrite', '/v1.0/auditLogs/signIns?$top=200')).body;
    const fixture = loadGraphFixture('graph-v1/signins-list.json') as any;
    // Microsoft's example predates properties today's v1.0 schema has: every record carries each
    // property the schema's signIn declares (conformsToMetadata rejects any it does not)
    const newer = [
      'riskEventTypes_v2',
      'userAgent',
      'homeTenantId',
      'resourceTenantId',
      'authenticationAppDeviceDetails',
      'servicePrincipalId',
      'servicePrincipalName',
    ];
    assert.deepEqual(compareShape({ ...v1, value: v1.value.slice(0, 1) }, fixture, '', { allowExtra: newer }), []);
    const declared = [...meta.properties('signIn')!.keys()].sort();
    for (const r of v1.value) {
      assert.deepEqual(conformsToMetadata(r, 'signIn', meta), []);
      assert.deepEqual(Object.keys(r).sort(), declared);
    }
    const beta = (await t.graph('contoso', 'readwrite', '/beta/auditLogs/signIns?$top=5')).body;
    const betaFixture = loadGraphFixture('graph-v1/beta/signins-list.json') as any;
    // Microsoft's beta example has empty geoCoordinates; real records carry the coordinates.
    const coordinates = (path: string) => path.startsWith('value[0].location.geoCoordinates.');
    assert.deepEqual(
      compareShape({ ...beta, value: beta.value.slice(0, 1) }, { ...betaFixture, '@odata.nextLink': 'x' }, '', {
        allowExtra: coordinates,
      }),
      [],
    );
  });

  test("the attack scenario's incidents are in the logs, labelled in the ground truth", async () => {
    const { value: incidents } = await t.control('GET', '/truth/incidents?tenant=contoso');
    const kinds = new Set(incidents.map((i: any) => i.kind));
    for (const kind of [
      'password-spray',
      'brute-force-then-success',
      'mfa-fatigue-then-success',
      'impossible-travel',
      'new-country',
      'legacy-authentication',
      'inactive-account-probing',
      'disabled-account-sign-in',
      'risky-user',
    ]) {
      assert.ok(kinds.has(kind), kind);
    }
    const spray = incidents.find((i: any) => i.kind === 'password-spray');
    const { records } = await all(
      `auditLogs/signIns?$filter=ipAddress eq '${spray.ipAddress}' ` +
        `and createdDateTime ge ${iso(Date.parse(spray.start))} and createdDateTime le ${iso(Date.parse(spray.end) + 1000)}`,
    );
    assert.deepEqual(new Set(records.map((r) => r.id)), new Set(spray.signInIds));
    assert.equal(new Set(records.map((r) => r.userId)).size, 25);
    assert.ok(records.every((r) => r.status.errorCode === 50126));
  });
});
