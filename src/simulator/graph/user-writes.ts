// Remediation writes on users (reference/graph-facts.md §5): PATCH /users/{id} (userType and other
// simple properties), DELETE /users/{id} (soft delete, restorable for 30 days) and
// POST /users/{id}/revokeSignInSessions. Each lands in the directory's change log, so delta sees it.
import type { Directory, DirUser } from '../data/directory.js';
import { isAdmin } from '../data/roles.js';
import { ACCEPTS } from '../permissions.js';
import { notImplemented } from './directory-query.js';
import { GraphError, insufficientPrivileges, notFound } from './errors.js';
import { liveDirectory, type DirectoryDeps } from './live-directory.js';
import type { GraphContext, GraphRoute } from './route.js';

type Check = (v: unknown) => boolean;
const textOrNull: Check = (v) => v === null || typeof v === 'string';
const strings: Check = (v) => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** What the simulator lets a PATCH change, with each property's valid values. */
const WRITABLE: Record<string, Check> = {
  userType: (v) => v === 'Member' || v === 'Guest',
  accountEnabled: (v) => typeof v === 'boolean',
  displayName: (v) => typeof v === 'string' && v.trim() !== '',
  givenName: textOrNull,
  surname: textOrNull,
  jobTitle: textOrNull,
  department: textOrNull,
  officeLocation: textOrNull,
  mobilePhone: textOrNull,
  // "Only one number can be set for this property" (user resource)
  businessPhones: (v) => strings(v) && (v as string[]).length <= 1,
  otherMails: strings,
  city: textOrNull,
  country: textOrNull,
  companyName: textOrNull,
  employeeId: textOrNull,
  employeeType: textOrNull,
  state: textOrNull,
  streetAddress: textOrNull,
  postalCode: textOrNull,
  faxNumber: textOrNull,
  preferredLanguage: textOrNull,
  usageLocation: (v) => v === null || (typeof v === 'string' && /^[A-Z]{2}$/.test(v)),
  // the domain and uniqueness are checked against the directory in patchUser
  userPrincipalName: (v) => typeof v === 'string' && /^[^@\s]+@[^@\s]+$/.test(v),
  mail: (v) => v === null || (typeof v === 'string' && /^[^@\s]+@[^@\s]+$/.test(v)),
  mailNickname: (v) => typeof v === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(v),
};

/** Set by the directory or by sync, never by a PATCH. */
const READ_ONLY = new Set(
  (
    'id createdDateTime creationType deletedDateTime externalUserState externalUserStateChangeDateTime ' +
    'lastPasswordChangeDateTime signInActivity signInSessionsValidFromDateTime securityIdentifier ' +
    'assignedLicenses assignedPlans provisionedPlans licenseAssignmentStates proxyAddresses ' +
    'onPremisesDistinguishedName onPremisesDomainName onPremisesLastSyncDateTime ' +
    'onPremisesProvisioningErrors onPremisesSamAccountName onPremisesSecurityIdentifier ' +
    'onPremisesSyncEnabled onPremisesUserPrincipalName serviceProvisioningErrors'
  ).split(' '),
);

/**
 * Writable in Graph but not modelled here: passwords, identities, HR and profile data, none of
 * which idsight writes (its remediation PATCHes userType only). They get Graph's own answer for
 * an operation it does not support, so a client sees a clear refusal, never a silent no-op.
 */
const NOT_SIMULATED = new Set(
  (
    'passwordProfile passwordPolicies identities onPremisesImmutableId onPremisesExtensionAttributes ' +
    'ageGroup consentProvidedForMinor employeeHireDate employeeLeaveDateTime employeeOrgData ' +
    'customSecurityAttributes showInAddressList aboutMe birthday hireDate interests mySite pastProjects ' +
    'preferredName responsibilities schools skills imAddresses'
  ).split(' '),
);

/**
 * "Who can perform sensitive actions": only higher admin roles may change these on an
 * administrator (user-update.md); an app holding User.ReadWrite.All has no such role.
 * Administrators are the role holders of /roleManagement (data/roles.ts).
 */
const SENSITIVE = new Set(['accountEnabled', 'businessPhones', 'mobilePhone', 'otherMails']);

/** Mastered in on-premises Active Directory for synced users; userType and usageLocation stay cloud-side. */
const ON_PREMISES_MASTERED = new Set(
  (
    'userPrincipalName mail mailNickname accountEnabled displayName givenName surname jobTitle department ' +
    'officeLocation mobilePhone businessPhones city country companyName employeeId employeeType state ' +
    'streetAddress postalCode faxNumber'
  ).split(' '),
);

