// The directory audit log (auditLogs/directoryAudits): a few events an hour, more in working
// hours, each a pure function of (tenant, hour, index) so that any hour can be read without
// generating the ones around it.
import { guidOf, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { applications, firstPartyServicePrincipalId } from './apps.js';
import { APPS } from './catalog.js';
import { personAt, type Person } from './people.js';
import { ROLES } from './roles.js';
import { HOUR, isoTicks } from './time.js';

// Mean-one weights by UTC hour, as sign-ins (administrators work office hours too).
const AUDIT_DIURNAL = [
  0.3, 0.3, 0.3, 0.3, 0.4, 0.6, 1.0, 1.4, 1.6, 1.7, 1.6, 1.5, 1.4, 1.5, 1.7, 1.8, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5, 0.4,
  0.3,
];

/** How many audit events a tenant logs in an hour (a few an hour, more in working hours). */
export function auditCountIn(tenant: SimTenant, hour: number): number {
  const t = hour * HOUR;
  const day = new Date(t).getUTCDay();
  const perHour =
    (2 + tenant.userCount / 250) * AUDIT_DIURNAL[new Date(t).getUTCHours()]! * (day === 0 || day === 6 ? 0.3 : 1.2);
  return Math.floor(perHour + mix(tenant.salt, 100, hour) / 4294967296);
}

/** When audit event i of n in an hour happened: rising with i, so an hour is ordered without generating it. */
export const auditTimeOf = (tenant: SimTenant, hour: number, i: number, n: number): number =>
  hour * HOUR + Math.floor(((i + mix(tenant.salt, 101, hour, i) / 4294967296) / n) * HOUR);

const GROUP_NAMES = [
  'All Staff',
  'Sales Team',
  'Finance Approvers',
  'VPN Users',
  'Engineering',
  'Project Falcon',
  'Marketing',
  'Helpdesk Operators',
];
/** The Microsoft service that writes directory changes coming from Exchange and sync. */
const systemApp = (tenant: SimTenant) => ({
  appId: null,
  displayName: 'Microsoft Substrate Management',
  servicePrincipalId: guidOf(tenant.salt, 104),
  servicePrincipalName: null,
});

type AuditKind =
  | 'updateUser'
  | 'addMember'
  | 'selfServiceReset'
  | 'adminReset'
  | 'addUser'
  | 'appCredential'
  | 'addRoleMember'
  | 'consent'
  | 'deleteUser';
const AUDIT_MIX: ReadonlyArray<readonly [AuditKind, number]> = [
  ['updateUser', 30],
  ['addMember', 20],
  ['selfServiceReset', 8],
  ['adminReset', 6],
  ['addUser', 4],
  ['appCredential', 3],
  ['consent', 2],
  ['deleteUser', 2],
  ['addRoleMember', 1],
];

/** Audit event i of the hour, as Graph's directoryAudit (v1.0 properties only). */
export function auditEvent(
  tenant: SimTenant,
  start: number,
  hour: number,
  i: number,
  time: number,
): Record<string, unknown> {
  const rng = new Rng(mix(tenant.salt, 102, hour, i));
  const correlationId = rng.guid();
  const kind = rng.weighted(AUDIT_MIX);
  const person = (from: number) => personAt(tenant, from + rng.int(Math.max(1, tenant.userCount - from)), start);
  const admin = personAt(tenant, rng.int(Math.max(1, Math.min(tenant.globalAdmins, tenant.userCount))), start);
  const target = person(0);
  const byUser = (p: Person, ip = p.homeIp) => ({
    user: { id: p.id, displayName: p.displayName, userPrincipalName: p.userPrincipalName, ipAddress: ip },
    app: null,
  });
  const userTarget = (p: Person, modified: Array<[string, string | null, string | null]> = []) => ({
    id: p.id,
    displayName: null,
    type: 'User',
    userPrincipalName: p.userPrincipalName,
    groupType: null,
    modifiedProperties: modified.map(([displayName, oldValue, newValue]) => ({ displayName, oldValue, newValue })),
  });
  let category = 'UserManagement';
  let service = 'Core Directory';
  let activity: string;
  let operationType: string;
  let initiatedBy: Record<string, unknown> = byUser(admin);
  let targets: Record<string, unknown>[];
  let details: Array<{ key: string; value: string }> = [{ key: 'UserType', value: target.userType }];
  switch (kind) {
    case 'updateUser': {
      activity = 'Update user';
      operationType = 'Update';
      const fromSync = target.synced && rng.chance(0.5);
      if (fromSync) initiatedBy = { user: null, app: systemApp(tenant) };
      targets = [
        userTarget(target, [
          ['JobTitle', '["Specialist"]', '["Manager"]'],
          ['Included Updated Properties', null, '"JobTitle"'],
        ]),
      ];
      break;
    }
    case 'addMember': {
      category = 'GroupManagement';
      activity = 'Add member to group';
      operationType = 'Assign';
      const g = rng.int(GROUP_NAMES.length);
      targets = [
        {
          id: guidOf(tenant.salt, 103, g),
          displayName: GROUP_NAMES[g]!,
          type: 'Group',
          userPrincipalName: null,
          groupType: g % 2 === 0 ? 'unifiedGroups' : 'azureAD',
          modifiedProperties: [{ displayName: 'Group.DisplayName', oldValue: null, newValue: `"${GROUP_NAMES[g]!}"` }],
        },
        userTarget(target),
      ];
      break;
    }
    case 'selfServiceReset':
      service = 'Self-service Password Management';
      activity = 'Reset password (self-service)';
      operationType = 'Update';
      initiatedBy = byUser(target);
      targets = [userTarget(target)];
      details = [];
      break;
    case 'adminReset':
      activity = 'Reset user password';
      operationType = 'Update';
      targets = [userTarget(target)];
      break;
    case 'addUser':
      activity = 'Add user';
      operationType = 'Add';
      targets = [
        userTarget(target, [
          ['AccountEnabled', '[]', '[true]'],
          ['DisplayName', '[]', `["${target.displayName}"]`],
        ]),
      ];
      break;
    case 'deleteUser':
      activity = 'Delete user';
      operationType = 'Delete';
      targets = [userTarget(target)];
      break;
    case 'appCredential': {
      category = 'ApplicationManagement';
      activity = 'Update application – Certificates and secrets management '; // sic: Entra's name ends in a space
      operationType = 'Update';
      const apps = applications(tenant, start);
      const app = apps[rng.int(apps.length)]!;
      targets = [
        {
          id: app.id,
          displayName: app.displayName,
          type: 'Application',
          userPrincipalName: null,
          groupType: null,
          modifiedProperties: [
            {
              displayName: 'KeyDescription',
              oldValue: '[]',
              newValue: `["[KeyIdentifier=${rng.guid()},KeyType=Password,KeyUsage=Verify,DisplayName=Production]"]`,
            },
          ],
        },
      ];
      details = [{ key: 'AppId', value: app.appId }];
      break;
    }
    case 'consent': {
      category = 'ApplicationManagement';
      activity = 'Consent to application';
      operationType = 'Assign';
      initiatedBy = byUser(target);
      const app = APPS[rng.int(APPS.length)]!;
      targets = [
        {
          id: firstPartyServicePrincipalId(tenant, app.appId),
          displayName: app.name,
          type: 'ServicePrincipal',
          userPrincipalName: null,
          groupType: null,
          modifiedProperties: [
            { displayName: 'ConsentAction.Permissions', oldValue: null, newValue: '"Scope: User.Read"' },
          ],
        },
      ];
      details = [{ key: 'AppId', value: app.appId }];
      break;
    }
    case 'addRoleMember': {
      category = 'RoleManagement';
      activity = 'Add member to role';
      operationType = 'Assign';
      const role = ROLES.helpdeskAdmin;
      targets = [
        userTarget(target, [
          ['Role.DisplayName', null, `"${role.displayName}"`],
          ['Role.TemplateId', null, `"${role.templateId}"`],
        ]),
      ];
      break;
    }
  }
  const prefix = service === 'Self-service Password Management' ? 'SSPR' : 'Directory';
  return {
    id: `${prefix}_${correlationId}_${rng.guid().slice(0, 5).toUpperCase()}_${100_000_000 + rng.int(900_000_000)}`,
    category,
    correlationId,
    result: 'success',
    resultReason: '',
    activityDisplayName: activity,
    activityDateTime: isoTicks(time, rng.int(10_000)),
    loggedByService: service,
    operationType,
    initiatedBy,
    targetResources: targets,
    additionalDetails: details,
  };
}
