// Directory roles: Entra's built-in roles and who holds them. Global Administrators are the
// tenant's first people (Person.globalAdmin); the other seats go to enabled members after them,
// and in the attack scenario one goes to a guest. Holders are user indexes of the generated
// directory; the routes drop the ones deleted at run time.
import { guidOf, hashString } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { personAt, type Person } from './people.js';

export type RoleKey =
  | 'globalAdmin'
  | 'privilegedRoleAdmin'
  | 'securityAdmin'
  | 'exchangeAdmin'
  | 'userAdmin'
  | 'helpdeskAdmin'
  | 'globalReader'
  | 'conditionalAccessAdmin'
  | 'applicationAdmin'
  | 'authenticationAdmin'
  | 'directoryReaders'
  | 'reportsReader';

/** Built-in roles with their template ids and descriptions (Entra "built-in roles" reference). */
export const ROLES: Record<
  RoleKey,
  { templateId: string; displayName: string; description: string; actions: string[] }
> = {
  globalAdmin: {
    templateId: '62e90394-69f5-4237-9190-012177145e10',
    displayName: 'Global Administrator',
    description:
      'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.',
    actions: [
      'microsoft.directory/users/allProperties/allTasks',
      'microsoft.directory/roleAssignments/allProperties/allTasks',
    ],
  },
  privilegedRoleAdmin: {
    templateId: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
    displayName: 'Privileged Role Administrator',
    description:
      'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.',
    actions: [
      'microsoft.directory/roleAssignments/allProperties/allTasks',
      'microsoft.directory/roleDefinitions/allProperties/allTasks',
    ],
  },
  securityAdmin: {
    templateId: '194ae4cb-b126-40b2-bd5b-6091b380977d',
    displayName: 'Security Administrator',
    description:
      'Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.',
    actions: [
      'microsoft.directory/conditionalAccessPolicies/allProperties/allTasks',
      'microsoft.directory/identityProtection/allProperties/allTasks',
    ],
  },
  exchangeAdmin: {
    templateId: '29232cdf-9323-42fd-ade2-1d097af3e4de',
    displayName: 'Exchange Administrator',
    description: 'Can manage all aspects of the Exchange product.',
    actions: ['microsoft.office365.exchange/allEntities/basic/allTasks'],
  },
  userAdmin: {
    templateId: 'fe930be7-5e62-47db-91af-98c3a49a38b1',
    displayName: 'User Administrator',
    description: 'Can manage all aspects of users and groups, including resetting passwords for limited admins.',
    actions: [
      'microsoft.directory/users/create',
      'microsoft.directory/users/delete',
      'microsoft.directory/users/password/update',
    ],
  },
  helpdeskAdmin: {
    templateId: '729827e3-9c14-49f7-bb1b-9608f156bbb8',
    displayName: 'Helpdesk Administrator',
    description: 'Can reset passwords for non-administrators and Helpdesk Administrators.',
    actions: ['microsoft.directory/users/password/update', 'microsoft.directory/users/invalidateAllRefreshTokens'],
  },
  globalReader: {
    templateId: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451',
    displayName: 'Global Reader',
    description: 'Can read everything that a Global Administrator can, but not update anything.',
    actions: ['microsoft.directory/users/allProperties/read', 'microsoft.directory/auditLogs/allProperties/read'],
  },
  conditionalAccessAdmin: {
    templateId: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9',
    displayName: 'Conditional Access Administrator',
    description: 'Can manage Conditional Access capabilities.',
    actions: ['microsoft.directory/conditionalAccessPolicies/allProperties/allTasks'],
  },
  applicationAdmin: {
    templateId: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
    displayName: 'Application Administrator',
    description: 'Can create and manage all aspects of app registrations and enterprise apps.',
    actions: ['microsoft.directory/applications/allProperties/allTasks'],
  },
  authenticationAdmin: {
    templateId: 'c4e39bd9-1100-46d3-8c65-fb160da0071f',
    displayName: 'Authentication Administrator',
    description: 'Can access to view, set and reset authentication method information for any non-admin user.',
    actions: ['microsoft.directory/users/authenticationMethods/standard/restrictedRead'],
  },
  directoryReaders: {
    templateId: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b',
    displayName: 'Directory Readers',
    description:
      'Can read basic directory information. Commonly used to grant directory read access to applications and guests.',
    actions: ['microsoft.directory/users/standard/read'],
  },
  reportsReader: {
    templateId: '4a5d8f65-41da-4de4-8968-e035b65339cf',
    displayName: 'Reports Reader',
    description: 'Can read sign-in and audit reports.',
    actions: [
      'microsoft.directory/auditLogs/allProperties/read',
      'microsoft.directory/signInReports/allProperties/read',
    ],
  },
};

