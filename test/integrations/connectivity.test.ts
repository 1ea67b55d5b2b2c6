// Test Connectivity against the simulated tenants over HTTPS with real MSAL: "Connected!" or the
// first blocking problem with Microsoft's code and what to do; each data type's availability and
// why not; the mode and the remediation actions; licences; the app's own secret; network, TLS,
// time-out and throttling behaviour. And the capability rules themselves, as pure functions.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import selfsigned from 'selfsigned';
import { resolveCloud, type CloudEndpoints } from '../../src/entra/clouds.js';
import {
  ACTIONS,
  actionCapabilities,
  DATA_TYPES,
  isDataTypeId,
  missingPermissions,
  modeOf,
  ownSecretUnavailable,
  type Capability,
  type DataTypeId,
} from '../../src/integrations/capabilities.js';
import { testConnection, type ConnectionReport, type Credentials } from '../../src/integrations/connectivity.js';
import type { AppState, SimTenant } from '../../src/simulator/tenants.js';
import { freePort, hangingServer } from '../helpers/net.js';
import { SIM_T0, useSimulator, type TestSimulator } from '../helpers/simulator.js';

const DAY = 86_400_000;
const clock = { now: () => Date.parse(SIM_T0) };
const READ_ONLY = [
  'AuditLog.Read.All',
  'Directory.Read.All',
  'Group.Read.All',
  'GroupMember.Read.All',
  'Reports.Read.All',
  'User.Read.All',
  'Policy.Read.All',
  'MailboxSettings.Read',
  'UserAuthenticationMethod.Read.All',
  'IdentityRiskEvent.Read.All',
  'IdentityRiskyUser.Read.All',
  'DeviceManagementApps.Read.All',
  'DeviceManagementConfiguration.Read.All',
  'DeviceManagementManagedDevices.Read.All',
];

/** Every report any test produced, and every secret it used: none may appear in any report. */
const produced: Array<{ report: ConnectionReport; secret: string }> = [];

const byType = (r: ConnectionReport): Record<DataTypeId, Capability> =>
  Object.fromEntries(r.capabilities.map((c) => [c.dataType, c])) as Record<DataTypeId, Capability>;
const unavailable = (r: ConnectionReport) =>
  r.capabilities
    .filter((c) => c.status !== 'available')
    .map((c) => c.dataType)
    .sort();

