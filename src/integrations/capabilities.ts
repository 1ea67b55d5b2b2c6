// What an integration can collect and do: every data type with the application permissions
// Microsoft's permission tables accept for it, the licence it needs and the cheap request that
// proves it works; every remediation action with the permissions it needs (DESIGN §1,
// reference/graph-facts.md §2–5). Pure data and pure functions: connectivity.ts does the probing.

/**
 * Permissions as a conjunction of any-of sets: every set must be met by at least one of its
 * permissions. The first permission of a set is the least privileged one, the one to ask for.
 */
export type PermissionRequirement = readonly (readonly string[])[];

export type LicenceNeed = 'none' | 'p1' | 'p2' | 'intune';

/** Graph's throttling families (graph-facts §6): probes in one family are sent one at a time. */
export type ThrottleFamily = 'reports' | 'signInActivity' | 'identityProtection' | 'directory' | 'intune';

export type DataTypeId =
  | 'signIns'
  | 'nonInteractiveSignIns'
  | 'directoryAudits'
  | 'users'
  | 'signInActivity'
  | 'groups'
  | 'mfaRegistration'
  | 'riskyUsers'
  | 'riskDetections'
  | 'conditionalAccess'
  | 'applications'
  | 'roleAssignments'
  | 'managedDevices'
  | 'licences';

export interface DataTypeDef {
  id: DataTypeId;
  label: string;
  permissions: PermissionRequirement;
  licence: LicenceNeed;
  family: ThrottleFamily;
  /** The cheapest request that proves the data can be read: path with version and query. */
  probe: string;
}

const AUDIT_LOG = ['AuditLog.Read.All'] as const;
const USERS = ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'] as const;
const GROUPS = [
  'GroupMember.Read.All',
  'Group.Read.All',
  'Group.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
] as const;
const APPLICATIONS = [
  'Application.Read.All',
  'Application.ReadWrite.All',
  'Directory.Read.All',
  'Directory.ReadWrite.All',
] as const;

/** Global Administrator's role template id (rbacapplication-list-roleassignments.md example). */
export const GLOBAL_ADMIN_ROLE = '62e90394-69f5-4237-9190-012177145e10';