export interface RoleHolder {
  role: RoleKey;
  index: number;
}

// Roles besides Global Administrator, and how many people hold each.
const ROLE_SEATS: Array<[RoleKey, number]> = [
  ['privilegedRoleAdmin', 1],
  ['securityAdmin', 2],
  ['exchangeAdmin', 1],
  ['userAdmin', 2],
  ['helpdeskAdmin', 3],
  ['globalReader', 1],
];

/** Who holds which role: Global Administrators first, then members after them, seat by seat. */
function planRoles(tenant: SimTenant, start: number): RoleHolder[] {
  const holders: RoleHolder[] = [];
  for (let i = 0; i < Math.min(tenant.globalAdmins, tenant.userCount); i++)
    holders.push({ role: 'globalAdmin', index: i });
  const seats = ROLE_SEATS.flatMap(([role, n]) => Array.from({ length: n }, () => role));
  // The attack scenario's posture gap: a guest holds an administrator role.
  const guestSeat = tenant.scenario === 'attacks' ? seats.pop() : undefined;
  let i = tenant.globalAdmins;
  for (const role of seats) {
    while (i < tenant.userCount) {
      const p = personAt(tenant, i++, start);
      if (p.userType === 'Member' && p.accountEnabled) {
        holders.push({ role, index: p.index });
        break;
      }
    }
  }
  if (guestSeat) {
    for (let g = tenant.globalAdmins; g < tenant.userCount; g++) {
      if (personAt(tenant, g, start).userType === 'Guest') {
        holders.push({ role: guestSeat, index: g });
        break;
      }
    }
  }
  return holders;
}

/** The role plan, built once per tenant: every holder, and the indexes of those holding a role other than Global Administrator. */
const planCache = new WeakMap<SimTenant, { holders: RoleHolder[]; otherRoles: Set<number> }>();
function rolePlan(tenant: SimTenant, start: number) {
  let plan = planCache.get(tenant);
  if (!plan) {
    const holders = planRoles(tenant, start);
    plan = { holders, otherRoles: new Set(holders.filter((h) => h.role !== 'globalAdmin').map((h) => h.index)) };
    planCache.set(tenant, plan);
  }
  return plan;
}

/** Every role assignment of the generated directory, Global Administrators first. */
export const roleHolders = (tenant: SimTenant, start: number): RoleHolder[] => rolePlan(tenant, start).holders;

/** Whether the person holds any administrator role (the registration report's isAdmin). */
export const isAdmin = (tenant: SimTenant, p: Person, start: number): boolean =>
  p.globalAdmin || rolePlan(tenant, start).otherRoles.has(p.index);

/** .NET Guid byte order: the first three groups little-endian. */
function guidBytes(guid: string): Buffer {
  const b = Buffer.from(guid.replace(/-/g, ''), 'hex');
  return Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
}

/** A role assignment id as Entra forms it: role template and principal ids, base64url, "-1". */
export const roleAssignmentId = (templateId: string, principalId: string): string =>
  `${guidBytes(templateId).toString('base64url')}${guidBytes(principalId).toString('base64url')}-1`;

/** Activated directory roles (those with members), with their tenant-specific object ids. */
export function directoryRoles(
  tenant: SimTenant,
  start: number,
): Array<{ id: string; role: RoleKey; members: number[] }> {
  const out: Array<{ id: string; role: RoleKey; members: number[] }> = [];
  for (const key of Object.keys(ROLES) as RoleKey[]) {
    const members = roleHolders(tenant, start)
      .filter((r) => r.role === key)
      .map((r) => r.index);
    if (members.length > 0) out.push({ id: guidOf(tenant.salt, 70, hashString(key)), role: key, members });
  }
  return out;
}
