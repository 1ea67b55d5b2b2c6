// The Graph shape checkers, proven on Microsoft's own examples and the v1.0 schema: the examples
// that follow the schema pass, the ones that break it are caught exactly, and mutations are reported.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  compareNulls,
  compareShape,
  conformsToMetadata,
  loadGraphFixture,
  loadMetadata,
  type GraphMetadata,
} from '../helpers/graph-shape.js';

type Obj = Record<string, unknown>;
const meta: GraphMetadata = loadMetadata();
const list = (file: string) => loadGraphFixture(`graph-v1/${file}`) as { value: Obj[] } & Obj;
const clone = <T>(v: T): T => structuredClone(v);
/** Checks every item of a list fixture, with paths like value[1].x. */
const checkList = (file: string, type: string) =>
  list(file).value.flatMap((v, i) => conformsToMetadata(v, type, meta, {}, `value[${i}]`));

describe('loadMetadata', () => {
  it('is parsed once and cached', () => {
    assert.equal(loadMetadata(), meta);
  });

  it('knows every resource type the simulator serves', () => {
    for (const t of [
      'signIn',
      'user',
      'group',
      'signInLocation',
      'passwordCredential',
      'conditionalAccessPolicy',
      'managedDevice',
      'riskyUser',
      'riskDetection',
      'userRegistrationDetails',
      'unifiedRoleAssignment',
      'unifiedRoleDefinition',
      'directoryRole',
      'subscribedSku',
      'organization',
      'directoryAudit',
      'application',
      'servicePrincipal',
      'fido2AuthenticationMethod',
      'authenticationMethod',
      'directoryObject',
    ]) {
      assert.ok((meta.properties(t)?.size ?? 0) > 0, t);
    }
    assert.equal(meta.properties('noSuchType'), undefined);
  });

  it('includes inherited properties, navigation properties and resolved type names', () => {
    const signIn = meta.properties('signIn')!;
    assert.deepEqual(signIn.get('id'), { name: 'id', type: 'Edm.String', navigation: false }); // from entity
    assert.equal(signIn.get('location')?.type, 'microsoft.graph.signInLocation');
    assert.equal(
      signIn.get('appliedConditionalAccessPolicies')?.type,
      'Collection(microsoft.graph.appliedConditionalAccessPolicy)',
    );
    assert.equal(signIn.get('riskLevelDuringSignIn')?.type, 'microsoft.graph.riskLevel');
    const user = meta.properties('user')!;
    assert.equal(user.get('deletedDateTime')?.type, 'Edm.DateTimeOffset'); // from directoryObject
    assert.deepEqual(user.get('manager'), {
      name: 'manager',
      type: 'microsoft.graph.directoryObject',
      navigation: true,
    });
    assert.equal(meta.properties('fido2AuthenticationMethod')?.get('createdDateTime')?.type, 'Edm.DateTimeOffset');
    assert.equal(meta.type('directoryObject')?.baseType, 'microsoft.graph.entity');
    assert.ok(meta.isSubtypeOf('#microsoft.graph.user', 'directoryObject'));
    assert.ok(!meta.isSubtypeOf('group', 'user'));
  });

  it('lists enum members and resolves aliases and other namespaces', () => {
    assert.deepEqual(meta.enumMembers('riskLevel'), ['low', 'medium', 'high', 'hidden', 'none', 'unknownFutureValue']);
    assert.equal(meta.qualify('graph.signIn'), 'microsoft.graph.signIn');
    assert.equal(meta.qualify('#microsoft.graph.user'), 'microsoft.graph.user');
    assert.equal(meta.type('microsoft.graph.security.alert')?.kind, 'entity');
    assert.ok(meta.enums.get('microsoft.graph.conditionalAccessGuestOrExternalUserTypes')?.flags);
  });
});