export const DATA_TYPES: readonly DataTypeDef[] = [
  {
    id: 'signIns',
    label: 'Interactive sign-ins',
    // v1.0 table: AuditLog.Read.All least privileged; an older page also asked for Directory.Read.All
    permissions: [AUDIT_LOG],
    licence: 'p1',
    family: 'reports',
    // signIns takes $top, $skiptoken and $filter only (no $select)
    probe: '/v1.0/auditLogs/signIns?$top=1',
  },
  {
    id: 'nonInteractiveSignIns',
    label: 'Non-interactive, service principal and managed identity sign-ins (beta)',
    permissions: [AUDIT_LOG],
    licence: 'p1',
    family: 'reports',
    probe: "/beta/auditLogs/signIns?$top=1&$filter=signInEventTypes/any(t: t eq 'nonInteractiveUser')",
  },
  {
    id: 'directoryAudits',
    label: 'Directory audit log',
    permissions: [AUDIT_LOG],
    licence: 'none',
    family: 'reports',
    probe: '/v1.0/auditLogs/directoryAudits?$top=1&$select=id',
  },
  {
    id: 'users',
    label: 'Users',
    permissions: [USERS],
    licence: 'none',
    family: 'directory',
    probe: '/v1.0/users?$top=1&$select=id',
  },
  {
    id: 'signInActivity',
    label: 'Last sign-in per user (signInActivity)',
    // "requires a Microsoft Entra ID P1 or P2 license and the AuditLog.Read.All permission", on top of reading users
    permissions: [AUDIT_LOG, USERS],
    licence: 'p1',
    family: 'signInActivity',
    probe: '/v1.0/users?$select=id,signInActivity&$top=1',
  },
  {
    id: 'groups',
    label: 'Groups and memberships',
    permissions: [GROUPS],
    licence: 'none',
    family: 'directory',
    probe: '/v1.0/groups?$top=1&$select=id',
  },
  {
    id: 'mfaRegistration',
    label: 'MFA registration details',
    permissions: [['AuditLog.Read.All', 'UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All']],
    licence: 'p1',
    family: 'reports',
    // documented query options are $filter and $orderby; $top is accepted (Graph PowerShell's -Top)
    probe: '/v1.0/reports/authenticationMethods/userRegistrationDetails?$top=1',
  },
  {
    id: 'riskyUsers',
    label: 'Risky users',
    permissions: [['IdentityRiskyUser.Read.All', 'IdentityRiskyUser.ReadWrite.All']],
    licence: 'p2',
    family: 'identityProtection',
    probe: '/v1.0/identityProtection/riskyUsers?$top=1',
  },
  {
    id: 'riskDetections',
    label: 'Risk detections',
    permissions: [['IdentityRiskEvent.Read.All', 'IdentityRiskEvent.ReadWrite.All']],
    licence: 'p2',
    family: 'identityProtection',
    probe: '/v1.0/identityProtection/riskDetections?$top=1&$select=id',
  },
  {
    id: 'conditionalAccess',
    label: 'Conditional Access policies',
    permissions: [['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess']],
    licence: 'p1',
    family: 'identityProtection',
    probe: '/v1.0/identity/conditionalAccess/policies?$top=1&$select=id',
  },
  {
    id: 'applications',
    label: 'Applications and service principal credentials',
    permissions: [APPLICATIONS],
    licence: 'none',
    family: 'directory',
    probe: '/v1.0/applications?$top=1&$select=id',
  },
  {
    id: 'roleAssignments',
    label: 'Privileged role assignments',
    permissions: [
      [
        'RoleManagement.Read.Directory',
        'RoleManagement.Read.All',
        'RoleManagement.ReadWrite.Directory',
        'Directory.Read.All',
        'Directory.ReadWrite.All',
      ],
    ],
    licence: 'none',
    family: 'directory',
    // documented options are $filter, $expand and $select: the Global Administrator assignments, ids only
    probe: `/v1.0/roleManagement/directory/roleAssignments?$filter=roleDefinitionId eq '${GLOBAL_ADMIN_ROLE}'&$select=id`,
  },
  {
    id: 'managedDevices',
    label: 'Intune managed devices',
    permissions: [['DeviceManagementManagedDevices.Read.All', 'DeviceManagementManagedDevices.ReadWrite.All']],
    licence: 'intune',
    family: 'intune',
    probe: '/v1.0/deviceManagement/managedDevices?$top=1&$select=id',
  },
  {
    id: 'licences',
    label: 'Licences (subscribed SKUs)',
    permissions: [
      [
        'LicenseAssignment.Read.All',
        'Organization.Read.All',
        'Directory.Read.All',
        'Organization.ReadWrite.All',
        'Directory.ReadWrite.All',
      ],
    ],
    licence: 'none',
    family: 'directory',
    // subscribedSkus takes $select only; the whole (short) list is the answer we want anyway
    probe: '/v1.0/subscribedSkus?$select=skuId,skuPartNumber,prepaidUnits,consumedUnits,servicePlans',
  },
];

export const DATA_TYPE_IDS: readonly DataTypeId[] = DATA_TYPES.map((d) => d.id);
export const isDataTypeId = (s: string): s is DataTypeId => (DATA_TYPE_IDS as readonly string[]).includes(s);

export type ActionId = 'updateUserType' | 'deleteGuestUser' | 'revokeSessions' | 'resetMfa';

export interface ActionDef {
  action: ActionId;
  label: string;
  permissions: PermissionRequirement;
}

/** Remediation actions (DESIGN §1, graph-facts §5); each any-of set lists the least privileged first. */
export const ACTIONS: readonly ActionDef[] = [
  {
    action: 'updateUserType',
    label: 'Update User Type',
    permissions: [['User.ReadWrite.All', 'Directory.ReadWrite.All']],
  },
  {
    action: 'deleteGuestUser',
    label: 'Delete Guest User',
    permissions: [['User.ReadWrite.All', 'Directory.ReadWrite.All']],
  },
  // revokeSignInSessions: User.ReadWrite.All / Directory.ReadWrite.All as the product page asks; the narrower User.RevokeSessions.All works too
  {
    action: 'revokeSessions',
    label: 'User Log out',
    permissions: [['User.ReadWrite.All', 'User.RevokeSessions.All', 'Directory.ReadWrite.All']],
  },
  { action: 'resetMfa', label: 'Reset MFA', permissions: [['UserAuthenticationMethod.ReadWrite.All']] },
];

