// The sign-in record held to Microsoft's, value by value: the properties today's v1.0 schema has
// with realistic values, null where Microsoft's examples write null (v1.0) and "" or false where
// the beta examples do, user agents that fit the device, browser and client, and
// GET /auditLogs/signIns/{id}.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { compareNulls, compareShape, loadGraphFixture } from '../helpers/graph-shape.js';
import {
  assertGraphError,
  graphPages,
  isoLiteral as iso,
  SIM_T0,
  useSimulator,
  type TestSimulator,
} from '../helpers/simulator.js';
import { personAt } from '../../src/simulator/data/people.js';
import { signInClient } from '../../src/simulator/data/signin-client.js';
import type { SignInSpec } from '../../src/simulator/data/signins.js';
import { DAY, HOUR } from '../../src/simulator/data/time.js';

type Obj = Record<string, any>;
const sim = useSimulator({ throttle: 'off', scenario: 'attacks', users: 120 });
let t: TestSimulator;
const T0 = Date.parse(SIM_T0);
const example = (file: string) => (loadGraphFixture(`graph-v1/${file}`) as { value: Obj[] }).value[0]!;

/** Every sign-in of the last `days` days. */
async function signIns(version: 'v1.0' | 'beta', days = 1, eventType?: string): Promise<Obj[]> {
  const window = `createdDateTime ge ${iso(T0 - days * DAY)}`;
  const filter = eventType ? `${window} and signInEventTypes/any(t: t eq '${eventType}')` : window;
  const pages = await graphPages(t, `/${version}/auditLogs/signIns?$filter=${encodeURIComponent(filter)}`);
  return pages.flatMap((p) => p.value as Obj[]);
}

const legacy = (r: Obj) => !['Browser', 'Mobile Apps and Desktop clients'].includes(r.clientAppUsed);