describe('conformsToMetadata on Microsoft v1.0 examples', () => {
  const conforming: [string, string][] = [
    ['signins-list.json', 'signIn'],
    ['signins-list-filter-top.json', 'signIn'],
    ['signin-get.json', 'signIn'],
    ['users-list.json', 'user'],
    ['users-list-signInActivity.json', 'user'],
    ['users-delta.json', 'user'],
    ['users-delta-initial-nextlink.json', 'user'],
    ['users-delta-final-deltalink.json', 'user'],
    ['users-delta-default-properties.json', 'user'],
    ['groups-list.json', 'group'],
    ['groups-delta.json', 'group'],
    ['groups-delta-initial-nextlink.json', 'group'],
    ['groups-delta-page2-nextlink.json', 'group'],
    ['groups-delta-final-deltalink.json', 'group'],
    ['group-members.json', 'user'], // see below: the example has no @odata.type
    ['conditionalAccessPolicies-list.json', 'conditionalAccessPolicy'],
    ['applications-list.json', 'application'],
    ['servicePrincipals-list-minimal.json', 'servicePrincipal'],
    ['managedDevices-list.json', 'managedDevice'],
    ['beta/riskyUsers-list.json', 'riskyUser'], // beta values, but every one is valid v1.0
  ];
  for (const [file, type] of conforming) {
    it(`${file} conforms to ${type}`, () => {
      assert.ok(list(file).value.length > 0, 'the check must see at least one item');
      assert.deepEqual(checkList(file, type), []);
    });
  }

  it('single-entity examples conform: application, passwordCredential', () => {
    assert.deepEqual(
      conformsToMetadata(loadGraphFixture('graph-v1/application-get.json') as Obj, 'application', meta),
      [],
    );
    assert.deepEqual(
      conformsToMetadata(loadGraphFixture('graph-v1/application-addPassword.json') as Obj, 'passwordCredential', meta),
      [],
    );
  });

  // Microsoft's examples that break the schema: the checker must name exactly the fault.
  it('riskyUsers-list.json (v1.0): the type placeholders written as strings', () => {
    assert.deepEqual(checkList('riskyUsers-list.json', 'riskyUser'), [
      'value[0].isDeleted: Edm.Boolean needs a boolean, got string "Boolean"',
      'value[0].isProcessing: Edm.Boolean needs a boolean, got string "Boolean"',
      'value[0].riskLevel: "String" is not a member of microsoft.graph.riskLevel',
      'value[0].riskState: "String" is not a member of microsoft.graph.riskState',
      'value[0].riskDetail: "String" is not a member of microsoft.graph.riskDetail',
    ]);
  });

  it('directoryAudits-list.json: targetResources[].Type capitalised', () => {
    assert.deepEqual(checkList('directoryAudits-list.json', 'directoryAudit'), [
      'value[0].targetResources[0].Type: not defined for microsoft.graph.targetResource',
      'value[0].targetResources[1].Type: not defined for microsoft.graph.targetResource',
    ]);
  });

  it('authentication-methods-list.json: the fido2 item says creationDateTime (checked as its @odata.type)', () => {
    assert.deepEqual(checkList('authentication-methods-list.json', 'authenticationMethod'), [
      'value[0].creationDateTime: not defined for microsoft.graph.fido2AuthenticationMethod',
    ]);
  });

  it('riskDetections-list.json: tokenIssuerType is a display name, not an enum member', () => {
    assert.deepEqual(checkList('riskDetections-list.json', 'riskDetection'), [
      'value[0].tokenIssuerType: "Azure Active Directory" is not a member of microsoft.graph.tokenIssuerType',
    ]);
  });

  it('userRegistrationDetails-list.json: an empty string as the preferred secondary method', () => {
    assert.deepEqual(checkList('userRegistrationDetails-list.json', 'userRegistrationDetails'), [
      'value[1].userPreferredMethodForSecondaryAuthentication: "" is not a member of microsoft.graph.userDefaultAuthenticationMethod',
    ]);
  });

  it('mailboxSettings-get.json: enum values capitalised as Exchange writes them', () => {
    assert.deepEqual(
      conformsToMetadata(loadGraphFixture('graph-v1/mailboxSettings-get.json') as Obj, 'mailboxSettings', meta),
      [
        'automaticRepliesSetting.status: "Scheduled" is not a member of microsoft.graph.automaticRepliesStatus',
        'automaticRepliesSetting.externalAudience: "All" is not a member of microsoft.graph.externalAudienceScope',
      ],
    );
  });

  it('group-members.json: without @odata.type a member is a bare directoryObject, which has no mail', () => {
    assert.deepEqual(checkList('group-members.json', 'directoryObject'), [
      'value[0].mail: not defined for microsoft.graph.directoryObject',
    ]);
  });

  it('servicePrincipals-list.json (2020): publisherName is no longer in the v1.0 schema', () => {
    assert.deepEqual(checkList('servicePrincipals-list.json', 'servicePrincipal'), [
      'value[0].publisherName: not defined for microsoft.graph.servicePrincipal',
    ]);
  });

  it('directoryAudits-list-filter-initiatedBy.json: beta-only userIdentity properties on an open type', () => {
    assert.deepEqual(checkList('directoryAudits-list-filter-initiatedBy.json', 'directoryAudit'), [
      'value[0].initiatedBy.user.userType: not defined for microsoft.graph.userIdentity',
      'value[0].initiatedBy.user.homeTenantId: not defined for microsoft.graph.userIdentity',
      'value[0].initiatedBy.user.homeTenantName: not defined for microsoft.graph.userIdentity',
    ]);
  });

  it('beta/signins-list.json: beta-only properties are not v1.0', () => {
    const diffs = checkList('beta/signins-list.json', 'signIn');
    assert.equal(diffs.length, 22);
    assert.ok(diffs.includes('value[0].authenticationDetails: not defined for microsoft.graph.signIn'));
    assert.ok(diffs.includes('value[0].homeTenantName: not defined for microsoft.graph.signIn'));
    assert.ok(diffs.every((d) => d.endsWith('not defined for microsoft.graph.signIn')));
  });
});