const badRequest = (message: string) => new GraphError(400, 'Request_BadRequest', message);

function targetOf(ctx: GraphContext, dir: Directory): DirUser {
  const id = ctx.params.id ?? '';
  const u = dir.findUser(id);
  if (!u || u.deleted) throw notFound(id);
  return u;
}

/** A new userPrincipalName must use a verified domain of the tenant and belong to nobody else. */
function checkNewUpn(dir: Directory, u: DirUser, upn: string): void {
  const domain = upn.slice(upn.lastIndexOf('@') + 1).toLowerCase();
  if (!dir.tenant.domains.includes(domain)) {
    throw badRequest(
      'The domain portion of the userPrincipalName property is invalid. You must use one of the verified domain names in your organization.',
    );
  }
  const holder = dir.findUser(upn);
  if (holder && holder !== u)
    throw badRequest('Another object with the same value for property userPrincipalName already exists.');
}

/** Validates the whole body before changing anything, as Graph applies a PATCH all or nothing. */
function patchUser(ctx: GraphContext, dir: Directory) {
  const u = targetOf(ctx, dir);
  const body = ctx.body;
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new GraphError(400, 'BadRequest', 'Empty Payload. JSON content expected.');
  const changes: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (key.startsWith('@')) continue; // @odata.type and other annotations
    const check = WRITABLE[key];
    if (!check) {
      if (READ_ONLY.has(key)) throw badRequest(`Property '${key}' is read-only and cannot be set.`);
      if (NOT_SIMULATED.has(key)) throw notImplemented();
      // the message the Graph SDKs surface for a property the user type lacks (msgraph-sdk-dotnet#2352)
      throw badRequest(`Invalid property '${key}'.`);
    }
    if (key === 'displayName' && (value === null || value === ''))
      throw badRequest("A value is required for property 'displayName' of resource 'User'.");
    if (!check(value)) throw badRequest(`Invalid value specified for property '${key}' of resource 'User'.`);
    changes[key] = value;
  }
  if (typeof changes.userPrincipalName === 'string') checkNewUpn(dir, u, changes.userPrincipalName);
  const names = Object.keys(changes);
  if (!u.added && names.some((k) => SENSITIVE.has(k)) && isAdmin(dir.tenant, u.person, dir.start))
    throw insufficientPrivileges();
  if (u.person.synced && names.some((k) => ON_PREMISES_MASTERED.has(k))) {
    throw badRequest(
      'Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration.',
    );
  }
  dir.updateUser(u, changes, ctx.now);
  return { status: 204 };
}

function deleteUser(ctx: GraphContext, dir: Directory) {
  const u = targetOf(ctx, dir);
  // "In app-only scenarios, the User.ReadWrite.All application permission isn't enough privilege
  // to delete users with administrative roles" (user-delete.md); no simulated app holds a role.
  if (!u.added && isAdmin(dir.tenant, u.person, dir.start)) throw insufficientPrivileges();
  dir.deleteUser(u, false, ctx.now);
  return { status: 204 };
}

function revokeSessions(ctx: GraphContext, dir: Directory) {
  const u = targetOf(ctx, dir);
  // "doesn't revoke sign-in sessions for external users, because external users sign in
  // through their home tenants" (user-revokesigninsessions.md): the call succeeds, nothing changes
  if (u.person.userType !== 'Guest') dir.revokeSessions(u, ctx.now);
  // The documented body (revokeSignInSessions.json); a known issue makes it 200, not 204.
  return {
    status: 200,
    body: { '@odata.context': `${ctx.graphRoot}/${ctx.version}/$metadata#Edm.Boolean`, value: true },
  };
}

export function userWriteRoutes(deps: DirectoryDeps): GraphRoute[] {
  const dirOf = (ctx: GraphContext) => liveDirectory(deps, ctx);
  // Writes cost one resource unit (graph-facts §6).
  return [
    {
      method: 'PATCH',
      path: '/users/:id',
      accepts: ACCEPTS.updateUser,
      family: 'directory',
      cost: 1,
      handle: (ctx) => patchUser(ctx, dirOf(ctx)),
    },
    {
      method: 'DELETE',
      path: '/users/:id',
      accepts: ACCEPTS.deleteUser,
      family: 'directory',
      cost: 1,
      handle: (ctx) => deleteUser(ctx, dirOf(ctx)),
    },
    {
      method: 'POST',
      path: '/users/:id/revokeSignInSessions',
      accepts: ACCEPTS.revokeSessions,
      family: 'directory',
      cost: 1,
      handle: (ctx) => revokeSessions(ctx, dirOf(ctx)),
    },
  ];
}