describe('capability rules', () => {
  test('every data type the issue lists, each with a cheap probe and its permissions', () => {
    assert.deepEqual(
      DATA_TYPES.map((d) => d.id),
      [
        'signIns',
        'nonInteractiveSignIns',
        'directoryAudits',
        'users',
        'signInActivity',
        'groups',
        'mfaRegistration',
        'riskyUsers',
        'riskDetections',
        'conditionalAccess',
        'applications',
        'roleAssignments',
        'managedDevices',
        'licences',
      ],
    );
    for (const d of DATA_TYPES) {
      assert.match(d.probe, /^\/(v1\.0|beta)\//, d.id);
      assert.ok(d.permissions.length > 0 && d.permissions.every((set) => set.length > 0), d.id);
      // $top=1 wherever Graph takes it; subscribedSkus and roleAssignments document no $top
      if (d.id !== 'licences' && d.id !== 'roleAssignments') assert.match(d.probe, /[?&]\$top=1(&|$)/, d.id);
    }
    assert.match(
      DATA_TYPES.find((d) => d.id === 'nonInteractiveSignIns')!.probe,
      /^\/beta\/auditLogs\/signIns\?.*signInEventTypes\/any\(t: t eq 'nonInteractiveUser'\)/,
    );
    assert.equal(
      DATA_TYPES.find((d) => d.id === 'signInActivity')!.probe,
      '/v1.0/users?$select=id,signInActivity&$top=1',
    );
    assert.equal(isDataTypeId('users'), true);
    assert.equal(isDataTypeId('mailbox'), false);
  });

  test('missing permissions are the least privileged of each unmet any-of set', () => {
    const activity = DATA_TYPES.find((d) => d.id === 'signInActivity')!;
    assert.deepEqual(missingPermissions(activity.permissions, []), ['AuditLog.Read.All', 'User.Read.All']);
    assert.deepEqual(missingPermissions(activity.permissions, ['Directory.Read.All']), ['AuditLog.Read.All']);
    assert.deepEqual(missingPermissions(activity.permissions, ['Directory.ReadWrite.All', 'AuditLog.Read.All']), []);
  });

  test('actions and mode follow DESIGN §1', () => {
    assert.deepEqual(
      ACTIONS.map((a) => [a.action, a.label]),
      [
        ['updateUserType', 'Update User Type'],
        ['deleteGuestUser', 'Delete Guest User'],
        ['revokeSessions', 'User Log out'],
        ['resetMfa', 'Reset MFA'],
      ],
    );
    assert.equal(modeOf(READ_ONLY), 'read-only');
    assert.deepEqual(
      actionCapabilities(READ_ONLY).map((a) => [a.action, a.enabled, a.missingPermissions]),
      [
        ['updateUserType', false, ['User.ReadWrite.All']],
        ['deleteGuestUser', false, ['User.ReadWrite.All']],
        ['revokeSessions', false, ['User.ReadWrite.All']],
        ['resetMfa', false, ['UserAuthenticationMethod.ReadWrite.All']],
      ],
    );
    // Directory.ReadWrite.All alone allows the user writes but not Reset MFA
    assert.deepEqual(
      actionCapabilities(['Directory.ReadWrite.All']).map((a) => a.enabled),
      [true, true, true, false],
    );
    // the narrower User.RevokeSessions.All is enough for User Log out, and makes the mode read/write
    assert.deepEqual(
      actionCapabilities(['User.RevokeSessions.All']).map((a) => a.enabled),
      [false, false, true, false],
    );
    assert.equal(modeOf(['User.RevokeSessions.All']), 'read-write');
    assert.equal(modeOf(['UserAuthenticationMethod.ReadWrite.All']), 'read-write');
  });

  test('the own-secret read needs Application.Read.All or Directory.Read.All', () => {
    assert.match(
      ownSecretUnavailable(['User.Read.All', 'AuditLog.Read.All'])!,
      /needs the Application\.Read\.All application permission \(Directory\.Read\.All also allows it\)/,
    );
    assert.equal(ownSecretUnavailable([]) !== undefined, true);
    assert.equal(ownSecretUnavailable(['Application.Read.All']), undefined);
    assert.equal(ownSecretUnavailable(['Directory.Read.All']), undefined);
    assert.equal(ownSecretUnavailable(['Application.ReadWrite.OwnedBy']), undefined);
  });
});

describe('testConnection against the simulator', () => {
  const sim = useSimulator({ throttle: 'off' });
  let t: TestSimulator;
  let cloud: CloudEndpoints;
  before(() => {
    t = sim();
    cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
  });

  function creds(tenant: SimTenant['key'], state: AppState, over: Partial<Credentials> = {}): Credentials {
    const app = t.app(tenant, state);
    return {
      tenantId: t.tenant(tenant).id,
      clientId: app.appId,
      clientSecret: app.secrets[0]!.secretText,
      cloud,
      ...over,
    };
  }
  async function connect(c: Credentials, opts: Parameters<typeof testConnection>[1] = {}): Promise<ConnectionReport> {
    const report = await testConnection(c, { clock, ...opts });
    produced.push({ report, secret: c.clientSecret.trim() });
    return report;
  }
  async function problem(
    c: Credentials,
    code: string,
    microsoftCode?: string | RegExp,
    httpStatus?: number,
    opts: Parameters<typeof testConnection>[1] = {},
  ): Promise<ConnectionReport> {
    const r = await connect(c, opts);
    assert.equal(r.connected, false);
    assert.equal(r.problem?.code, code, JSON.stringify(r.problem));
    if (microsoftCode instanceof RegExp) assert.match(r.problem?.microsoftCode ?? '', microsoftCode);
    else assert.equal(r.problem?.microsoftCode, microsoftCode);
    assert.equal(r.problem?.httpStatus, httpStatus);
    assert.equal(r.message.length > 0 && r.message !== 'Connected!', true);
    assert.deepEqual([r.grantedRoles, r.capabilities, r.mode, r.licences], [[], [], 'read-only', []]);
    assert.equal(
      r.actions.every((a) => !a.enabled),
      true,
    );
    return r;
  }

  test('Contoso (P2 + Intune), read/write app: Connected!, everything available, all four actions', async () => {
    const calls: string[] = [];
    const r = await connect(creds('contoso', 'readwrite'), { observeToken: (_m, url) => calls.push(url) });
    const app = t.app('contoso', 'readwrite');
    assert.equal(r.connected, true);
    assert.equal(r.message, 'Connected!');
    assert.equal(r.problem, undefined);
    assert.equal(r.tenantId, t.tenant('contoso').id);
    assert.deepEqual(r.grantedRoles, [...app.roles]);
    assert.deepEqual(unavailable(r), []);
    assert.equal(r.capabilities.length, DATA_TYPES.length);
    for (const c of r.capabilities)
      assert.deepEqual([c.available, c.status, c.reason], [true, 'available', undefined], c.dataType);
    assert.equal(r.mode, 'read-write');
    assert.deepEqual(
      r.actions.map((a) => [a.action, a.enabled, a.missingPermissions]),
      [
        ['updateUserType', true, []],
        ['deleteGuestUser', true, []],
        ['revokeSessions', true, []],
        ['resetMfa', true, []],
      ],
    );
    assert.deepEqual(
      r.licences.map((l) => l.skuPartNumber),
      ['ENTERPRISEPACK', 'AAD_PREMIUM_P2', 'INTUNE_A'],
    );
    for (const l of r.licences)
      assert.ok(l.enabled >= l.consumed && l.consumed > 0 && /^[0-9a-f-]{36}$/.test(l.skuId), JSON.stringify(l));
    assert.deepEqual(r.warnings, []);
    assert.equal(r.checkedAt, SIM_T0);
    // the custom cloud cost MSAL one request: the token endpoint
    assert.deepEqual(
      calls.map((u) => new URL(u).pathname),
      [`/${t.tenant('contoso').id}/oauth2/v2.0/token`],
    );
  });

  test("the own secret: matched by its hint, days left from the simulator's clock", async () => {
    for (const state of ['readwrite', 'readonly'] as const) {
      const r = await connect(creds('contoso', state));
      const secret = t.app('contoso', state).secrets[0]!;
      assert.deepEqual(r.ownSecret, {
        keyId: secret.keyId,
        hint: secret.secretText.slice(0, 3),
        displayName: 'idsight',
        endDateTime: new Date(secret.endDateTime).toISOString(),
        daysLeft: Math.floor((secret.endDateTime - Date.parse(SIM_T0)) / DAY),
      });
    }
    const rw = await connect(creds('contoso', 'readwrite'));
    assert.equal((rw.ownSecret as { daysLeft: number }).daysLeft, 710);
    // the app's second secret (45 days left) is found when it is the one in use
    const previous = t.app('contoso', 'readwrite').secrets[1]!;
    const r = await connect(creds('contoso', 'readwrite', { clientSecret: previous.secretText }));
    assert.deepEqual(r.ownSecret, {
      keyId: previous.keyId,
      hint: previous.hint,
      displayName: 'idsight (previous)',
      endDateTime: new Date(previous.endDateTime).toISOString(),
      daysLeft: 45,
    });
  });

  test('Contoso, read-only app: read-only mode, every action disabled with the permissions it lacks', async () => {
    const r = await connect(creds('contoso', 'readonly'));
    assert.equal(r.connected, true);
    assert.deepEqual(unavailable(r), []);
    assert.equal(r.mode, 'read-only');
    assert.deepEqual(
      r.actions.map((a) => [a.action, a.enabled, a.missingPermissions]),
      [
        ['updateUserType', false, ['User.ReadWrite.All']],
        ['deleteGuestUser', false, ['User.ReadWrite.All']],
        ['revokeSessions', false, ['User.ReadWrite.All']],
        ['resetMfa', false, ['UserAuthenticationMethod.ReadWrite.All']],
      ],
    );
    assert.deepEqual(r.grantedRoles, READ_ONLY);
  });

  test('Fabrikam (P1, no Intune): risk data needs P2, managed devices need Intune, the rest works', async () => {
    const r = await connect(creds('fabrikam', 'readonly'));
    assert.equal(r.connected, true);
    assert.equal(r.message, 'Connected!');
    assert.deepEqual(unavailable(r), ['managedDevices', 'riskDetections', 'riskyUsers']);
    const c = byType(r);
    for (const id of ['riskyUsers', 'riskDetections'] as const) {
      assert.deepEqual(
        [c[id].available, c[id].status, c[id].reasonCode, c[id].graphCode],
        [false, 'unavailable', 'no_p2', 'Authentication_RequestFromNonPremiumTenantOrB2CTenant'],
      );
      assert.equal(
        c[id].reason,
        'Needs Microsoft Entra ID P2 (the tenant has P1): Microsoft Graph refused for lack of a premium licence.',
      );
    }
    assert.equal(c.managedDevices.reasonCode, 'no_intune');
    assert.equal(
      c.managedDevices.reason,
      "Needs an active Microsoft Intune licence (no Intune plan among the tenant's subscriptions): Intune refused the request.",
    );
    assert.deepEqual(
      r.licences.map((l) => l.skuPartNumber),
      ['ENTERPRISEPACK', 'AAD_PREMIUM'],
    );
  });

  test('Tailspin (Free): sign-ins and signInActivity need a premium licence; users, groups and the rest work', async () => {
    const r = await connect(creds('tailspin', 'readonly'));
    assert.equal(r.connected, true);
    const c = byType(r);
    for (const id of [
      'signIns',
      'nonInteractiveSignIns',
      'signInActivity',
      'mfaRegistration',
      'conditionalAccess',
    ] as const) {
      assert.deepEqual([c[id].status, c[id].reasonCode], ['unavailable', 'no_premium'], id);
      assert.equal(
        c[id].reason,
        'Needs Microsoft Entra ID P1 or P2: Microsoft Graph serves this only to tenants with a premium licence.',
      );
    }
    assert.deepEqual(
      [c.riskyUsers.reasonCode, c.riskDetections.reasonCode, c.managedDevices.reasonCode],
      ['no_p2', 'no_p2', 'no_intune'],
    );
    assert.equal(
      c.riskyUsers.reason,
      'Needs Microsoft Entra ID P2: Microsoft Graph refused for lack of a premium licence.',
    );
    for (const id of ['users', 'groups', 'directoryAudits', 'applications', 'roleAssignments', 'licences'] as const)
      assert.equal(c[id].status, 'available', id);
    assert.deepEqual(
      r.licences.map((l) => l.skuPartNumber),
      ['O365_BUSINESS_ESSENTIALS'],
    );
    // the licence refusal is asked twice (Microsoft reports it intermittently on licensed tenants)
    assert.ok(r.elapsedMs >= 1_000, `retried after a pause (${r.elapsedMs} ms)`);
  });

  test('no admin consent: the token has no roles → admin_consent_missing, everything listed as missing', async () => {
    const r = await connect(creds('contoso', 'noconsent'));
    assert.equal(r.connected, false);
    assert.equal(r.problem?.code, 'admin_consent_missing');
    assert.equal(r.problem?.microsoftCode, undefined);
    assert.equal(
      r.message,
      'The app signed in, but its token carries no application permissions: admin consent has not been granted.',
    );
    assert.match(r.problem!.guidance, /API permissions.*"Grant admin consent for"/);
    assert.equal(r.tenantId, t.tenant('contoso').id);
    assert.deepEqual(r.grantedRoles, []);
    assert.equal(r.capabilities.length, DATA_TYPES.length);
    for (const c of r.capabilities) {
      assert.deepEqual([c.available, c.status, c.reasonCode], [false, 'unavailable', 'missing_permission'], c.dataType);
      assert.ok(c.missingPermissions!.length > 0);
    }
    assert.deepEqual(byType(r).signInActivity.missingPermissions, ['AuditLog.Read.All', 'User.Read.All']);
    assert.equal(r.mode, 'read-only');
    assert.match((r.ownSecret as { unavailable: string }).unavailable, /Application\.Read\.All/);
  });

  test('no AuditLog.Read.All: sign-ins, audits and signInActivity unavailable for that permission', async () => {
    const r = await connect(creds('contoso', 'noaudit'));
    assert.equal(r.connected, true);
    assert.deepEqual(unavailable(r), ['directoryAudits', 'nonInteractiveSignIns', 'signInActivity', 'signIns']);
    for (const id of unavailable(r)) {
      const c = byType(r)[id];
      assert.deepEqual(
        [c.reasonCode, c.missingPermissions, c.reason],
        [
          'missing_permission',
          ['AuditLog.Read.All'],
          'Needs the AuditLog.Read.All application permission with admin consent.',
        ],
        id,
      );
    }
    // MFA registration details are also readable with UserAuthenticationMethod.Read.All
    assert.equal(byType(r).mfaRegistration.status, 'available');
  });

  test('expired secret: 401 AADSTS7000222, pointing to Reset Credentials', async () => {
    const r = await problem(creds('contoso', 'expired'), 'expired_secret', 'AADSTS7000222', 401);
    assert.equal(r.message, 'The client secret has expired.');
    assert.match(r.problem!.guidance, /Certificates & secrets → New client secret.*Reset Credentials/);
    assert.equal(r.ownSecret, undefined);
  });

  test('unknown tenant: 400 AADSTS90002', async () => {
    const r = await problem(
      creds('contoso', 'readonly', { tenantId: '00000000-1111-2222-3333-444444444444' }),
      'tenant_not_found',
      'AADSTS90002',
      400,
    );
    assert.equal(
      r.message,
      'Microsoft Entra has no tenant "00000000-1111-2222-3333-444444444444" in the custom cloud.',
    );
    assert.match(r.problem!.guidance, /Directory \(tenant\) ID.*another Microsoft cloud/);
  });

  test('malformed tenant: 400 AADSTS900023', async () => {
    const r = await problem(
      creds('contoso', 'readonly', { tenantId: 'contoso.xn--p1ai' }),
      'tenant_malformed',
      'AADSTS900023',
      400,
    );
    assert.match(r.message, /"contoso\.xn--p1ai" is neither a tenant GUID nor a domain name/);
  });

  test('wrong secret: 401 AADSTS7000215, the value and not the secret ID', async () => {
    const r = await problem(
      creds('contoso', 'readonly', { clientSecret: 'Zz98Q~definitely-not-the-secret-value-0000' }),
      'wrong_secret',
      'AADSTS7000215',
      401,
    );
    assert.equal(r.message, 'Microsoft Entra rejected the client secret: it is not a current secret of this app.');
    assert.match(r.problem!.guidance, /^Enter the secret's Value, not its Secret ID/);
    const secretId = t.app('contoso', 'readonly').secrets[0]!.keyId;
    const byId = await problem(
      creds('contoso', 'readonly', { clientSecret: ` ${secretId} ` }),
      'wrong_secret',
      'AADSTS7000215',
      401,
    );
    assert.match(
      byId.problem!.guidance,
      /^The secret you entered looks like a Secret ID \(a GUID\), not the secret itself\. Enter the secret's Value/,
    );
  });

  test('app not in that tenant (or the wrong cloud): 400 AADSTS700016', async () => {
    const r = await problem(
      creds('contoso', 'readonly', { clientId: t.app('tailspin', 'readonly').appId }),
      'app_not_found',
      'AADSTS700016',
      400,
    );
    assert.match(
      r.message,
      new RegExp(`No application with client ID ${t.app('tailspin', 'readonly').appId} was found in tenant`),
    );
    assert.match(r.problem!.guidance, /Application \(client\) ID.*multitenant app.*cloud/);
  });

  test('bad input is refused before anything is sent, naming the field', async () => {
    for (const [over, field, re] of [
      [{ tenantId: 'contoso' }, 'tenantId', /"contoso" is neither/],
      [{ tenantId: 'common' }, 'tenantId', /"common" is not a tenant/],
      [{ clientId: 'not-a-guid' }, 'clientId', /must be a GUID/],
      [{ clientSecret: '   ' }, 'clientSecret', /client secret is empty/],
    ] as const) {
      const r = await problem(creds('contoso', 'readonly', over), 'invalid_input');
      assert.equal(r.problem?.field, field);
      assert.match(r.message, re);
    }
  });

  test('surrounding whitespace in pasted values is ignored', async () => {
    const c = creds('contoso', 'readonly');
    const r = await connect({
      ...c,
      tenantId: ` ${c.tenantId}\n`,
      clientId: ` ${c.clientId.toUpperCase()} `,
      clientSecret: `\t${c.clientSecret} \n`,
    });
    assert.equal(r.connected, true);
  });

  test('network failure: nothing listens on the port', async () => {
    const port = await freePort();
    const closed = resolveCloud('custom', {
      authorityHost: `https://127.0.0.1:${port}`,
      graphUrl: `https://127.0.0.1:${port}`,
      caPem: t.sim.ca,
    });
    const r = await problem(creds('contoso', 'readonly', { cloud: closed }), 'network', 'ECONNREFUSED');
    assert.equal(
      r.message,
      `Could not reach Microsoft's token service at 127.0.0.1:${port}: the connection was refused (nothing listens there).`,
    );
    assert.match(r.problem!.guidance, /DNS, firewall, outbound proxy/);
  });

  test('Graph unreachable after a good token (every connection reset): the network problem is blocking', async () => {
    await t.control('PATCH', '/faults', { resetRate: 1 });
    try {
      const r = await connect(creds('contoso', 'readonly'), { timeoutMs: 4_000 });
      assert.equal(r.connected, false);
      assert.equal(r.problem?.code, 'network');
      // undici names a reset before any answer "other side closed" (UND_ERR_SOCKET)
      assert.match(r.problem!.microsoftCode!, /^(ECONNRESET|UND_ERR_SOCKET)$/);
      assert.match(
        r.message,
        new RegExp(
          `^Could not reach Microsoft Graph at ${new URL(t.sim.url).host}: the connection was (reset|closed before any answer)\\.$`,
        ),
      );
      // what the token told is still reported
      assert.deepEqual(r.grantedRoles, READ_ONLY);
      assert.equal(r.capabilities.length, DATA_TYPES.length);
      assert.equal(
        r.capabilities.every((c) => c.status === 'unknown' && c.reasonCode === 'not_checked'),
        true,
      );
    } finally {
      await t.control('PATCH', '/faults', { resetRate: 0 });
    }
  });

  test('TLS failure: a CA that did not issue the server certificate', async () => {
    const other = await selfsigned.generate([{ name: 'commonName', value: 'another CA' }], {
      keyType: 'ec',
      algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true, critical: true }],
    });
    const wrongCa = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: other.cert });
    const r = await problem(creds('contoso', 'readonly', { cloud: wrongCa }), 'tls', /CERT|SELF_SIGNED|UNABLE/);
    assert.match(r.message, /^The TLS certificate of 127\.0\.0\.1:\d+ \(Microsoft's token service\) is not trusted/);
    assert.match(r.problem!.guidance, /CA certificate \(PEM\)/);
  });

  test('time-out while Graph is slow: the report stops at the limit, data types unknown', async () => {
    await t.control('PATCH', '/faults', { latencyMs: 3000 });
    try {
      const started = performance.now();
      const r = await connect(creds('contoso', 'readonly'), { timeoutMs: 1_500 });
      assert.ok(performance.now() - started < 2_500, 'stopped at the limit');
      assert.equal(r.connected, false);
      assert.equal(r.problem?.code, 'timeout');
      assert.equal(r.message, `Microsoft Graph at ${new URL(t.sim.url).host} did not answer within 1.5 s.`);
      assert.deepEqual(r.grantedRoles, READ_ONLY);
      for (const c of r.capabilities) {
        assert.deepEqual(
          [c.available, c.status, c.reasonCode, c.reason],
          [false, 'unknown', 'not_checked', 'Not checked: the connection test reached its 1.5 s limit first.'],
          c.dataType,
        );
      }
      assert.match(r.warnings[0]!, /^14 data types were not checked/);
    } finally {
      await t.control('PATCH', '/faults', { latencyMs: 0 });
    }
  });

  test('time-out at the token service: a server that accepts and never answers', async () => {
    const hang = await hangingServer();
    try {
      const silent = resolveCloud('custom', {
        authorityHost: `https://127.0.0.1:${hang.port}`,
        graphUrl: t.sim.url,
        caPem: t.sim.ca,
      });
      const started = performance.now();
      const r = await problem(creds('contoso', 'readonly', { cloud: silent }), 'timeout', undefined, undefined, {
        timeoutMs: 800,
      });
      assert.ok(performance.now() - started < 2_000);
      assert.equal(r.message, `Microsoft's token service at 127.0.0.1:${hang.port} did not answer within 0.8 s.`);
    } finally {
      hang.close();
    }
  });
});