describe('conformsToMetadata on mutations', () => {
  const signIn = () => clone(list('signins-list.json').value[0]!);

  it('reports an undefined property, a wrong JSON type and a wrong enum value, nested too', () => {
    const s = signIn();
    s['extraThing'] = 1;
    s['isInteractive'] = 'true';
    s['riskLevelDuringSignIn'] = 'severe';
    s['riskEventTypes'] = 'none';
    (s['location'] as Obj)['city'] = 7;
    ((s['location'] as Obj)['geoCoordinates'] as Obj)['lat'] = 1;
    (s['appliedConditionalAccessPolicies'] as Obj[])[0]!['result'] = 'passed';
    s['status'] = 'ok';
    assert.deepEqual(conformsToMetadata(s, 'signIn', meta), [
      'isInteractive: Edm.Boolean needs a boolean, got string "true"',
      'riskLevelDuringSignIn: "severe" is not a member of microsoft.graph.riskLevel',
      'riskEventTypes: Collection(microsoft.graph.riskEventType) needs an array, got string',
      'status: microsoft.graph.signInStatus needs an object, got string',
      'location.city: Edm.String needs a string, got number 7',
      'location.geoCoordinates.lat: not defined for microsoft.graph.geoCoordinates',
      'appliedConditionalAccessPolicies[0].result: "passed" is not a member of microsoft.graph.appliedConditionalAccessPolicyResult',
      'extraThing: not defined for microsoft.graph.signIn',
    ]);
  });

  it('accepts null, unknownFutureValue and annotations', () => {
    const s = signIn();
    s['riskLevelDuringSignIn'] = 'unknownFutureValue';
    s['location'] = null;
    s['@odata.etag'] = 'W/"1"';
    s['appId@odata.type'] = '#String';
    assert.deepEqual(conformsToMetadata(s, 'signIn', meta), []);
    s['nothing@delta'] = [];
    assert.deepEqual(conformsToMetadata(s, 'signIn', meta), ['nothing@delta: annotates undefined property nothing']);
  });

  it('checks a derived type named by @odata.type and rejects one that does not derive', () => {
    const member: Obj = {
      '@odata.type': '#microsoft.graph.user',
      id: 'x',
      userPrincipalName: 'a@b',
      deletedDateTime: null,
    };
    assert.deepEqual(conformsToMetadata(member, 'directoryObject', meta), []);
    member['mailEnabled'] = true; // a group property
    assert.deepEqual(conformsToMetadata(member, 'directoryObject', meta), [
      'mailEnabled: not defined for microsoft.graph.user',
    ]);
    assert.deepEqual(conformsToMetadata({ '@odata.type': '#microsoft.graph.group' }, 'user', meta), [
      '(root): @odata.type #microsoft.graph.group does not derive from microsoft.graph.user',
    ]);
    assert.deepEqual(conformsToMetadata({ '@odata.type': '#microsoft.graph.nope' }, 'user', meta), [
      '(root): @odata.type #microsoft.graph.nope is not a type in the schema',
    ]);
  });

  it('splits flags enums and honours allowExtra', () => {
    const p = clone(list('conditionalAccessPolicies-list.json').value[0]!);
    const users = (p['conditions'] as Obj)['users'] as Obj;
    users['includeGuestsOrExternalUsers'] = {
      guestOrExternalUserTypes: 'internalGuest,b2bCollaborationGuest',
      externalTenants: null,
    };
    assert.deepEqual(conformsToMetadata(p, 'conditionalAccessPolicy', meta), []);
    users['includeGuestsOrExternalUsers'] = { guestOrExternalUserTypes: 'internalGuest,bogus' };
    assert.deepEqual(conformsToMetadata(p, 'conditionalAccessPolicy', meta), [
      'conditions.users.includeGuestsOrExternalUsers.guestOrExternalUserTypes: "internalGuest,bogus" ' +
        'is not a member of microsoft.graph.conditionalAccessGuestOrExternalUserTypes',
    ]);
    const s = signIn();
    s['userAgent'] = 'x';
    assert.deepEqual(conformsToMetadata(s, 'signIn', meta, { allowExtra: ['userAgent'] }), []);
  });
});

