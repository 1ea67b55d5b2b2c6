// A user as Graph writes it: every v1.0 property the simulator generates, with the run-time
// changes of data/directory.ts applied, and signInActivity (user-list.md, users-list-signInActivity.json).
import type { Directory, DirUser } from '../data/directory.js';
import { tenantSkuIds } from '../data/licences.js';
import { DAY, HOUR, isoSeconds } from '../data/time.js';
import { guidOf, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';

/** Returned without $select (user-list.md), in Graph's order. */
const DEFAULT_USER_PROPERTIES = [
  'businessPhones',
  'displayName',
  'givenName',
  'jobTitle',
  'mail',
  'mobilePhone',
  'officeLocation',
  'preferredLanguage',
  'surname',
  'userPrincipalName',
  'id',
];

/** Every structural property of the v1.0 user (cleanMetadata-v1.0.xml), in the order the simulator writes them. */
const USER_PROPERTIES = [
  ...DEFAULT_USER_PROPERTIES,
  ...(
    'deletedDateTime aboutMe accountEnabled ageGroup assignedLicenses assignedPlans authorizationInfo ' +
    'birthday city companyName consentProvidedForMinor country createdDateTime creationType ' +
    'customSecurityAttributes department deviceEnrollmentLimit employeeHireDate employeeId ' +
    'employeeLeaveDateTime employeeOrgData employeeType externalUserState externalUserStateChangeDateTime ' +
    'faxNumber hireDate identities identityParentId imAddresses interests isManagementRestricted ' +
    'isResourceAccount lastPasswordChangeDateTime legalAgeGroupClassification licenseAssignmentStates ' +
    'mailboxSettings mailNickname mySite onPremisesDistinguishedName onPremisesDomainName ' +
    'onPremisesExtensionAttributes onPremisesImmutableId onPremisesLastSyncDateTime ' +
    'onPremisesProvisioningErrors onPremisesSamAccountName onPremisesSecurityIdentifier ' +
    'onPremisesSyncEnabled onPremisesUserPrincipalName otherMails passwordPolicies passwordProfile ' +
    'pastProjects postalCode preferredDataLocation preferredName print provisionedPlans proxyAddresses ' +
    'responsibilities schools securityIdentifier serviceProvisioningErrors showInAddressList ' +
    'signInSessionsValidFromDateTime skills state streetAddress usageLocation userType signInActivity'
  ).split(' '),
];
export const USER_BY_LOWER = new Map(USER_PROPERTIES.map((p) => [p.toLowerCase(), p]));
const USER_COLLECTIONS = new Set(
  (
    'businessPhones assignedLicenses assignedPlans identities imAddresses interests ' +
    'licenseAssignmentStates onPremisesProvisioningErrors otherMails pastProjects provisionedPlans ' +
    'proxyAddresses responsibilities schools serviceProvisioningErrors skills'
  ).split(' '),
);
/** Only on GET /users/{id}: selecting them on the collection answers 501 (user-list.md). */
export const SINGLE_USER_ONLY = new Set(
  'aboutMe birthday hireDate interests mySite pastProjects preferredName responsibilities schools skills mailboxSettings'.split(
    ' ',
  ),
);

/** The tenant's subscriptions (/subscribedSkus): members hold each, Intune four in five of them. */
function assignedLicenses(tenant: SimTenant, index: number): Array<{ disabledPlans: string[]; skuId: string }> {
  return tenantSkuIds(tenant)
    .filter((_, k) => k < 2 || index % 5 !== 4)
    .map((skuId) => ({ disabledPlans: [], skuId }));
}
const LANGUAGE: Record<string, string> = {
  US: 'en-US',
  CA: 'en-CA',
  GB: 'en-GB',
  IE: 'en-IE',
  NL: 'nl-NL',
  DE: 'de-DE',
  FR: 'fr-FR',
  ES: 'es-ES',
};

/** A Windows-style SID for synced objects: the tenant's domain SID and a relative id. */
export const domainSid = (tenant: SimTenant, rid: number): string =>
  `S-1-5-21-${mix(tenant.salt, 71) % 2_000_000_000}-${mix(tenant.salt, 72) % 2_000_000_000}-${mix(tenant.salt, 73) % 2_000_000_000}-${rid}`;

/** A request id as sign-in logs write them (a GUID ending in 00). */
const requestId = (...parts: number[]): string => `${guidOf(...parts).slice(0, 34)}00`;

/**
 * signInActivity (users-list-signInActivity.json): absent for people who never signed in;
 * stale accounts last signed in staleDays before the simulation started (the generated sign-in
 * log has nothing newer for them); active people within the last two days.
 */
function signInActivityOf(dir: Directory, u: DirUser, now: number): Record<string, string> | undefined {
  const p = u.person;
  if (u.added || p.dormant) return undefined;
  const { salt } = dir.tenant;
  const rng = new Rng(mix(salt, 7, u.index));
  let last: number;
  let nonInteractive: number | undefined;
  if (p.staleDays > 0) {
    last = dir.start - p.staleDays * DAY - rng.int(DAY);
    nonInteractive = last + rng.int(HOUR);
  } else if (!p.accountEnabled) {
    last = dir.start - (10 + rng.int(80)) * DAY - rng.int(DAY);
    nonInteractive = last + rng.int(HOUR);
  } else {
    last = now - rng.int(2 * DAY);
    // guests rarely use a client that refreshes tokens in this tenant
    nonInteractive = p.userType === 'Guest' ? undefined : now - rng.int(6 * HOUR);
  }
  const success = rng.chance(0.9) ? Math.max(last, nonInteractive ?? 0) : last - rng.int(12 * HOUR);
  const nonInteractiveSuccess = nonInteractive !== undefined && success === nonInteractive;
  return {
    lastSignInDateTime: isoSeconds(last),
    lastSignInRequestId: requestId(salt, 8, u.index, 1),
    // Microsoft writes a zero date and an empty id when there is none (users-list-signInActivity.json)
    lastNonInteractiveSignInDateTime:
      nonInteractive === undefined ? '0001-01-01T00:00:00Z' : isoSeconds(nonInteractive),
    lastNonInteractiveSignInRequestId: nonInteractive === undefined ? '' : requestId(salt, 8, u.index, 2),
    lastSuccessfulSignInDateTime: isoSeconds(success),
    lastSuccessfulSignInRequestId: requestId(salt, 8, u.index, nonInteractiveSuccess ? 2 : 1),
  };
}

/**
 * Every property the simulator generates for a user, in USER_PROPERTIES order, with run-time
 * changes applied; signInActivity only when asked for (it comes from another store).
 */
export function userRecord(dir: Directory, u: DirUser, now: number, withActivity = false): Record<string, unknown> {
  const { tenant } = dir;
  const p = u.person;
  const guest = p.userType === 'Guest';
  const rng = new Rng(mix(tenant.salt, 4, p.index));
  // drawn in a fixed order so that each value stays put
  const businessPhone = rng.chance(0.6);
  const mobile = rng.chance(0.5);
  const phone = () => `+1 425 555 0${String(100 + rng.int(900))}`;
  const businessPhones = !guest && businessPhone && !u.added ? [phone()] : [];
  const mobilePhone = !guest && mobile && !u.added ? phone() : null;
  const officeLocation = guest || u.added ? null : `${1 + rng.int(40)}/${1000 + rng.int(3000)}`;
  const created = p.createdDateTime;
  const lastPassword = created + rng.int(Math.max(1, Math.floor((dir.start - created) / DAY))) * DAY + rng.int(DAY);
  const acceptedAfter = rng.int(5 * DAY);
  const immutable = Buffer.from([...Array(16)].map(() => rng.int(256))).toString('base64');
  const syncOffset = rng.int(30 * 60_000);
  // a PATCHed userPrincipalName moves the sign-in identity with it; the mail nickname stays
  const upn = dir.upnOf(u);
  const nickname = p.userPrincipalName.split('@')[0]!;
  const r: Record<string, unknown> = {
    businessPhones,
    displayName: p.displayName,
    givenName: p.givenName,
    jobTitle: p.jobTitle,
    mail: p.mail,
    mobilePhone,
    officeLocation,
    preferredLanguage: guest || u.added ? null : (LANGUAGE[p.home.country] ?? 'en-US'),
    surname: p.surname,
    userPrincipalName: upn,
    id: p.id,
    deletedDateTime: null,
    accountEnabled: p.accountEnabled,
    assignedLicenses: guest || u.added ? [] : assignedLicenses(tenant, p.index),
    createdDateTime: isoSeconds(created),
    creationType: guest ? 'Invitation' : null,
    department: p.department,
    externalUserState: p.externalUserState,
    externalUserStateChangeDateTime: guest
      ? isoSeconds(p.externalUserState === 'Accepted' ? created + acceptedAfter : created)
      : null,
    identities: guest
      ? [{ signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: null }]
      : [{ signInType: 'userPrincipalName', issuer: tenant.initialDomain, issuerAssignedId: upn }],
    lastPasswordChangeDateTime: guest ? null : isoSeconds(Math.min(lastPassword, dir.start)),
    mailNickname: nickname,
    onPremisesDomainName: p.synced ? `${tenant.key}.local` : null,
    onPremisesImmutableId: p.synced ? immutable : null,
    // the sync cycle runs every 30 minutes
    onPremisesLastSyncDateTime: p.synced
      ? isoSeconds(Math.floor(now / (30 * 60_000)) * 30 * 60_000 - syncOffset)
      : null,
    onPremisesSamAccountName: p.synced ? nickname.slice(0, 20) : null,
    onPremisesSecurityIdentifier: p.synced ? domainSid(tenant, 1100 + p.index) : null,
    onPremisesSyncEnabled: p.synced ? true : null,
    onPremisesUserPrincipalName: p.synced ? upn : null,
    otherMails: guest ? [p.mail] : [],
    proxyAddresses: [`SMTP:${p.mail}`],
    signInSessionsValidFromDateTime: isoSeconds(
      u.signInSessionsValidFrom ?? (guest ? created : Math.min(lastPassword, dir.start)),
    ),
    usageLocation: guest || u.added ? null : p.home.country,
    userType: p.userType,
  };
  for (const [key, value] of Object.entries(u.props))
    if (key in r || USER_BY_LOWER.has(key.toLowerCase())) r[key] = value;
  if (u.deleted) r.deletedDateTime = isoSeconds(u.deleted.at);
  if (withActivity) {
    const activity = signInActivityOf(dir, u, now);
    if (activity) r.signInActivity = activity;
  }
  return r;
}

/** $select (or the default set) applied to a user record; selected properties not generated read null or []. */
export function projectUser(
  record: Record<string, unknown>,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  const wanted = select ?? DEFAULT_USER_PROPERTIES;
  const out: Record<string, unknown> = {};
  for (const p of USER_PROPERTIES) {
    if (p !== 'id' && !wanted.includes(p)) continue;
    if (p in record) out[p] = record[p];
    // signInActivity is left out for people who never signed in, not written as null
    else if (p !== 'signInActivity' && p !== 'id') out[p] = USER_COLLECTIONS.has(p) ? [] : null;
  }
  return out;
}

/** A user as directoryObject collections list it (group and role members): its type first, then its default properties (or the selected ones). */
export function userItem(
  dir: Directory,
  u: DirUser,
  now: number,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  const { id, ...rest } = projectUser(
    userRecord(dir, u, now),
    select?.filter((p) => USER_BY_LOWER.has(p.toLowerCase())),
  );
  return { '@odata.type': '#microsoft.graph.user', id, ...rest };
}