/** Reading the app's own passwordCredentials: /applications (graph-facts §4, application-list permissions). */
export const OWN_SECRET_PERMISSIONS: PermissionRequirement = [
  [
    'Application.Read.All',
    'Application.ReadWrite.OwnedBy',
    'Application.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
];

const LICENCE_NOTES: Record<LicenceNeed, string> = {
  none: '',
  p1: ' (needs Entra ID P1 or P2)',
  p2: ' (needs Entra ID P2)',
  intune: ' (needs an Intune licence)',
};

/** A permission to grant and what it lets idsight do. */
export interface PermissionUse {
  permission: string;
  set: 'read-only' | 'read-write';
  /** The data types (with the licence each needs) or the actions it allows. */
  allows: string[];
}

/**
 * The permissions to ask for, as docs/entra-app-registration.md lists them: the least privileged
 * permission of every set a data type needs (and, for `readWrite`, every remediation action), in
 * order of first use, with what each allows.
 */
export function permissionsToGrant(readWrite: boolean): PermissionUse[] {
  const uses = new Map<string, PermissionUse>();
  const need = (requirement: PermissionRequirement, set: PermissionUse['set'], what: string) => {
    for (const [permission] of requirement) {
      const use = uses.get(permission!) ?? { permission: permission!, set, allows: [] };
      use.allows.push(what);
      uses.set(permission!, use);
    }
  };
  for (const def of DATA_TYPES) need(def.permissions, 'read-only', def.label + LICENCE_NOTES[def.licence]);
  need(OWN_SECRET_PERMISSIONS, 'read-only', "This app's own client secret expiry");
  if (readWrite) for (const a of ACTIONS) need(a.permissions, 'read-write', a.label);
  return [...uses.values()];
}

/** The permissions to ask for (the least privileged of each unmet set); [] when all are met. */
export function missingPermissions(requirement: PermissionRequirement, roles: Iterable<string>): string[] {
  const granted = new Set(roles);
  return requirement.filter((set) => !set.some((p) => granted.has(p))).map((set) => set[0]!);
}

export type CapabilityStatus = 'available' | 'unavailable' | 'unknown';

/** Why a data type cannot be read. */
export type UnavailableReason =
  | 'missing_permission'
  | 'no_premium' // no Entra ID P1 or P2
  | 'no_p2'
  | 'no_intune'
  | 'graph_error'
  | 'not_checked'; // the test stopped (time limit, throttling, network) before this one answered

export interface Capability {
  dataType: DataTypeId;
  label: string;
  available: boolean;
  /** available | unavailable | unknown (not checked: the time limit or throttling stopped the test first). */
  status: CapabilityStatus;
  reasonCode?: UnavailableReason;
  /** In words, when not available. */
  reason?: string;
  /** Permissions to grant (least privileged of each unmet set), when that is the reason. */
  missingPermissions?: string[];
  /** Graph's error code behind the reason, if any. */
  graphCode?: string;
}

export interface ActionCapability {
  action: ActionId;
  label: string;
  enabled: boolean;
  missingPermissions: string[];
}

/** Each remediation action, enabled when the token's roles meet its permissions. */
export function actionCapabilities(roles: Iterable<string>): ActionCapability[] {
  const granted = [...roles];
  return ACTIONS.map((a) => {
    const missing = missingPermissions(a.permissions, granted);
    return { action: a.action, label: a.label, enabled: missing.length === 0, missingPermissions: missing };
  });
}

/** Read/write when the roles allow at least one remediation action. */
export function modeOf(roles: Iterable<string>): 'read-only' | 'read-write' {
  return actionCapabilities(roles).some((a) => a.enabled) ? 'read-write' : 'read-only';
}

/** Why the own-secret read is impossible with these roles, or undefined when they allow it. */
export function ownSecretUnavailable(roles: Iterable<string>): string | undefined {
  const missing = missingPermissions(OWN_SECRET_PERMISSIONS, roles);
  if (missing.length === 0) return undefined;
  return (
    "Reading the expiry of this app's own client secret needs the Application.Read.All application permission " +
    '(Directory.Read.All also allows it), with admin consent.'
  );
}

/** A data type the roles already rule out, before any request: unavailable with what to grant. */
export function permissionGap(def: DataTypeDef, roles: Iterable<string>): Capability | undefined {
  const missing = missingPermissions(def.permissions, roles);
  if (missing.length === 0) return undefined;
  return {
    dataType: def.id,
    label: def.label,
    available: false,
    status: 'unavailable',
    reasonCode: 'missing_permission',
    reason: `Needs the ${missing.join(' and ')} application permission${missing.length > 1 ? 's' : ''} with admin consent.`,
    missingPermissions: missing,
  };
}
