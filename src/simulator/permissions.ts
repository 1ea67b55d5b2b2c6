// Microsoft Graph application permissions the simulator knows, as DESIGN §1 lists them.

export const READ_ONLY_PERMISSIONS = [
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
] as const;

export const READ_WRITE_PERMISSIONS = [
  ...READ_ONLY_PERMISSIONS,
  'User.ReadWrite.All',
  'User.ManageIdentities.All',
  'Directory.ReadWrite.All',
  'UserAuthenticationMethod.ReadWrite.All',
] as const;

/** Permissions that each read API accepts (least privileged first), per Microsoft's permission tables. */
export const ACCEPTS = {
  auditLogs: ['AuditLog.Read.All'],
  users: ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  groups: [
    'GroupMember.Read.All',
    'Group.Read.All',
    'Group.ReadWrite.All',
    'Directory.Read.All',
    'Directory.ReadWrite.All',
  ],
  applications: ['Application.Read.All', 'Application.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  registrationDetails: [
    'AuditLog.Read.All',
    'UserAuthenticationMethod.Read.All',
    'UserAuthenticationMethod.ReadWrite.All',
  ],
  authMethods: ['UserAuthenticationMethod.Read.All', 'UserAuthenticationMethod.ReadWrite.All'],
  riskyUsers: ['IdentityRiskyUser.Read.All', 'IdentityRiskyUser.ReadWrite.All'],
  riskDetections: ['IdentityRiskEvent.Read.All', 'IdentityRiskEvent.ReadWrite.All'],
  policies: ['Policy.Read.All', 'Policy.ReadWrite.ConditionalAccess'],
  roles: [
    'RoleManagement.Read.Directory',
    'RoleManagement.Read.All',
    'Directory.Read.All',
    'RoleManagement.ReadWrite.Directory',
    'Directory.ReadWrite.All',
  ],
  managedDevices: ['DeviceManagementManagedDevices.Read.All', 'DeviceManagementManagedDevices.ReadWrite.All'],
  organization: [
    'Organization.Read.All',
    'Directory.Read.All',
    'Organization.ReadWrite.All',
    'Directory.ReadWrite.All',
  ],
  updateUser: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  deleteUser: ['User.ReadWrite.All', 'Directory.ReadWrite.All'],
  revokeSessions: ['User.RevokeSessions.All', 'User.ReadWrite.All', 'Directory.ReadWrite.All'],
  deleteAuthMethod: ['UserAuthenticationMethod.ReadWrite.All'],
} as const satisfies Record<string, readonly string[]>;

export type Permission = string;