describe('sign-in records, value by value', () => {
  let v1: Obj[];
  before(async () => {
    t = sim();
    v1 = await signIns('v1.0', 2);
    assert.ok(v1.length > 500, `${v1.length} sign-ins`);
  });

  test("v1.0 writes null where Microsoft's v1.0 example does: a success from an unregistered device in a browser", () => {
    const like = v1.filter(
      (r) => r.status.errorCode === 0 && r.deviceDetail.deviceId === '' && r.clientAppUsed === 'Browser',
    );
    assert.ok(like.length > 10);
    // additionalDetails is situational: null unless Entra has a note (e.g. "MFA completed in Azure AD")
    for (const r of like)
      assert.deepEqual(
        compareNulls(r, example('signins-list.json'), '', { ignore: ['status.additionalDetails'] }),
        [],
        r.id,
      );
    assert.ok(like.filter((r) => r.status.additionalDetails === null).length > 10);
    // and the rule behind it: the reason only for failures, device facts only for registered devices
    for (const r of v1) {
      assert.equal(r.status.failureReason === null, r.status.errorCode === 0, JSON.stringify(r.status));
      const d = r.deviceDetail;
      const registered = d.deviceId !== '';
      for (const key of ['displayName', 'isCompliant', 'isManaged', 'trustType'])
        assert.equal(d[key] === null, !registered, `${r.id} ${key}`);
    }
  });

  test('beta writes "" and false where the beta example does, and null for what Entra could not derive', async () => {
    const beta = await signIns('beta');
    const like = beta.filter(
      (r) => r.status.errorCode === 50126 && r.deviceDetail.deviceId === '' && r.clientAppUsed === 'Browser',
    );
    assert.ok(like.length > 0);
    for (const r of like) assert.deepEqual(compareNulls(r, example('beta/signins-list.json')), [], r.id);
    assert.ok(beta.filter((r) => r.status.errorCode === 0).every((r) => r.status.failureReason === null));
    const services = await signIns('beta', 1, 'servicePrincipal');
    assert.ok(services.length > 0);
    for (const r of services) {
      assert.equal(r.userAgent, '');
      assert.deepEqual(r.deviceDetail, {
        deviceId: '',
        displayName: '',
        operatingSystem: null,
        browser: null,
        isCompliant: false,
        isManaged: false,
        trustType: '',
      });
    }
  });

  test("the v1.0 schema's newer properties: user sign-ins name no service principal, tenants as Entra names them", () => {
    const tenant = t.tenant('contoso');
    // a guest's sign-ins show their own address as the user principal name
    const domainOf = (upn: string) => upn.slice(upn.indexOf('@') + 1);
    const guests = v1.filter((r) => !tenant.domains.includes(domainOf(r.userPrincipalName)));
    assert.ok(guests.length > 0 && guests.length < v1.length, `${guests.length} guest sign-ins`);
    for (const r of v1) {
      assert.equal(r.servicePrincipalId, '');
      assert.equal(r.servicePrincipalName, null);
      assert.equal(r.authenticationAppDeviceDetails, null);
      assert.equal(r.resourceTenantId, tenant.id);
      const guest = guests.includes(r);
      // a B2B guest's home is their own organisation's tenant
      assert.equal(r.homeTenantId === tenant.id, !guest, r.userPrincipalName);
      assert.match(r.homeTenantId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    const homes = new Map<string, Set<string>>();
    for (const r of guests)
      homes.set(
        domainOf(r.userPrincipalName),
        (homes.get(domainOf(r.userPrincipalName)) ?? new Set<string>()).add(r.homeTenantId),
      );
    assert.ok(
      [...homes.values()].every((ids) => ids.size === 1),
      'one home tenant per partner domain',
    );
  });

  test("user agents fit the device's OS, the browser and clientAppUsed", () => {
    const os: Record<string, RegExp> = {
      Windows10: /Windows NT 10\.0/,
      MacOs: /Macintosh; Intel Mac OS X/,
      Ios: /iPhone; CPU iPhone OS/,
      Android: /Linux; Android \d+/,
    };
    const browsers: Array<[RegExp, (ua: string, version: string) => boolean, string]> = [
      [/^Edge (\d+)/, (ua, v) => new RegExp(`Edg/${v}\\.`).test(ua), 'Browser'],
      [/^Chrome Mobile (\d+)/, (ua, v) => new RegExp(`Chrome/${v}\\..* Mobile Safari/`).test(ua), 'Browser'],
      [/^Chrome (\d+)/, (ua, v) => new RegExp(`Chrome/${v}\\.`).test(ua) && !/Edg\//.test(ua), 'Browser'],
      [/^Safari (\d+\.\d+)/, (ua, v) => ua.includes(`Version/${v} Safari/`), 'Browser'],
      [/^Mobile Safari()/, (ua) => /Mobile\/\w+$/.test(ua) && !/Safari\//.test(ua), 'Mobile Apps and Desktop clients'],
      [/^Rich Client()/, (ua) => ua.startsWith('Microsoft Office/'), 'Mobile Apps and Desktop clients'],
    ];
    const modern = v1.filter((r) => !legacy(r));
    assert.ok(new Set(modern.map((r) => r.deviceDetail.browser.split(' ')[0])).size >= 4, 'several browsers');
    for (const r of modern) {
      const { operatingSystem, browser } = r.deviceDetail;
      assert.match(r.userAgent, os[operatingSystem]!, `${operatingSystem}: ${r.userAgent}`);
      const rule = browsers.find(([name]) => name.test(browser));
      assert.ok(rule, `browser ${browser}`);
      assert.ok(rule[1](r.userAgent, rule[0].exec(browser)![1]!), `${browser}: ${r.userAgent}`);
      assert.equal(r.clientAppUsed, rule[2], `${browser} is ${rule[2]}`);
    }
  });

  test('legacy-authentication sign-ins carry the agents legacy clients send, and no device', async () => {
    const { value: incidents } = await t.control('GET', '/truth/incidents?tenant=contoso');
    const incident = incidents.find((i: Obj) => i.kind === 'legacy-authentication');
    const from = iso(Date.parse(incident.start));
    const until = iso(Date.parse(incident.end) + 1000);
    const pages = await graphPages(
      t,
      `/v1.0/auditLogs/signIns?$filter=createdDateTime ge ${from} and createdDateTime le ${until}`,
    );
    const records = pages.flatMap((p) => p.value as Obj[]).filter((r) => incident.signInIds.includes(r.id));
    assert.equal(records.length, incident.signInIds.length);
    for (const r of records) {
      assert.ok(['IMAP4', 'POP3', 'Authenticated SMTP'].includes(r.clientAppUsed));
      // Exchange Online relays basic authentication as a password grant: Entra sees "BAV2ROPC"
      assert.equal(r.userAgent, 'BAV2ROPC');
      assert.deepEqual(r.deviceDetail, {
        deviceId: '',
        displayName: null,
        operatingSystem: null,
        browser: null,
        isCompliant: null,
        isManaged: null,
        trustType: null,
      });
    }
    // ActiveSync clients send their phone's own agent, from which Entra reads the OS
    const tenant = t.tenant('contoso');
    const person = personAt(tenant, 3, t.sim.state.start);
    const spec = {
      id: 'x',
      time: T0,
      ticks: 1,
      type: 'interactiveUser',
      person,
      clientAppUsed: 'Exchange ActiveSync',
    } as unknown as SignInSpec;
    const eas = signInClient(spec, false);
    assert.match(eas.userAgent, /^(Apple-iPhone\d+C\d+\/\d{4}\.\d+|SAMSUNG-SM-\w+\/[\d.]+)$/);
    assert.equal(eas.deviceDetail.operatingSystem, eas.userAgent.startsWith('Apple') ? 'Ios' : 'Android');
    assert.equal(signInClient(spec, true).deviceDetail.displayName, '', 'beta writes the unknown name as ""');
  });
});

describe('GET /auditLogs/signIns/{id}', () => {
  before(() => {
    t = sim();
  });
  const get = (id: string, version = 'v1.0') => t.graph('contoso', 'readwrite', `/${version}/auditLogs/signIns/${id}`);
  const withoutContext = (o: Obj) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== '@odata.context'));

  test('answers each record exactly as the list shows it, the same bytes every time', async () => {
    const list = (await t.graph('contoso', 'readwrite', `/v1.0/auditLogs/signIns?$top=40`)).body.value as Obj[];
    // an incident's sign-in too: those are written by the scenario, not generated by the hour
    const { value: incidents } = await t.control('GET', '/truth/incidents?tenant=contoso');
    const spray = incidents.find((i: Obj) => i.kind === 'password-spray');
    const sprayed = (
      await t.graph(
        'contoso',
        'readwrite',
        `/v1.0/auditLogs/signIns?$filter=ipAddress eq '${spray.ipAddress}' and createdDateTime ge ${iso(Date.parse(spray.start))}&$top=2`,
      )
    ).body.value as Obj[];
    assert.ok(spray.signInIds.includes(sprayed[0]!.id));
    for (const r of [...list.filter((_, i) => i % 8 === 0), ...sprayed]) {
      const res = await get(r.id);
      assert.equal(res.status, 200, r.id);
      assert.equal(res.body['@odata.context'], `${t.sim.url}/v1.0/$metadata#auditLogs/signIns/$entity`);
      assert.deepEqual(withoutContext(res.body), withoutContext(r));
      assert.equal((await get(r.id)).text, res.text);
    }
    // the published example's record is the entity itself (beta signin-get); v1.0's shows a collection by mistake
    assert.deepEqual(
      compareShape(withoutContext((await get(list[0]!.id)).body), example('signins-list.json'), '', {
        allowExtra: () => true,
      }),
      [],
    );
    assert.equal((await get(list[1]!.id.toUpperCase())).status, 200, 'ids are GUIDs, compared without case');
    const selected = await get(`${list[2]!.id}?$select=userAgent,status`);
    assert.deepEqual(Object.keys(selected.body), ['@odata.context', 'id', 'userAgent', 'status']);
  });

  test('beta finds every event type; v1.0, which lists interactive sign-ins only, finds no other', async () => {
    const window = `createdDateTime ge ${iso(T0 - HOUR)}`;
    const filter = encodeURIComponent(`${window} and signInEventTypes/any(t: t eq 'nonInteractiveUser')`);
    const other = (await t.graph('contoso', 'readwrite', `/beta/auditLogs/signIns?$filter=${filter}&$top=1`)).body
      .value[0];
    const res = await get(other.id, 'beta');
    assert.equal(res.status, 200);
    assert.deepEqual(withoutContext(res.body), other);
    assertGraphError(await get(other.id), 404, 'itemNotFound', 'The resource could not be found.');
  });

  test("an id Entra never issued gets Graph's generic 404 (Microsoft documents no sign-in specific one)", async () => {
    for (const id of ['6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f', '66ea54eb-6301-4ee5-be62-ff5a759b0100', 'not-a-guid']) {
      for (const version of ['v1.0', 'beta'])
        assertGraphError(await get(id, version), 404, 'itemNotFound', 'The resource could not be found.');
    }
    // the permission and licence gates come first, as for the list
    assertGraphError(
      await t.graph('contoso', 'noaudit', '/v1.0/auditLogs/signIns/6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f'),
      403,
      'Authentication_MSGraphPermissionMissing',
    );
    assertGraphError(
      await t.graph('tailspin', 'readwrite', '/v1.0/auditLogs/signIns/6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f'),
      403,
      'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    );
  });
});
