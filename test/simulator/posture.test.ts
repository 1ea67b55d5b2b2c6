// The simulator's posture and report resources over real HTTPS: app registrations, service
// principals, the MFA registration report, Identity Protection, conditional access, roles,
// Intune devices, licences, the organization and the directory audit log. Each is held to
// Microsoft's example payloads (compareShape) and the v1.0 schema (conformsToMetadata), and to
// its paging, $filter support, permission and licence gating, throttling and determinism.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import {
  compareShape,
  conformsToMetadata,
  loadGraphFixture,
  loadMetadata,
  type ShapeOptions,
} from '../helpers/graph-shape.js';
import {
  assertGraphError,
  graphPages,
  isoLiteral as iso,
  SIM_T0,
  startTestSimulator,
  useSimulator,
  type TestSimulator,
} from '../helpers/simulator.js';
import { DAY } from '../../src/simulator/data/time.js';
import type { AppState, SimTenant } from '../../src/simulator/tenants.js';

type Obj = Record<string, any>;
const meta = loadMetadata();
const fixture = (file: string) => loadGraphFixture(`graph-v1/${file}`) as Obj;
const T0 = Date.parse(SIM_T0);
const GA = '62e90394-69f5-4237-9190-012177145e10';
type Key = SimTenant['key'];

/** Every item conforms to the v1.0 schema for `type`. */
function assertSchema(items: Obj[], type: string) {
  assert.ok(items.length > 0, `some ${type} to check`);
  assert.deepEqual(
    items.flatMap((v, i) => conformsToMetadata(v, type, meta, {}, `value[${i}]`)),
    [],
  );
}

function assertShape(actual: unknown, expected: unknown, opts: ShapeOptions = {}) {
  assert.deepEqual(compareShape(actual, expected, '', opts), []);
}

const withoutContext = (o: Obj) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== '@odata.context'));

function makeClient(get: () => TestSimulator) {
  const graph = (path: string, tenant: Key = 'contoso', app: AppState = 'readonly') => get().graph(tenant, app, path);
  /** Follows nextLinks to the end: every record and the number of pages. */
  const all = async (path: string, tenant: Key = 'contoso', app: AppState = 'readonly') => {
    const pages = await graphPages(get(), path, { tenant, app });
    return { records: pages.flatMap((p) => p.value as Obj[]), pages: pages.length };
  };
  return { graph, all };
}