describe("testConnection under Microsoft's throttling", () => {
  const sim = useSimulator({ throttle: 'microsoft' });

  test(
    'back-to-back tests wait as Graph asks; a short limit leaves the throttled types unknown',
    { timeout: 60_000 },
    async () => {
      const t = sim();
      const cloud = resolveCloud('custom', { authorityHost: t.sim.url, graphUrl: t.sim.url, caPem: t.sim.ca });
      const app = t.app('contoso', 'readonly');
      const c: Credentials = {
        tenantId: t.tenant('contoso').id,
        clientId: app.appId,
        clientSecret: app.secrets[0]!.secretText,
        cloud,
      };
      // one test stays inside every budget: reports 5 / 10 s, identity protection 1 / s
      const first = await testConnection(c, { clock });
      produced.push({ report: first, secret: c.clientSecret });
      assert.deepEqual([first.connected, unavailable(first), first.warnings], [true, [], []]);
      // a second one right after exceeds the reports budget: Graph says how long to wait, and it waits
      const second = await testConnection(c, { clock });
      produced.push({ report: second, secret: c.clientSecret });
      assert.deepEqual([second.connected, unavailable(second)], [true, []]);
      assert.match(second.warnings.join(' '), /Microsoft Graph throttled \d+ requests?; idsight waited as asked\./);
      // a third with a 2 s limit cannot wait that long: what was throttled is reported unknown, not unavailable
      const third = await testConnection(c, { clock, timeoutMs: 2_000 });
      produced.push({ report: third, secret: c.clientSecret });
      assert.equal(third.connected, true);
      const unknown = third.capabilities.filter((x) => x.status === 'unknown');
      assert.ok(unknown.length > 0, JSON.stringify(third.capabilities));
      for (const x of unknown)
        assert.match(
          x.reason!,
          /^Not checked: (Microsoft Graph throttled the request and asked to wait longer than the time left|the connection test reached its 2 s limit first)/,
        );
      assert.equal(
        third.capabilities.some((x) => x.status === 'unavailable'),
        false,
      );
      assert.match(third.warnings[0]!, /not checked/);
    },
  );
});

describe('the secret', () => {
  test('never appears in any report', () => {
    assert.ok(produced.length >= 20, `${produced.length} reports`);
    for (const { report, secret } of produced.filter((p) => p.secret.length >= 3)) {
      const text = JSON.stringify(report);
      assert.equal(text.includes(secret), false, `a report contains the secret: ${report.message}`);
    }
  });
});