describe('compareShape', () => {
  it('finds no difference between any Microsoft fixture and itself', () => {
    const dir = new URL('../../../shared/fixtures/microsoft/graph-v1/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 30);
    for (const f of files) assert.deepEqual(compareShape(list(f), list(f)), [], f);
  });

  it('matches examples of the same response that differ only in links and values', () => {
    assert.deepEqual(compareShape(list('signins-list-filter-top.json'), list('signins-list.json')), []);
    assert.deepEqual(
      compareShape(list('groups-delta-page2-nextlink.json'), list('groups-delta-initial-nextlink.json')),
      [],
    );
    assert.deepEqual(compareShape(list('signin-get.json'), list('signins-list.json')), ['@odata.nextLink: missing']);
    assert.deepEqual(
      compareShape(list('users-delta-final-deltalink.json'), list('users-delta-initial-nextlink.json')),
      ['@odata.nextLink: missing', '@odata.deltaLink: extra property'],
    );
  });

  it('reports a renamed property, a changed type and an extra property with their paths', () => {
    const mutated = clone(list('signins-list.json'));
    const s = mutated.value[0]!;
    s['userName'] = s['userDisplayName'];
    delete s['userDisplayName'];
    s['isInteractive'] = 'yes';
    (s['location'] as Obj)['geoCoordinates'] = [];
    (s['status'] as Obj)['errorCode'] = '0';
    mutated['@odata.nextLink'] = 5;
    assert.deepEqual(compareShape(mutated, list('signins-list.json')), [
      '@odata.nextLink: expected string, got number',
      'value[0].userDisplayName: missing',
      'value[0].isInteractive: expected boolean, got string',
      'value[0].status.errorCode: expected number, got string',
      'value[0].location.geoCoordinates: expected object, got array',
      'value[0].userName: extra property',
    ]);
  });

  it('lets the caller allow missing and extra properties by key, index-free path or predicate', () => {
    const actual = list('users-list-signInActivity.json');
    const expected = list('users-list.json');
    const optional = [
      'businessPhones',
      'givenName',
      'jobTitle',
      'mail',
      'mobilePhone',
      'officeLocation',
      'preferredLanguage',
      'surname',
    ];
    assert.deepEqual(
      compareShape(actual, expected, '', { allowMissing: optional, allowExtra: ['value[].signInActivity'] }),
      [],
    );
    assert.deepEqual(
      compareShape(actual, expected, '', {
        allowMissing: () => true,
        allowExtra: (p) => p.endsWith('.signInActivity'),
      }),
      [],
    );
    assert.equal(compareShape(actual, expected, '', { allowMissing: optional }).length, 2);
  });

  it('treats null on either side as any type, and an empty example array as any elements', () => {
    assert.deepEqual(compareShape({ a: null, b: 1 }, { a: { x: 1 }, b: null }), []);
    assert.deepEqual(compareShape({ a: [1, 'x', {}] }, { a: [] }), []);
    assert.deepEqual(compareShape({ a: [1, 'x'] }, { a: [2] }), ['a[1]: expected number, got string']);
    assert.deepEqual(compareShape('x', 1, 'root'), ['root: expected number, got string']);
  });

  it('compares array items with the best-fitting example of the same @odata.type', () => {
    const example = list('groups-delta.json'); // members@delta: a user and a removed user
    const actual = clone(example);
    const m = actual.value[0]!['members@delta'] as Obj[];
    m.push({ '@odata.type': '#microsoft.graph.group', id: 'g' });
    m.push({ '@odata.type': '#microsoft.graph.user', id: 'u', '@removed': { reason: 7 } });
    assert.deepEqual(compareShape(actual, example), [
      'value[0].members@delta[2].@odata.type: expected "#microsoft.graph.user", got "#microsoft.graph.group"',
      'value[0].members@delta[3].@removed.reason: expected string, got number',
    ]);
  });

  it('compares mixed arrays item by item: delta changes and removals, audit targets of two kinds', () => {
    const delta = clone(list('users-delta.json'));
    delta.value.reverse();
    assert.deepEqual(compareShape(delta, list('users-delta.json')), []);
    const audit = clone(list('directoryAudits-list.json'));
    const targets = audit.value[0]!['targetResources'] as Obj[];
    targets.push(clone(targets[1]!), clone(targets[0]!));
    assert.deepEqual(compareShape(audit, list('directoryAudits-list.json')), []);
    targets.push({
      id: 'x',
      displayName: null,
      Type: 'User',
      modifiedProperties: [],
      groupType: 'x',
      userPrincipalName: 'y',
    });
    assert.deepEqual(compareShape(audit, list('directoryAudits-list.json')), [
      'value[0].targetResources[4].userPrincipalName: extra property',
    ]);
  });
});

describe('compareNulls', () => {
  it('finds no difference between a fixture and itself, nor between two examples of the same situation', () => {
    assert.deepEqual(compareNulls(list('signins-list.json'), list('signins-list.json')), []);
    assert.deepEqual(compareNulls(list('signin-get.json'), list('signins-list.json')), []);
  });

  it('reports "", false or a reason where the example has null, and null where it has a value', () => {
    const s = clone(list('signins-list.json').value[0]!);
    (s['status'] as Obj)['failureReason'] = 'Other.';
    (s['deviceDetail'] as Obj)['displayName'] = '';
    (s['deviceDetail'] as Obj)['isCompliant'] = false;
    (s['deviceDetail'] as Obj)['deviceId'] = null;
    const example = list('signins-list.json').value[0]!;
    assert.deepEqual(compareNulls(s, example), [
      'status.failureReason: example null, got "Other."',
      'deviceDetail.deviceId: example "", got null',
      'deviceDetail.displayName: example null, got ""',
      'deviceDetail.isCompliant: example null, got false',
    ]);
    assert.deepEqual(compareNulls(s, example, '', { ignore: ['deviceDetail.deviceId', 'failureReason'] }).length, 2);
  });

  it('tells Microsoft\'s v1.0 and beta examples apart: beta writes an unregistered device with "" and false', () => {
    const v1 = list('signins-list.json').value[0]!;
    const beta = list('beta/signins-list.json').value[0]!;
    assert.deepEqual(compareNulls(beta['deviceDetail'], v1['deviceDetail']), [
      'displayName: example null, got ""',
      'isCompliant: example null, got false',
      'isManaged: example null, got false',
      'trustType: example null, got ""',
    ]);
  });
});