describe('posture resources (attacks scenario)', () => {
  const sim = useSimulator({ throttle: 'off', scenario: 'attacks' });
  let t: TestSimulator;
  const { graph, all } = makeClient(() => t);
  before(() => {
    t = sim();
  });

  describe('applications', () => {
    test("the shape of Microsoft's application example and the v1.0 schema; credentials as addPassword shows them, minus the secret", async () => {
      const res = await graph('/v1.0/applications');
      assert.equal(res.status, 200);
      // the list example is abridged (five properties): items are held to the full get example
      assertShape(res.body, {
        ...fixture('applications-list.json'),
        value: [withoutContext(fixture('application-get.json'))],
      });
      assertSchema(res.body.value, 'application');
      const secrets = res.body.value.flatMap((a: Obj) => a.passwordCredentials);
      assert.ok(secrets.length > 5);
      for (const s of secrets) assertShape(s, fixture('application-addPassword.json'));
      assert.ok(
        secrets.every((s: Obj) => s.secretText === null && /^.{3}$/.test(s.hint)),
        'never the secret value',
      );
      const certs = res.body.value.flatMap((a: Obj) => a.keyCredentials);
      assert.ok(
        certs.length >= 2 &&
          certs.every(
            (c: Obj) =>
              c.type === 'AsymmetricX509Cert' &&
              c.usage === 'Verify' &&
              c.key === null &&
              typeof c.endDateTime === 'string',
          ),
      );
    });

    test("the five idsight apps carry their real secrets' metadata; business apps expire soon, later and already", async () => {
      const { records } = await all(
        '/v1.0/applications?$select=id,appId,displayName,passwordCredentials,keyCredentials',
      );
      const tenant = t.tenant('contoso');
      for (const app of tenant.apps) {
        const a = records.find((r) => r.appId === app.appId)!;
        assert.equal(a.id, app.objectId);
        assert.deepEqual(
          a.passwordCredentials.map((p: Obj) => [p.keyId, p.hint, Date.parse(p.endDateTime)]),
          app.secrets.map((s) => [s.keyId, s.hint, s.endDateTime]),
        );
      }
      const daysLeft = records
        .flatMap((r) => r.passwordCredentials)
        .map((p: Obj) => (Date.parse(p.endDateTime) - T0) / DAY);
      assert.ok(
        daysLeft.some((d) => d > 25 && d <= 31),
        'a secret ending in about 30 days',
      );
      assert.ok(
        daysLeft.some((d) => d > 115 && d <= 121),
        'a secret ending in about 120 days',
      );
      assert.ok(
        daysLeft.some((d) => d < 0 && d > -30),
        'an expired secret',
      );
      const certDays = records.flatMap((r) => r.keyCredentials).map((c: Obj) => (Date.parse(c.endDateTime) - T0) / DAY);
      assert.ok(
        certDays.some((d) => d > 0 && d < 30) && certDays.some((d) => d < 0),
        'a certificate about to end and an expired one',
      );
      // $select keeps id and the selected properties, in resource order
      assert.deepEqual(Object.keys(records[0]!), [
        'id',
        'appId',
        'displayName',
        'keyCredentials',
        'passwordCredentials',
      ]);
    });

    test('$filter on appId (how idsight finds its own secrets), displayName eq and startsWith; others are refused', async () => {
      const app = t.app('contoso', 'readonly');
      const byAppId = await graph(`/v1.0/applications?$filter=appId eq '${app.appId}'&$select=id,passwordCredentials`);
      assert.equal(byAppId.status, 200);
      assert.deepEqual(
        byAppId.body.value.map((a: Obj) => a.id),
        [app.objectId],
      );
      assert.equal(byAppId.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#applications(id,passwordCredentials)`);
      const byName = await graph(`/v1.0/applications?$filter=displayName eq 'HR Portal'`);
      assert.deepEqual(
        byName.body.value.map((a: Obj) => a.displayName),
        ['HR Portal'],
      );
      const prefix = await graph(`/v1.0/applications?$filter=startsWith(displayName,'idsight')`);
      assert.equal(prefix.body.value.length, 5);
      assertGraphError(
        await graph(`/v1.0/applications?$filter=notes eq 'x'`),
        400,
        'Request_UnsupportedQuery',
        "Unsupported or invalid query filter clause specified for property 'notes' of resource 'Application'.",
      );
      assertGraphError(
        await graph(`/v1.0/applications?$filter=endsWith(displayName,'x')`),
        400,
        'Request_UnsupportedQuery',
        /property 'displayName'/,
      );
    });

    test('pages of $top through signed next links; one application by id; unknown id 404', async () => {
      const { records, pages } = await all('/v1.0/applications?$top=3');
      assert.equal(records.length, 5 + 8);
      assert.equal(pages, 5);
      assert.equal(new Set(records.map((r) => r.id)).size, records.length);
      const one = await graph(`/v1.0/applications/${records[6]!.id}`);
      assert.equal(one.status, 200);
      assert.equal(one.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#applications/$entity`);
      assert.deepEqual(withoutContext(one.body), records[6]);
      assertShape(one.body, fixture('application-get.json'));
      const missing = '8c14a998-3c8d-4c52-ad09-c9032671ea31';
      assertGraphError(
        await graph(`/v1.0/applications/${missing}`),
        404,
        'Request_ResourceNotFound',
        `Resource '${missing}' does not exist or one of its queried reference-property objects are not present.`,
      );
      assertGraphError(await graph('/v1.0/applications?$top=1000'), 400, 'Request_UnsupportedQuery');
    });

    test('directory gating: an app without consent is refused', async () => {
      assertGraphError(
        await graph('/v1.0/applications', 'contoso', 'noconsent'),
        403,
        'Authorization_RequestDenied',
        'Insufficient privileges to complete the operation.',
      );
      assertGraphError(
        await graph('/v1.0/servicePrincipals', 'contoso', 'noconsent'),
        403,
        'Authorization_RequestDenied',
      );
    });
  });

  describe('servicePrincipals', () => {
    test("one per application plus Microsoft's first-party ones, shaped as Microsoft's examples in v1.0", async () => {
      const { records } = await all('/v1.0/servicePrincipals');
      // the 2020 example still shows publisherName, gone from v1.0 (see graph-shape.test.ts); it
      // predates servicePrincipalType and signInAudience, which the minimal example shows
      const example = fixture('servicePrincipals-list.json').value[0];
      for (const sp of records)
        assertShape(sp, example, {
          allowMissing: ['publisherName'],
          allowExtra: ['servicePrincipalType', 'signInAudience'],
        });
      for (const sp of records)
        assertShape(sp, fixture('servicePrincipals-list-minimal.json').value[0], { allowExtra: () => true });
      assertSchema(records, 'servicePrincipal');
      const graphSp = records.find((r) => r.appId === '00000003-0000-0000-c000-000000000000')!;
      assert.equal(graphSp.displayName, 'Microsoft Graph');
      assert.equal(graphSp.appOwnerOrganizationId, 'f8cdef31-a31e-4b4a-93e4-5f571e91255a');
      assert.ok(records.some((r) => r.displayName === 'Office 365 Exchange Online'));
      const apps = (await all('/v1.0/applications')).records;
      for (const a of apps) assert.equal(records.filter((r) => r.appId === a.appId).length, 1);
      const own = t.app('contoso', 'readwrite');
      const filtered = await graph(`/v1.0/servicePrincipals?$filter=appId eq '${own.appId}'`);
      assert.deepEqual(
        filtered.body.value.map((s: Obj) => s.id),
        [own.servicePrincipalId],
      );
      assertGraphError(
        await graph(`/v1.0/servicePrincipals?$filter=homepage eq 'x'`),
        400,
        'Request_UnsupportedQuery',
        /'homepage' of resource 'ServicePrincipal'/,
      );
    });
  });

  describe('reports/authenticationMethods/userRegistrationDetails', () => {
    test("every user, in the shape of Microsoft's example and the schema, paged by next links", async () => {
      const first = await graph('/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=7');
      assert.equal(first.status, 200);
      assertShape(first.body, fixture('userRegistrationDetails-list.json'), { allowExtra: ['@odata.nextLink'] });
      const { records, pages } = await all('/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=7');
      assert.equal(records.length, t.tenant('contoso').userCount);
      assert.equal(pages, Math.ceil(records.length / 7));
      assert.equal(new Set(records.map((r) => r.id)).size, records.length);
      assertSchema(records, 'userRegistrationDetails');
      const unpaged = await graph('/v1.0/reports/authenticationMethods/userRegistrationDetails');
      assert.equal(unpaged.body.value.length, records.length);
      assert.equal(unpaged.body['@odata.nextLink'], undefined);
    });

    test('attack posture: several users and at least one Global Administrator without MFA; guests without MFA', async () => {
      const { records } = await all('/v1.0/reports/authenticationMethods/userRegistrationDetails');
      const noMfa = records.filter((r) => !r.isMfaRegistered);
      assert.ok(noMfa.length >= 5, `${noMfa.length} users without MFA`);
      assert.ok(
        noMfa.some((r) => r.isAdmin),
        'an admin without MFA',
      );
      assert.ok(records.some((r) => r.userType === 'guest' && !r.isMfaRegistered));
      // consistent fields: MFA registration follows the methods, the default follows MFA
      for (const r of records) {
        assert.equal(r.isMfaCapable, r.isMfaRegistered);
        assert.equal(r.userPreferredMethodForSecondaryAuthentication === 'none', !r.isMfaRegistered);
        assert.equal(r.isSsprCapable, r.isSsprEnabled && r.isSsprRegistered);
      }
      // isAdmin: the twelve Global Administrators and the other role holders
      assert.ok(records.filter((r) => r.isAdmin).length >= 12 + 9);
    });

    test('documented filters (and isAdmin, userType) work; others answer Invalid filter clause', async () => {
      const path = '/v1.0/reports/authenticationMethods/userRegistrationDetails';
      const { records } = await all(path);
      const check = async (filter: string, expected: Obj[]) => {
        const got = await all(`${path}?$filter=${filter}`);
        assert.deepEqual(
          got.records.map((r) => r.id),
          expected.map((r) => r.id),
          filter,
        );
      };
      await check(
        'isMfaRegistered eq false',
        records.filter((r) => !r.isMfaRegistered),
      );
      await check(
        'isAdmin eq true and isMfaRegistered eq false',
        records.filter((r) => r.isAdmin && !r.isMfaRegistered),
      );
      await check(
        `userType eq 'guest'`,
        records.filter((r) => r.userType === 'guest'),
      );
      await check(`userPrincipalName eq '${records[3]!.userPrincipalName}'`, [records[3]!]);
      await check(
        `startsWith(userDisplayName,'a')`,
        records.filter((r) => r.userDisplayName.toLowerCase().startsWith('a')),
      );
      await check(
        `methodsRegistered/any(m: m eq 'mobilePhone')`,
        records.filter((r) => r.methodsRegistered.includes('mobilePhone')),
      );
      await check(
        `userPreferredMethodForSecondaryAuthentication eq 'push'`,
        records.filter((r) => r.userPreferredMethodForSecondaryAuthentication === 'push'),
      );
      for (const bad of [
        `lastUpdatedDateTime ge ${iso(T0 - DAY)}`,
        `userDisplayName ne 'x'`,
        `endsWith(userPrincipalName,'x')`,
        'isMfaRegistered eq',
      ]) {
        assertGraphError(await graph(`${path}?$filter=${bad}`), 400, 'BadRequest', 'Invalid filter clause');
      }
    });

    test('$orderby userPrincipalName (the documented orders), carried across pages', async () => {
      const { records } = await all(
        '/v1.0/reports/authenticationMethods/userRegistrationDetails?$orderby=userPrincipalName desc&$top=9',
      );
      const upns = records.map((r) => r.userPrincipalName.toLowerCase());
      assert.deepEqual(upns, [...upns].sort().reverse());
      assert.equal(upns.length, t.tenant('contoso').userCount);
    });

    test('licence and permission gating: Free tenant 403, an app without consent 403', async () => {
      const path = '/v1.0/reports/authenticationMethods/userRegistrationDetails';
      assertGraphError(
        await graph(path, 'tailspin'),
        403,
        'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
        "Neither tenant is B2C or tenant doesn't have premium license",
      );
      assert.equal((await graph(path, 'fabrikam')).status, 200, 'P1 is enough');
      assertGraphError(await graph(path, 'contoso', 'noconsent'), 403, 'Authorization_RequestDenied');
      // UserAuthenticationMethod.Read.All is accepted as well as AuditLog.Read.All
      assert.equal((await graph(path, 'contoso', 'noaudit')).status, 200);
    });
  });

  describe('identity protection', () => {
    test("riskyUsers: the scenario's risky users at high risk, plus the baseline, shaped as Microsoft's example", async () => {
      const res = await graph('/v1.0/identityProtection/riskyUsers');
      assert.equal(res.status, 200);
      // the v1.0 example has type placeholders for values ("Boolean"): the beta example's realistic
      // values are used for the shape, and the v1.0 example for the @odata.type it annotates items with
      assertShape(res.body, fixture('beta/riskyUsers-list.json'), {
        allowExtra: ['@odata.context', 'value[].@odata.type'],
      });
      assertSchema(res.body.value, 'riskyUser');
      const v1Type = fixture('riskyUsers-list.json').value[0]['@odata.type'];
      assert.equal(v1Type, '#microsoft.graph.riskyUser');
      assert.ok(res.body.value.every((u: Obj) => u['@odata.type'] === v1Type && Object.keys(u)[0] === '@odata.type'));
      // beta's example has no annotation, and neither has beta
      const beta = await graph('/beta/identityProtection/riskyUsers');
      assertShape(beta.body, fixture('beta/riskyUsers-list.json'), { allowExtra: ['@odata.context'] });
      assert.ok(beta.body.value.length > 0);
      const incidents = (await t.control('GET', '/truth/incidents?tenant=contoso')).value as Obj[];
      const flagged = incidents.filter((i) => i.kind === 'risky-user').flatMap((i) => i.userIds);
      assert.ok(flagged.length >= 2);
      for (const id of flagged) assert.equal(res.body.value.find((u: Obj) => u.id === id)?.riskLevel, 'high');
      assert.ok(
        res.body.value.some((u: Obj) => u.riskState === 'remediated') &&
          res.body.value.some((u: Obj) => u.riskLevel === 'low'),
      );
      const high = await graph(
        `/v1.0/identityProtection/riskyUsers?$filter=riskLevel eq microsoft.graph.riskLevel'high'`,
      );
      assert.deepEqual(new Set(high.body.value.map((u: Obj) => u.id)), new Set(flagged));
      assertGraphError(
        await graph(`/v1.0/identityProtection/riskyUsers?$filter=isDeleted ne true`),
        400,
        'BadRequest',
        'Invalid filter clause',
      );
    });

    test('riskDetections reference the risky sign-ins: request id = sign-in id, correlation id as the sign-in log has it', async () => {
      const res = await graph('/v1.0/identityProtection/riskDetections?$top=500');
      assert.equal(res.status, 200);
      // Microsoft's v1.0 example annotates each item with its type, as v1.0 does (compareShape
      // compares @odata.type values), and writes tokenIssuerType as a display name ("Azure Active
      // Directory", see graph-shape.test.ts); its beta example has no annotation, nor has beta
      assertShape(res.body, fixture('riskDetections-list.json'), { allowExtra: ['@odata.context'] });
      assertSchema(res.body.value, 'riskDetection');
      assert.ok(res.body.value.every((d: Obj) => d['@odata.type'] === '#microsoft.graph.riskDetection'));
      const beta = await graph('/beta/identityProtection/riskDetections');
      assert.ok(beta.body.value.length > 0 && beta.body.value.every((d: Obj) => !('@odata.type' in d)));
      const incidents = (await t.control('GET', '/truth/incidents?tenant=contoso')).value as Obj[];
      const risky = incidents.find((i) => i.kind === 'risky-user')!;
      const fromSignIns = res.body.value.filter((d: Obj) => risky.signInIds.includes(d.requestId));
      assert.equal(
        fromSignIns.length,
        risky.signInIds.length,
        'one real-time detection per risky sign-in (anonymized IP)',
      );
      const signIn = await graph(`/v1.0/auditLogs/signIns?$filter=id eq '${fromSignIns[0].requestId}'`);
      assert.equal(signIn.body.value[0].correlationId, fromSignIns[0].correlationId);
      assert.equal(signIn.body.value[0].ipAddress, fromSignIns[0].ipAddress);
      assert.ok(
        res.body.value.some(
          (d: Obj) =>
            d.riskEventType === 'leakedCredentials' && d.detectionTimingType === 'offline' && d.requestId === null,
        ),
      );
    });

    test('riskDetections page by 20 by default (500 at most) and filter on user and time', async () => {
      const { records, pages } = await all('/v1.0/identityProtection/riskDetections');
      const first = await graph('/v1.0/identityProtection/riskDetections');
      assert.equal(first.body.value.length, Math.min(20, records.length));
      assert.equal(pages, Math.ceil(records.length / 20));
      const user = records[0]!.userId;
      const mine = await all(`/v1.0/identityProtection/riskDetections?$filter=userId eq '${user}'`);
      assert.deepEqual(
        mine.records,
        records.filter((r) => r.userId === user),
      );
      const recent = await all(
        `/v1.0/identityProtection/riskDetections?$filter=activityDateTime ge ${iso(T0 - 3 * DAY)}`,
      );
      assert.deepEqual(
        recent.records,
        records.filter((r) => Date.parse(r.activityDateTime) >= T0 - 3 * DAY),
      );
      assertGraphError(
        await graph('/v1.0/identityProtection/riskDetections?$top=501'),
        400,
        'Request_UnsupportedQuery',
      );
      assertGraphError(
        await graph(`/v1.0/identityProtection/riskDetections?$filter=additionalInfo eq 'x'`),
        400,
        'BadRequest',
        'Invalid filter clause',
      );
    });

    test('licence: P2 only (Free and P1 tenants get 403); permissions per API', async () => {
      for (const path of ['/v1.0/identityProtection/riskyUsers', '/v1.0/identityProtection/riskDetections']) {
        assertGraphError(await graph(path, 'tailspin'), 403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant');
        assertGraphError(await graph(path, 'fabrikam'), 403, 'Authentication_RequestFromNonPremiumTenantOrB2CTenant');
        assertGraphError(await graph(path, 'contoso', 'noconsent'), 403, 'Authorization_RequestDenied');
      }
    });

    test("conditional access: the policy plans in Microsoft's shape; the attack scenario has no legacy-authentication block", async () => {
      const res = await graph('/v1.0/identity/conditionalAccess/policies');
      assert.equal(res.status, 200);
      assertShape(res.body, fixture('conditionalAccessPolicies-list.json'));
      assertSchema(res.body.value, 'conditionalAccessPolicy');
      const admins = res.body.value.find((p: Obj) => p.displayName === 'Require MFA for administrators');
      assert.deepEqual(admins.conditions.users.includeRoles, [GA]);
      assert.deepEqual(admins.grantControls.builtInControls, ['mfa']);
      assert.equal(
        res.body.value.find((p: Obj) =>
          p.conditions.applications.includeApplications.includes('797f4846-ba00-4fd7-ba43-dac1f8f63013'),
        ).state,
        'enabledForReportingButNotEnforced',
      );
      assert.ok(!res.body.value.some((p: Obj) => p.conditions.clientAppTypes.includes('exchangeActiveSync')));
      const enabled = await graph(`/v1.0/identity/conditionalAccess/policies?$filter=state eq 'enabled'`);
      assert.deepEqual(
        enabled.body.value.map((p: Obj) => p.id),
        [admins.id],
      );
      assertGraphError(
        await graph('/v1.0/identity/conditionalAccess/policies', 'tailspin'),
        403,
        'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
      );
      assertGraphError(
        await graph('/v1.0/identity/conditionalAccess/policies', 'contoso', 'noconsent'),
        403,
        'Authorization_RequestDenied',
      );
    });
  });

  describe('roles', () => {
    test('role definitions: built-in roles with real template ids', async () => {
      const res = await graph('/v1.0/roleManagement/directory/roleDefinitions');
      assert.equal(res.status, 200);
      assertSchema(res.body.value, 'unifiedRoleDefinition');
      const byName = Object.fromEntries(res.body.value.map((r: Obj) => [r.displayName, r.templateId]));
      assert.equal(byName['Global Administrator'], GA);
      assert.equal(byName['Privileged Role Administrator'], 'e8611ab8-c189-46e8-94e1-60213ab1f814');
      assert.equal(byName['Security Administrator'], '194ae4cb-b126-40b2-bd5b-6091b380977d');
      assert.equal(byName['Helpdesk Administrator'], '729827e3-9c14-49f7-bb1b-9608f156bbb8');
      const one = await graph(`/v1.0/roleManagement/directory/roleDefinitions?$filter=templateId eq '${GA}'`);
      assert.deepEqual(
        one.body.value.map((r: Obj) => r.displayName),
        ['Global Administrator'],
      );
    });

    test('role assignments: twelve Global Administrators ("too many"), ids as Entra forms them, $expand=principal', async () => {
      const res = await graph(
        `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${GA}'&$expand=principal`,
      );
      assert.equal(res.status, 200);
      assert.equal(
        res.body['@odata.context'],
        `${t.sim.url}/v1.0/$metadata#roleManagement/directory/roleAssignments(principal())`,
      );
      assert.equal(res.body.value.length, 12);
      // Microsoft's example 1 (rbacapplication-list-roleassignments.md), its trailing commas removed;
      // resourceScope is not in the v1.0 schema and the principal is abridged to what the simulator renders
      const example = {
        '@odata.context':
          'https://graph.microsoft.com/v1.0/$metadata#roleManagement/directory/roleAssignments(principal())',
        value: [
          {
            id: 'lAPpYvVpN0KRkAEhdxReEMmO4KwRqtpKkUWt3wOYIz4-1',
            principalId: 'ace08ec9-aa11-4ada-9145-addf0398233e',
            resourceScope: '/',
            directoryScopeId: '/',
            roleDefinitionId: GA,
            principal: {
              '@odata.type': '#microsoft.graph.user',
              id: 'ace08ec9-aa11-4ada-9145-addf0398233e',
              accountEnabled: true,
              displayName: 'Joey Cruz',
              imAddresses: ['joeyc@contoso.com'],
              mail: 'joeyc@contoso.com',
              mailNickname: 'joeyc',
              userType: 'Member',
            },
          },
        ],
      };
      assertShape(res.body, example, {
        allowMissing: ['resourceScope', 'imAddresses', 'mailNickname'],
        allowExtra: ['userPrincipalName'],
      });
      assertSchema(res.body.value, 'unifiedRoleAssignment');
      for (const a of res.body.value) assert.ok(a.id.startsWith('lAPpYvVpN0KRkAEhdxReE') && a.id.endsWith('-1'), a.id);
      const users = await all('/v1.0/reports/authenticationMethods/userRegistrationDetails');
      const gaIds = new Set(res.body.value.map((a: Obj) => a.principalId));
      assert.ok([...gaIds].every((id) => users.records.find((u) => u.id === id)?.isAdmin));
      const everyone = await graph('/v1.0/roleManagement/directory/roleAssignments');
      const roles = new Set(everyone.body.value.map((a: Obj) => a.roleDefinitionId));
      for (const r of [
        'e8611ab8-c189-46e8-94e1-60213ab1f814',
        '194ae4cb-b126-40b2-bd5b-6091b380977d',
        '29232cdf-9323-42fd-ade2-1d097af3e4de',
        'fe930be7-5e62-47db-91af-98c3a49a38b1',
        '729827e3-9c14-49f7-bb1b-9608f156bbb8',
      ])
        assert.ok(roles.has(r), r);
      // the attack scenario's guest holding an administrator role
      const guests = new Set(users.records.filter((u) => u.userType === 'guest').map((u) => u.id));
      assert.ok(everyone.body.value.some((a: Obj) => guests.has(a.principalId)));
      const principal = await graph(
        `/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '${res.body.value[0].principalId}'`,
      );
      assert.deepEqual(
        principal.body.value.map((a: Obj) => a.roleDefinitionId),
        [GA],
      );
      assertGraphError(
        await graph('/v1.0/roleManagement/directory/roleAssignments?$expand=scope'),
        400,
        'BadRequest',
        /Could not find a property named 'scope'/,
      );
      assertGraphError(
        await graph(`/v1.0/roleManagement/directory/roleAssignments?$filter=appScopeId eq '/'`),
        400,
        'Request_UnsupportedQuery',
      );
    });

    test('directoryRoles: activated roles in one unpaged response; members of Global Administrator', async () => {
      const res = await graph('/v1.0/directoryRoles');
      assert.equal(res.status, 200);
      assert.equal(res.body['@odata.nextLink'], undefined);
      assertSchema(res.body.value, 'directoryRole');
      const ga = res.body.value.find((r: Obj) => r.roleTemplateId === GA);
      assert.equal(ga.displayName, 'Global Administrator');
      const members = await graph(`/v1.0/directoryRoles/${ga.id}/members`);
      assert.equal(members.status, 200);
      assert.equal(members.body.value.length, 12);
      assertSchema(members.body.value, 'directoryObject');
      assert.ok(members.body.value.every((m: Obj) => m['@odata.type'] === '#microsoft.graph.user'));
      assertGraphError(
        await graph('/v1.0/directoryRoles/00000000-0000-0000-0000-000000000001/members'),
        404,
        'Request_ResourceNotFound',
      );
      assertGraphError(await graph('/v1.0/directoryRoles', 'contoso', 'noconsent'), 403, 'Authorization_RequestDenied');
    });
  });

  describe('deviceManagement/managedDevices', () => {
    test("devices of users with a device id, in the shape of Microsoft's example, paged", async () => {
      const first = await graph('/v1.0/deviceManagement/managedDevices?$top=5');
      assert.equal(first.status, 200);
      // the example annotates each item with its type (compareShape compares the value); so does beta's
      assertShape(first.body, fixture('managedDevices-list.json'), {
        allowExtra: ['@odata.context', '@odata.nextLink'],
      });
      assert.ok(first.body.value.every((d: Obj) => d['@odata.type'] === '#microsoft.graph.managedDevice'));
      const beta = await graph('/beta/deviceManagement/managedDevices?$top=5');
      assertShape(beta.body, fixture('managedDevices-list.json'), {
        allowExtra: ['@odata.context', '@odata.nextLink'],
      });
      const { records, pages } = await all('/v1.0/deviceManagement/managedDevices?$top=25');
      assertSchema(records, 'managedDevice');
      assert.ok(pages > 1 && records.length > 30);
      assert.equal(new Set(records.map((r) => r.id)).size, records.length);
      assert.ok(records.some((r) => r.complianceState === 'noncompliant'));
      const users = (await all('/v1.0/reports/authenticationMethods/userRegistrationDetails')).records;
      assert.ok(
        records.every((d) => users.some((u) => u.id === d.userId && u.userPrincipalName === d.userPrincipalName)),
      );
      const mine = await all(`/v1.0/deviceManagement/managedDevices?$filter=userId eq '${records[0]!.userId}'`);
      assert.deepEqual(
        mine.records,
        records.filter((r) => r.userId === records[0]!.userId),
      );
    });

    test("a tenant without Intune: Intune's Forbidden error; without the permission: 403", async () => {
      const res = await graph('/v1.0/deviceManagement/managedDevices', 'fabrikam');
      assertGraphError(res, 403, 'UnknownError');
      const inner = JSON.parse(res.body.error.message);
      assert.equal(inner.ErrorCode, 'Forbidden');
      assert.match(JSON.parse(inner.Message).Message, /^An error has occurred - Operation ID/);
      assertGraphError(
        await graph('/v1.0/deviceManagement/managedDevices', 'contoso', 'noconsent'),
        403,
        'Authorization_RequestDenied',
      );
    });
  });

  describe('licences and the organization', () => {
    // Microsoft's example (subscribedsku-list.md): the first SKU, as published.
    const skuExample = {
      '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#subscribedSkus',
      value: [
        {
          accountName: 'Sample account One',
          accountId: 'f97aeefc-af85-414d-8ae4-b457f90efc40',
          appliesTo: 'User',
          capabilityStatus: 'Enabled',
          consumedUnits: 14,
          id: '48a80680-7326-48cd-9935-b556b81d3a4e_c7df2760-2c81-4ef7-b578-5b5392b571df',
          prepaidUnits: { enabled: 25, lockedOut: 0, suspended: 0, warning: 0 },
          servicePlans: [
            {
              servicePlanId: '8c098270-9dd4-4350-9b30-ba4703f3b36b',
              servicePlanName: 'ADALLOM_S_O365',
              provisioningStatus: 'Success',
              appliesTo: 'Company',
            },
          ],
          skuId: 'c7df2760-2c81-4ef7-b578-5b5392b571df',
          skuPartNumber: 'ENTERPRISEPREMIUM',
          subscriptionIds: ['43d26afe-cb98-48b9-acc4-ae3ef2ac6c51'],
        },
      ],
    };

    test('subscribedSkus follow the licence: P2 + Intune, P1, Free without any Entra premium plan', async () => {
      const parts = async (key: Key) => {
        const res = await graph('/v1.0/subscribedSkus', key);
        assert.equal(res.status, 200);
        assertShape(res.body, skuExample);
        assertSchema(res.body.value, 'subscribedSku');
        return res.body.value as Obj[];
      };
      const contoso = await parts('contoso');
      assert.deepEqual(
        contoso.map((s) => s.skuPartNumber),
        ['ENTERPRISEPACK', 'AAD_PREMIUM_P2', 'INTUNE_A'],
      );
      assert.equal(contoso[1]!.skuId, '84a661c4-e949-4bd2-a560-ed7766fcaf2b');
      assert.ok(
        contoso[1]!.servicePlans.some(
          (p: Obj) =>
            p.servicePlanName === 'AAD_PREMIUM_P2' && p.servicePlanId === 'eec0eb4f-6444-4f95-aba0-50c24d67f998',
        ),
      );
      assert.ok(
        contoso.every(
          (s) => s.prepaidUnits.enabled >= s.consumedUnits && s.id === `${t.tenant('contoso').id}_${s.skuId}`,
        ),
      );
      assert.deepEqual(
        (await parts('fabrikam')).map((s) => s.skuPartNumber),
        ['ENTERPRISEPACK', 'AAD_PREMIUM'],
      );
      const free = await parts('tailspin');
      assert.ok(!free.some((s) => s.servicePlans.some((p: Obj) => /^AAD_PREMIUM/.test(p.servicePlanName))));
      assertGraphError(
        await graph("/v1.0/subscribedSkus?$filter=skuPartNumber eq 'INTUNE_A'"),
        400,
        'Request_UnsupportedQuery',
      );
      assertGraphError(await graph('/v1.0/subscribedSkus', 'contoso', 'noconsent'), 403, 'Authorization_RequestDenied');
    });

    test('organization: the tenant with its domains and the plans of its subscriptions', async () => {
      const res = await graph('/v1.0/organization');
      assert.equal(res.status, 200);
      // Microsoft's example (organization-list.md), abridged to one plan of each kind;
      // directorySizeQuota and isMultipleDataLocationsForServicesEnabled are not in the v1.0 schema
      const example = {
        '@odata.context': 'https://graph.microsoft.com/v1.0/$metadata#organization',
        value: [
          {
            id: '84841066-274d-4ec0-a5c1-276be684bdd3',
            deletedDateTime: null,
            businessPhones: ['425-555-0100'],
            city: null,
            country: null,
            countryLetterCode: 'NL',
            createdDateTime: '2021-08-02T10:30:06Z',
            defaultUsageLocation: 'String',
            displayName: 'Contoso',
            isMultipleDataLocationsForServicesEnabled: null,
            marketingNotificationEmails: [],
            onPremisesLastSyncDateTime: null,
            onPremisesSyncEnabled: null,
            partnerTenantType: 'ResellerPartnerDelegatedAdmin',
            postalCode: null,
            preferredLanguage: 'en',
            securityComplianceNotificationMails: [],
            securityComplianceNotificationPhones: [],
            state: null,
            street: null,
            technicalNotificationMails: ['admin@contoso.com'],
            tenantType: 'AAD',
            directorySizeQuota: { used: 698, total: 50000 },
            assignedPlans: [
              {
                assignedDateTime: '2022-04-03T02:46:42Z',
                capabilityStatus: 'Deleted',
                service: 'Adallom',
                servicePlanId: '932ad362-64a8-4783-9106-97849a1a30b9',
              },
            ],
            privacyProfile: { contactEmail: '', statementUrl: '' },
            provisionedPlans: [{ capabilityStatus: 'Deleted', provisioningStatus: 'Success', service: 'Adallom' }],
            verifiedDomains: [
              {
                capabilities: 'Email, OfficeCommunicationsOnline',
                isDefault: true,
                isInitial: true,
                name: 'Contoso.onmicrosoft.com',
                type: 'Managed',
              },
            ],
          },
        ],
      };
      assertShape(res.body, example, {
        allowMissing: ['directorySizeQuota', 'isMultipleDataLocationsForServicesEnabled'],
      });
      assertSchema(res.body.value, 'organization');
      const org = res.body.value[0];
      const tenant = t.tenant('contoso');
      assert.equal(org.id, tenant.id);
      assert.deepEqual(
        org.verifiedDomains.map((d: Obj) => d.name),
        tenant.domains,
      );
      assert.equal(org.verifiedDomains.filter((d: Obj) => d.isInitial)[0].name, tenant.initialDomain);
      const skus = (await graph('/v1.0/subscribedSkus')).body.value as Obj[];
      const planIds = new Set(skus.flatMap((s) => s.servicePlans.map((p: Obj) => p.servicePlanId)));
      assert.deepEqual(new Set(org.assignedPlans.map((p: Obj) => p.servicePlanId)), planIds);
      const selected = await graph('/v1.0/organization?$select=id,displayName');
      assert.deepEqual(selected.body.value, [{ id: tenant.id, displayName: 'Contoso' }]);
    });
  });

  describe('auditLogs/directoryAudits', () => {
    const path = '/v1.0/auditLogs/directoryAudits';

    test("newest first, in the shape of Microsoft's examples and the schema", async () => {
      const res = await graph(`${path}?$top=200`);
      assert.equal(res.status, 200);
      // example 1 writes targetResources[].Type capitalised, predates operationType and abridges
      // each target to its kind's properties (example 2 shows all six);
      // example 2 adds userIdentity properties v1.0 does not define (userType, homeTenant*)
      const target = (p: string) =>
        /^value\[\d+\]\.targetResources\[\d+\]\.(type|userPrincipalName|groupType)$/.test(p);
      assertShape(res.body, fixture('directoryAudits-list.json'), {
        allowExtra: (p) =>
          target(p) ||
          ['@odata.nextLink', '@microsoft.graph.tips'].includes(p) ||
          /^value\[\d+\]\.operationType$/.test(p),
        allowMissing: ['Type'],
      });
      assertShape(res.body, fixture('directoryAudits-list-filter-initiatedBy.json'), {
        allowExtra: ['@odata.nextLink'],
        allowMissing: ['userType', 'homeTenantId', 'homeTenantName'],
      });
      assertSchema(res.body.value, 'directoryAudit');
      const times = res.body.value.map((r: Obj) => Date.parse(r.activityDateTime));
      assert.ok(
        times.every((x: number, i: number) => i === 0 || x <= times[i - 1]),
        'newest first',
      );
      assert.ok(times[0] <= T0);
      const kinds = new Set(res.body.value.map((r: Obj) => r.activityDisplayName));
      for (const k of ['Update user', 'Add member to group']) assert.ok(kinds.has(k), k);
      assert.ok(new Set(res.body.value.map((r: Obj) => r.category)).size >= 2);
    });

    test('a time window pages by next links with no gap or repeat; filters on category and initiator', async () => {
      const since = T0 - 2 * DAY;
      const window = `activityDateTime ge ${iso(since)} and activityDateTime le ${iso(T0)}`;
      const big = await all(`${path}?$filter=${window}&$top=1000`);
      const paged = await all(`${path}?$filter=${window}&$top=37`);
      assert.ok(big.records.length > 60, `${big.records.length} events in two days`);
      assert.deepEqual(paged.records, big.records);
      assert.equal(paged.pages, Math.ceil(big.records.length / 37));
      assert.ok(big.records.every((r) => Date.parse(r.activityDateTime) >= since));
      const groups = await all(`${path}?$filter=${window} and category eq 'GroupManagement'`);
      assert.deepEqual(
        groups.records,
        big.records.filter((r) => r.category === 'GroupManagement'),
      );
      const actor = big.records.find((r) => r.initiatedBy.user)!.initiatedBy.user.id;
      const byActor = await all(`${path}?$filter=initiatedBy/user/id eq '${actor}' and ${window}`);
      assert.deepEqual(
        byActor.records,
        big.records.filter((r) => r.initiatedBy.user?.id === actor),
      );
      const target = big.records[0]!.targetResources[0].id;
      const byTarget = await all(`${path}?$filter=targetResources/any(t: t/id eq '${target}') and ${window}`);
      assert.deepEqual(
        byTarget.records,
        big.records.filter((r) => r.targetResources.some((x: Obj) => x.id === target)),
      );
    });

    test('refused filters, quoted dates and dates past retention answer Invalid filter clause', async () => {
      for (const bad of [
        `resultReason eq 'x'`,
        `activityDateTime ge '${iso(T0 - DAY)}'`,
        `activityDateTime ge ${iso(T0 - 31 * DAY)}`,
        `category ne 'x'`,
        `targetResources/any(t: t/type eq 'User')`,
      ]) {
        assertGraphError(await graph(`${path}?$filter=${bad}`), 400, 'BadRequest', 'Invalid filter clause');
      }
      // Free keeps 7 days
      assertGraphError(
        await graph(`${path}?$filter=activityDateTime ge ${iso(T0 - 10 * DAY)}`, 'tailspin'),
        400,
        'BadRequest',
        'Invalid filter clause',
      );
      const free = await all(`${path}?$filter=activityDateTime ge ${iso(T0 - 6 * DAY)}`, 'tailspin');
      assert.ok(free.records.length > 0, 'no licence needed');
    });

    test('needs AuditLog.Read.All: refused as audit logs refuse', async () => {
      assertGraphError(
        await graph(path, 'contoso', 'noaudit'),
        403,
        'Authentication_MSGraphPermissionMissing',
        'Calling principal does not have required MSGraph permissions AuditLog.Read.All',
      );
      assertGraphError(await graph(path, 'contoso', 'noconsent'), 403, 'Authentication_MSGraphPermissionMissing');
    });
  });
});

describe('posture resources (default scenario)', () => {
  const sim = useSimulator({ throttle: 'off' });
  let t: TestSimulator;
  const { graph, all } = makeClient(() => t);
  before(() => {
    t = sim();
  });

  test('legacy authentication is blocked; four Global Administrators; every admin has MFA; some guests have none', async () => {
    const policies = (await graph('/v1.0/identity/conditionalAccess/policies')).body.value as Obj[];
    const legacy = policies.find((p) => p.conditions.clientAppTypes.includes('exchangeActiveSync'))!;
    assert.deepEqual(legacy.conditions.clientAppTypes, ['exchangeActiveSync', 'other']);
    assert.deepEqual(legacy.grantControls.builtInControls, ['block']);
    assert.deepEqual(legacy.conditions.users.includeUsers, ['All']);
    const gas = await graph(`/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${GA}'`);
    assert.equal(gas.body.value.length, 4);
    const { records } = await all('/v1.0/reports/authenticationMethods/userRegistrationDetails');
    const gaIds = new Set(gas.body.value.map((a: Obj) => a.principalId));
    assert.ok(records.filter((r) => gaIds.has(r.id)).every((r) => r.isMfaRegistered));
    assert.ok(records.some((r) => r.userType === 'guest' && !r.isMfaRegistered));
  });

  test('roles follow the run-time directory: a deleted holder leaves assignments and role members; members read as /users does', async () => {
    const HELPDESK = '729827e3-9c14-49f7-bb1b-9608f156bbb8';
    const assignments = (
      await graph(
        `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${HELPDESK}'&$expand=principal`,
      )
    ).body.value as Obj[];
    assert.ok(assignments.length >= 2);
    const holder = assignments[0]!.principalId as string;
    const role = ((await graph('/v1.0/directoryRoles')).body.value as Obj[]).find(
      (r) => r.roleTemplateId === HELPDESK,
    )!;
    const members = async () =>
      ((await graph(`/v1.0/directoryRoles/${role.id}/members`)).body.value as Obj[]).map((m) => m.id as string);
    assert.deepEqual((await members()).sort(), assignments.map((a) => a.principalId as string).sort());
    // a member is the user /users/{id} shows, typed
    const member = ((await graph(`/v1.0/directoryRoles/${role.id}/members`)).body.value as Obj[]).find(
      (m) => m.id === holder,
    )!;
    const user = await graph(`/v1.0/users/${holder}`);
    assert.equal(member['@odata.type'], '#microsoft.graph.user');
    assert.deepEqual(
      { ...member, '@odata.type': undefined },
      { ...withoutContext(user.body), '@odata.type': undefined },
    );
    assert.equal(assignments[0]!.principal.displayName, user.body.displayName);

    // administrators cannot be deleted through Graph by an app; the control API deletes any user
    await t.control('DELETE', `/directory/users/${holder}?tenant=contoso`);
    const after = (
      await graph(`/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${HELPDESK}'`)
    ).body.value as Obj[];
    assert.deepEqual(
      after.map((a) => a.principalId),
      assignments.slice(1).map((a) => a.principalId),
    );
    assert.deepEqual(
      (await graph(`/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '${holder}'`)).body.value,
      [],
    );
    assert.ok(!(await members()).includes(holder));
    // the role stays activated
    assert.ok(((await graph('/v1.0/directoryRoles')).body.value as Obj[]).some((r) => r.id === role.id));

    await t.control('POST', `/directory/users/${holder}/restore`, { tenant: 'contoso' });
    assert.ok((await members()).includes(holder));
    assert.equal(
      (await graph(`/v1.0/roleManagement/directory/roleAssignments?$filter=principalId eq '${holder}'`)).body.value
        .length,
      1,
    );
  });
});

describe('identity protection throttling', () => {
  const sim = useSimulator({ throttle: 'microsoft' });
  let t: TestSimulator;
  before(() => {
    t = sim();
  });

  test('one request a second per tenant, for every app; the 429 has no Retry-After', async () => {
    const first = await t.graph('contoso', 'readonly', '/v1.0/identityProtection/riskyUsers');
    assert.equal(first.status, 200);
    // another app, another identity protection API: the same tenant budget
    const second = await t.graph('contoso', 'readwrite', '/v1.0/identity/conditionalAccess/policies');
    assertGraphError(second, 429, 'TooManyRequests', 'Please retry again later.');
    assert.equal(second.headers.get('retry-after'), null);
    // another tenant is not affected
    assert.equal((await t.graph('fabrikam', 'readonly', '/v1.0/identity/conditionalAccess/policies')).status, 200);
    await new Promise((r) => setTimeout(r, 1_100));
    assert.equal((await t.graph('contoso', 'readonly', '/v1.0/identityProtection/riskDetections')).status, 200);
  });

  test('directory reads report the resource units they cost', async () => {
    const apps = await t.graph('fabrikam', 'readonly', '/v1.0/applications');
    assert.equal(apps.headers.get('x-ms-resource-unit'), '2');
    assert.equal(
      (await t.graph('fabrikam', 'readonly', '/v1.0/subscribedSkus')).headers.get('x-ms-resource-unit'),
      '3',
    );
    assert.equal(
      (await t.graph('fabrikam', 'readonly', '/v1.0/applications?$select=id')).headers.get('x-ms-resource-unit'),
      '1',
    );
  });
});

describe('determinism', () => {
  const paths = [
    '/v1.0/applications',
    '/v1.0/servicePrincipals?$top=5',
    '/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=10',
    '/v1.0/identityProtection/riskyUsers',
    '/v1.0/identityProtection/riskDetections',
    '/v1.0/identity/conditionalAccess/policies',
    '/v1.0/roleManagement/directory/roleAssignments?$expand=principal',
    '/v1.0/directoryRoles',
    '/v1.0/deviceManagement/managedDevices?$top=20',
    '/v1.0/subscribedSkus',
    '/v1.0/organization',
    '/v1.0/auditLogs/directoryAudits?$top=100',
  ];

  test('two simulators with the same seed serve byte-identical bodies; another seed differs', async () => {
    const [a, b, c] = await Promise.all([
      startTestSimulator({ throttle: 'off', scenario: 'attacks', seed: 7 }),
      startTestSimulator({ throttle: 'off', scenario: 'attacks', seed: 7 }),
      startTestSimulator({ throttle: 'off', scenario: 'attacks', seed: 8 }),
    ]);
    try {
      const body = async (s: TestSimulator, path: string) =>
        (await s.graph('contoso', 'readonly', path)).text.split(s.sim.url).join('<root>');
      for (const path of paths) {
        const [x, y, z] = await Promise.all([body(a, path), body(b, path), body(c, path)]);
        assert.ok(x.length > 100 && x.includes('"value"'), path);
        assert.equal(x, y, path);
        assert.notEqual(x, z, path);
      }
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });
});
