// The directory as Microsoft Graph serves it (reference/graph-facts.md §3): GET /users (with
// signInActivity gated and throttled as Graph does), /users/{id}, /users/$count, /users/delta,
// /groups, /groups/{id}, /groups/{id}/members and /transitiveMembers, /groups/delta. Records are
// rendered from data/directory.ts; delta rounds read its change log.
import { renderSubscribedSkus } from '../data/posture.js';
import type { Directory, DirUser, GroupPlan, MemberCursor, MemberRef, MemberType } from '../data/directory.js';
import { ACCEPTS } from '../permissions.js';
import { guidOf, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { auditPermissionMissing, GraphError, invalidFilter, nonPremiumTenant, notFound, unsupportedQuery } from './errors.js';
import { clauses, matches, parseFilter, FilterSyntaxError, type FilterNode } from './odata.js';
import { contextUrl, expiredPageToken, nextLink, pageState, selectOf, topOf, type GraphContext, type GraphResult, type GraphRoute } from './route.js';
import type { ThrottleFamily } from './throttle.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

/** What the routes need from the simulator: each tenant's directory. */
export interface DirectoryDeps {
  directory(tenant: SimTenant): Directory;
}

/** Directory timestamps: whole seconds, no fraction ("2018-12-22T02:21:05Z"). */
export const isoSeconds = (t: number): string => new Date(Math.floor(t / 1000) * 1000).toISOString().replace('.000Z', 'Z');

// ------------------------------------------------------------------ user properties

/** Returned without $select (user-list.md), in Graph's order. */
export const DEFAULT_USER_PROPERTIES = ['businessPhones', 'displayName', 'givenName', 'jobTitle', 'mail', 'mobilePhone', 'officeLocation', 'preferredLanguage', 'surname', 'userPrincipalName', 'id'];

/** Every structural property of the v1.0 user (cleanMetadata-v1.0.xml), in the order the simulator writes them. */
const USER_PROPERTIES = [
  ...DEFAULT_USER_PROPERTIES,
  ...'deletedDateTime aboutMe accountEnabled ageGroup assignedLicenses assignedPlans authorizationInfo birthday city companyName consentProvidedForMinor country createdDateTime creationType customSecurityAttributes department deviceEnrollmentLimit employeeHireDate employeeId employeeLeaveDateTime employeeOrgData employeeType externalUserState externalUserStateChangeDateTime faxNumber hireDate identities identityParentId imAddresses interests isManagementRestricted isResourceAccount lastPasswordChangeDateTime legalAgeGroupClassification licenseAssignmentStates mailboxSettings mailNickname mySite onPremisesDistinguishedName onPremisesDomainName onPremisesExtensionAttributes onPremisesImmutableId onPremisesLastSyncDateTime onPremisesProvisioningErrors onPremisesSamAccountName onPremisesSecurityIdentifier onPremisesSyncEnabled onPremisesUserPrincipalName otherMails passwordPolicies passwordProfile pastProjects postalCode preferredDataLocation preferredName print provisionedPlans proxyAddresses responsibilities schools securityIdentifier serviceProvisioningErrors showInAddressList signInSessionsValidFromDateTime skills state streetAddress usageLocation userType signInActivity'.split(
    ' ',
  ),
];
const USER_BY_LOWER = new Map(USER_PROPERTIES.map((p) => [p.toLowerCase(), p]));
const USER_COLLECTIONS = new Set('businessPhones assignedLicenses assignedPlans identities imAddresses interests licenseAssignmentStates onPremisesProvisioningErrors otherMails pastProjects provisionedPlans proxyAddresses responsibilities schools serviceProvisioningErrors skills'.split(' '));
/** Only on GET /users/{id}: selecting them on the collection answers 501 (user-list.md). */
const SINGLE_USER_ONLY = new Set('aboutMe birthday hireDate interests mySite pastProjects preferredName responsibilities schools skills mailboxSettings'.split(' '));

/** The tenant's subscriptions (/subscribedSkus): members hold each, Intune four in five of them. */
const skuCache = new WeakMap<SimTenant, string[]>();
function assignedLicenses(dir: Directory, index: number): Array<{ disabledPlans: string[]; skuId: string }> {
  let skus = skuCache.get(dir.tenant);
  if (!skus) skuCache.set(dir.tenant, (skus = renderSubscribedSkus(dir.tenant, dir.start).map((s) => String(s.skuId))));
  return skus.filter((_, k) => k < 2 || index % 5 !== 4).map((skuId) => ({ disabledPlans: [], skuId }));
}
const LANGUAGE: Record<string, string> = { US: 'en-US', CA: 'en-CA', GB: 'en-GB', IE: 'en-IE', NL: 'nl-NL', DE: 'de-DE', FR: 'fr-FR', ES: 'es-ES' };

/** A Windows-style SID for synced objects: the tenant's domain SID and a relative id. */
const domainSid = (tenant: SimTenant, rid: number): string =>
  `S-1-5-21-${mix(tenant.salt, 71) % 2_000_000_000}-${mix(tenant.salt, 72) % 2_000_000_000}-${mix(tenant.salt, 73) % 2_000_000_000}-${rid}`;

/** A request id as sign-in logs write them (a GUID ending in 00). */
const requestId = (...parts: number[]): string => `${guidOf(...parts).slice(0, 34)}00`;

/**
 * signInActivity (users-list-signInActivity.json): absent for people who never signed in;
 * stale accounts last signed in staleDays before the simulation started (the generated sign-in
 * log has nothing newer for them); active people within the last two days.
 */
export function signInActivityOf(dir: Directory, u: DirUser, now: number): Record<string, string> | undefined {
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
    lastNonInteractiveSignInDateTime: nonInteractive === undefined ? '0001-01-01T00:00:00Z' : isoSeconds(nonInteractive),
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
  const upn = p.userPrincipalName;
  const nickname = upn.split('@')[0]!;
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
    assignedLicenses: guest || u.added ? [] : assignedLicenses(dir, p.index),
    createdDateTime: isoSeconds(created),
    creationType: guest ? 'Invitation' : null,
    department: p.department,
    externalUserState: p.externalUserState,
    externalUserStateChangeDateTime: guest ? isoSeconds(p.externalUserState === 'Accepted' ? created + acceptedAfter : created) : null,
    identities: guest
      ? [{ signInType: 'federated', issuer: 'ExternalAzureAD', issuerAssignedId: null }]
      : [{ signInType: 'userPrincipalName', issuer: tenant.initialDomain, issuerAssignedId: upn }],
    lastPasswordChangeDateTime: guest ? null : isoSeconds(Math.min(lastPassword, dir.start)),
    mailNickname: nickname,
    onPremisesDomainName: p.synced ? `${tenant.key}.local` : null,
    onPremisesImmutableId: p.synced ? immutable : null,
    // the sync cycle runs every 30 minutes
    onPremisesLastSyncDateTime: p.synced ? isoSeconds(Math.floor(now / (30 * 60_000)) * 30 * 60_000 - syncOffset) : null,
    onPremisesSamAccountName: p.synced ? nickname.slice(0, 20) : null,
    onPremisesSecurityIdentifier: p.synced ? domainSid(tenant, 1100 + p.index) : null,
    onPremisesSyncEnabled: p.synced ? true : null,
    onPremisesUserPrincipalName: p.synced ? upn : null,
    otherMails: guest ? [p.mail] : [],
    proxyAddresses: [`SMTP:${p.mail}`],
    signInSessionsValidFromDateTime: isoSeconds(u.signInSessionsValidFrom ?? (guest ? created : Math.min(lastPassword, dir.start))),
    usageLocation: guest || u.added ? null : p.home.country,
    userType: p.userType,
  };
  for (const [key, value] of Object.entries(u.props)) if (key in r || USER_BY_LOWER.has(key.toLowerCase())) r[key] = value;
  if (u.deleted) r.deletedDateTime = isoSeconds(u.deleted.at);
  if (withActivity) {
    const activity = signInActivityOf(dir, u, now);
    if (activity) r.signInActivity = activity;
  }
  return r;
}

/** $select (or the default set) applied to a user record; selected properties not generated read null or []. */
export function projectUser(record: Record<string, unknown>, select: readonly string[] | undefined): Record<string, unknown> {
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

// ------------------------------------------------------------------ groups

export const GROUP_PROPERTIES = [
  ...'id deletedDateTime classification createdDateTime description displayName expirationDateTime groupTypes isAssignableToRole mail mailEnabled mailNickname membershipRule membershipRuleProcessingState onPremisesLastSyncDateTime onPremisesSecurityIdentifier onPremisesSyncEnabled preferredDataLocation preferredLanguage proxyAddresses renewedDateTime resourceBehaviorOptions resourceProvisioningOptions securityEnabled theme visibility onPremisesProvisioningErrors'.split(
    ' ',
  ),
];
/** The rest of the v1.0 group's structural properties: selectable, read null (or []) here. */
const OTHER_GROUP_PROPERTIES = 'accessType allowExternalSenders assignedLabels assignedLicenses autoSubscribeNewMembers hasMembersWithLicenseErrors hideFromAddressLists hideFromOutlookClients infoCatalogs isArchived isFavorite isManagementRestricted isSubscribedByMail licenseProcessingState onPremisesDomainName onPremisesExtensionAttributes onPremisesNetBiosName onPremisesSamAccountName organizationId securityIdentifier serviceProvisioningErrors uniqueName unseenConversationsCount unseenCount unseenMessagesCount welcomeMessageEnabled'.split(
  ' ',
);
const GROUP_BY_LOWER = new Map([...GROUP_PROPERTIES, ...OTHER_GROUP_PROPERTIES].map((p) => [p.toLowerCase(), p]));
const GROUP_COLLECTIONS = new Set('groupTypes proxyAddresses resourceBehaviorOptions resourceProvisioningOptions onPremisesProvisioningErrors assignedLabels assignedLicenses infoCatalogs serviceProvisioningErrors'.split(' '));

/** A group as GET /groups writes it (groups-list.json). */
export function groupRecord(dir: Directory, g: GroupPlan, now: number): Record<string, unknown> {
  const { tenant } = dir;
  const unified = g.kind === 'unified';
  const domain = tenant.domains[1] ?? tenant.initialDomain;
  const created = isoSeconds(g.createdDateTime);
  return {
    id: g.id,
    deletedDateTime: null,
    classification: null,
    createdDateTime: created,
    description: g.description,
    displayName: g.displayName,
    expirationDateTime: null,
    groupTypes: unified ? ['Unified'] : [],
    isAssignableToRole: g.roleAssignable ? true : null,
    mail: unified ? `${g.mailNickname}@${domain}` : null,
    mailEnabled: unified,
    mailNickname: g.mailNickname,
    membershipRule: null,
    membershipRuleProcessingState: null,
    onPremisesLastSyncDateTime: g.synced ? isoSeconds(Math.floor(now / (30 * 60_000)) * 30 * 60_000 - (mix(tenant.salt, 63, g.index) % (30 * 60_000))) : null,
    onPremisesSecurityIdentifier: g.synced ? domainSid(tenant, 500_000 + g.index) : null,
    onPremisesSyncEnabled: g.synced ? true : null,
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: unified ? [`SMTP:${g.mailNickname}@${domain}`, `smtp:${g.mailNickname}@${tenant.initialDomain}`] : [],
    renewedDateTime: created,
    resourceBehaviorOptions: [],
    resourceProvisioningOptions: unified && g.index % 2 === 0 ? ['Team'] : [],
    securityEnabled: !unified,
    theme: null,
    visibility: g.visibility,
    onPremisesProvisioningErrors: [],
  };
}

function projectGroup(record: Record<string, unknown>, select: readonly string[] | undefined): Record<string, unknown> {
  if (!select) return record;
  const out: Record<string, unknown> = {};
  for (const p of [...GROUP_PROPERTIES, ...OTHER_GROUP_PROPERTIES]) {
    if (p !== 'id' && !select.includes(p)) continue;
    out[p] = p in record ? record[p] : GROUP_COLLECTIONS.has(p) ? [] : null;
  }
  return out;
}

/** A member as /members lists it: its type first, then its default properties (or the selected ones). */
function memberItem(dir: Directory, ref: MemberRef, now: number, select: readonly string[] | undefined): Record<string, unknown> {
  if (ref.type === 'user') {
    const { id, ...rest } = projectUser(userRecord(dir, ref.user, now), select?.filter((p) => USER_BY_LOWER.has(p.toLowerCase())));
    return { '@odata.type': '#microsoft.graph.user', id, ...rest };
  }
  const props = projectGroup(groupRecord(dir, ref.group, now), select?.filter((p) => GROUP_BY_LOWER.has(p.toLowerCase())));
  const { id, ...rest } = props;
  return { '@odata.type': '#microsoft.graph.group', id, ...rest };
}

const memberRefId = (ref: MemberRef): string => (ref.type === 'user' ? ref.user.person.id : ref.group.id);
const odataType = (type: MemberType) => (type === 'user' ? '#microsoft.graph.user' : '#microsoft.graph.group');

// ------------------------------------------------------------------ query options

const notImplemented = () => new GraphError(501, 'NotImplemented', 'This operation target is not yet supported.');
const noSuchProperty = (p: string, type: string) => new GraphError(400, 'BadRequest', `Could not find a property named '${p}' on type 'microsoft.graph.${type}'.`);
// Microsoft's messages when an advanced query lacks the header (reference/graph-facts.md §3.2):
// endsWith as reported verbatim; `ne` as "NotEqualsMatch" (microsoft-graph-docs-contrib#9043);
// `not` by analogy with endsWith (no captured body found).
const advancedQueryOnly = (operator: string) =>
  unsupportedQuery(`Operator '${operator}' is not supported because the 'ConsistencyLevel:eventual' header is missing. Refer to https://aka.ms/graph-docs/advanced-queries for more information`);
const notEqualsUnsupported = () => unsupportedQuery("Filter operator 'NotEqualsMatch' is not supported.");
const unsupportedClause = (property: string, resource: string) => unsupportedQuery(`Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`);
/** errors/graph-Request_BadRequest-count-not-supported.json */
const countNeedsHeader = () => new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
/** errors/graph-Request_UnsupportedQuery-search-needs-consistencylevel.json */
const searchNeedsHeader = () => unsupportedQuery("Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'");

const isEventual = (ctx: GraphContext): boolean => String(ctx.headers.consistencylevel ?? '').toLowerCase() === 'eventual';

/** A query option by name, case-insensitively ($deltaToken and $deltatoken both appear in Microsoft's docs). */
function option(ctx: GraphContext, name: string): string | undefined {
  for (const [k, v] of Object.entries(ctx.query)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** Options the directory's lists do not take. */
function rejectListOptions(ctx: GraphContext): void {
  // as Graph words it (seen in captured responses); directory objects page by nextLink only
  if (option(ctx, '$skip') !== undefined) throw new GraphError(400, 'Request_BadRequest', "'$skip' is not supported by the service.");
  // Not simulated: Graph sorts users and groups by displayName/userPrincipalName; expands manager, members…
  if (option(ctx, '$orderby') !== undefined || option(ctx, '$expand') !== undefined) throw unsupportedQuery();
}

function canonicalSelect(raw: string[] | undefined, byLower: Map<string, string>, type: string): string[] | undefined {
  if (!raw) return undefined;
  return raw.map((p) => {
    const name = byLower.get(p.toLowerCase());
    if (!name) throw noSuchProperty(p, type);
    return name;
  });
}

function parse(text: string): FilterNode {
  try {
    return parseFilter(text);
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw invalidFilter();
    throw err;
  }
}

type Literal = 'string' | 'boolean' | 'date';
interface FilterRule {
  ops: readonly string[];
  type: Literal;
  /** Also endsWith, as an advanced query. */
  endsWith?: boolean;
}

const text = (extra: string[] = []): FilterRule => ({ ops: ['eq', 'in', 'startswith', ...extra], type: 'string' });
const USER_FILTERS: Record<string, FilterRule> = {
  id: { ops: ['eq', 'in'], type: 'string' },
  userType: { ops: ['eq', 'in'], type: 'string' },
  accountEnabled: { ops: ['eq', 'in'], type: 'boolean' },
  userPrincipalName: { ...text(), endsWith: true },
  mail: { ...text(), endsWith: true },
  displayName: text(),
  givenName: text(),
  surname: text(),
  jobTitle: text(),
  department: { ops: ['eq', 'in'], type: 'string' },
  externalUserState: { ops: ['eq', 'in'], type: 'string' },
  createdDateTime: { ops: ['eq', 'ge', 'le'], type: 'date' },
  // "Supports $filter (eq, ne, not, ge, le) but not with any other filterable properties" (v1.0 typings)
  'signInActivity/lastSignInDateTime': { ops: ['eq', 'ge', 'le'], type: 'date' },
  'signInActivity/lastNonInteractiveSignInDateTime': { ops: ['eq', 'ge', 'le'], type: 'date' },
  'signInActivity/lastSuccessfulSignInDateTime': { ops: ['eq', 'ge', 'le'], type: 'date' },
};
const GROUP_FILTERS: Record<string, FilterRule> = {
  id: { ops: ['eq', 'in'], type: 'string' },
  displayName: text(),
  mail: { ...text(), endsWith: true },
  mailNickname: text(),
  mailEnabled: { ops: ['eq'], type: 'boolean' },
  securityEnabled: { ops: ['eq'], type: 'boolean' },
  isAssignableToRole: { ops: ['eq'], type: 'boolean' },
  onPremisesSyncEnabled: { ops: ['eq'], type: 'boolean' },
  createdDateTime: { ops: ['eq', 'ge', 'le'], type: 'date' },
};

const literalOk = (type: Literal, v: unknown, quotedDate: boolean): boolean =>
  type === 'date' ? v !== null && typeof v === 'object' && !quotedDate : type === 'boolean' ? typeof v === 'boolean' : typeof v === 'string';

/**
 * Checks a $filter against what the resource supports, with Graph's errors: advanced operators
 * without `ConsistencyLevel: eventual`, unsupported clauses, unknown properties.
 */
function checkFilter(node: FilterNode, eventual: boolean, rules: Record<string, FilterRule>, resource: 'User' | 'Group', known: Map<string, string>): void {
  const unknown = (path: string) => {
    const head = path.split('/')[0]!;
    return known.has(head.toLowerCase()) ? unsupportedClause(head, resource) : noSuchProperty(head, resource.toLowerCase());
  };
  const visit = (n: FilterNode): void => {
    if (n.kind === 'not') {
      if (!eventual) throw advancedQueryOnly('not');
      visit(n.operand);
    } else if (n.kind === 'any') {
      // groupTypes/any(c:c eq 'Unified') is the one lambda simulated
      const inner = n.body?.kind === 'cmp' ? n.body : undefined;
      if (resource === 'Group' && n.path === 'groupTypes' && inner && inner.op === 'eq' && inner.path === n.variable && typeof inner.value === 'string') return;
      throw unknown(n.path);
    } else if (n.kind === 'cmp' || n.kind === 'in' || n.kind === 'fn') {
      checkClause(n);
    } else {
      visit(n.left);
      visit(n.right);
    }
  };
  const checkClause = (n: Extract<FilterNode, { kind: 'cmp' | 'in' | 'fn' }>): void => {
    const rule = rules[n.path];
    if (!rule) throw unknown(n.path);
    if (n.kind === 'fn') {
      if (n.name === 'endswith') {
        if (!eventual) throw advancedQueryOnly('endsWith');
        if (!rule.endsWith) throw unsupportedClause(n.path, resource);
      } else if (!rule.ops.includes('startswith')) throw unsupportedClause(n.path, resource);
      return;
    }
    if (n.kind === 'in') {
      if (!rule.ops.includes('in') || !n.values.every((v) => literalOk(rule.type, v, false))) throw unsupportedClause(n.path, resource);
      return;
    }
    if (n.op === 'ne') {
      if (!eventual) throw notEqualsUnsupported();
      if (!rule.ops.includes('eq')) throw unsupportedClause(n.path, resource);
    } else if (!rule.ops.includes(n.op)) throw unsupportedClause(n.path, resource);
    // `eq null` is an advanced query too
    if (n.value === null ? !eventual : !literalOk(rule.type, n.value, n.quotedDate)) throw unsupportedClause(n.path, resource);
  };
  visit(node);
}

const usesActivity = (node: FilterNode | undefined): boolean => !!node && [...clauses(node)].some((c) => c.path.startsWith('signInActivity/'));

/** $search="displayName:wa" OR "mail:wa": each word of the property starting with the term. */
function searchPredicate(raw: string): (record: Record<string, unknown>) => boolean {
  const parts = raw.trim().split(/\s+(AND|OR)\s+/);
  const terms: Array<(r: Record<string, unknown>) => boolean> = [];
  for (let i = 0; i < parts.length; i += 2) {
    const m = /^"([A-Za-z]+):([^"]*)"$/.exec(parts[i]!.trim());
    const property = m && USER_BY_LOWER.get(m[1]!.toLowerCase());
    if (!m || !property || !['displayName', 'givenName', 'surname', 'mail', 'userPrincipalName', 'jobTitle', 'department', 'mailNickname'].includes(property)) throw unsupportedQuery();
    const term = m[2]!.toLowerCase();
    terms.push((r) => {
      const v = r[property];
      return typeof v === 'string' && (v.toLowerCase().startsWith(term) || v.toLowerCase().split(/[^a-z0-9]+/).some((w) => w.startsWith(term)));
    });
  }
  return (r) => {
    let result = terms[0]!(r);
    for (let i = 1; i < terms.length; i++) result = parts[2 * i - 1] === 'AND' ? result && terms[i]!(r) : result || terms[i]!(r);
    return result;
  };
}

// ------------------------------------------------------------------ signInActivity gating

interface UserPage {
  o: number;
  t: number;
  s?: string[];
  f?: string;
  q?: string;
  /** signInActivity selected or filtered: its own permission, licence, page size and throttle. */
  a?: 1;
}

/** Whether this request reads signInActivity, from its options or from the page token it carries. */
function readsActivity(ctx: GraphContext): boolean {
  const token = ctx.query.$skiptoken;
  if (token !== undefined) {
    const state = ctx.pageTokens.decode<UserPage>(token, ctx.now);
    return typeof state === 'object' && state?.a === 1;
  }
  return /(^|,)\s*signInActivity\s*(,|$)/i.test(ctx.query.$select ?? '') || /signInActivity\//i.test(ctx.query.$filter ?? '');
}

/** signInActivity needs AuditLog.Read.All and P1/P2, whatever else the app holds (graph-facts §3.1). */
function activityGate(ctx: GraphContext): void {
  if (!readsActivity(ctx)) return;
  if (!ctx.has('AuditLog.Read.All')) throw auditPermissionMissing();
  if (ctx.tenant.licence === 'free') throw nonPremiumTenant();
}

const usersFamily = (ctx: GraphContext): ThrottleFamily => (readsActivity(ctx) ? 'signInActivity' : 'directory');

// ------------------------------------------------------------------ users

function listUsers(ctx: GraphContext, dir: Directory): GraphResult {
  let page = pageState<UserPage>(ctx, expiredPageToken);
  /** $count=true: @odata.count on the first page only (paging.md). */
  let counted = false;
  const eventual = isEventual(ctx);
  if (!page) {
    rejectListOptions(ctx);
    const select = canonicalSelect(selectOf(ctx), USER_BY_LOWER, 'user');
    if (select?.some((p) => SINGLE_USER_ONLY.has(p))) throw notImplemented();
    const filterText = ctx.query.$filter;
    const filter = filterText === undefined ? undefined : parse(filterText);
    if (filter) {
      checkFilter(filter, eventual, USER_FILTERS, 'User', USER_BY_LOWER);
      const paths = [...clauses(filter)].map((c) => c.path);
      if (usesActivity(filter) && paths.some((p) => !p.startsWith('signInActivity/'))) throw unsupportedQuery();
    }
    const search = ctx.query.$search;
    if (search !== undefined) {
      if (!eventual) throw searchNeedsHeader();
      searchPredicate(search); // syntax check now, not on a later page
    }
    const wantCount = option(ctx, '$count');
    if (wantCount !== undefined && wantCount !== 'false') {
      if (!eventual) throw countNeedsHeader();
      counted = true;
    }
    const activity = !!select?.includes('signInActivity') || usesActivity(filter);
    // "When signInActivity is selected or filtered on, the maximum page size is 500" (user-list.md)
    const top = topOf(ctx, 100, activity ? 500 : 999);
    page = { o: 0, t: top, ...(select ? { s: select } : {}), ...(filterText !== undefined ? { f: filterText } : {}), ...(search !== undefined ? { q: search } : {}), ...(activity ? { a: 1 as const } : {}) };
  }
  const filter = page.f === undefined ? undefined : parse(page.f);
  const search = page.q === undefined ? undefined : searchPredicate(page.q);
  const withActivity = page.a === 1;
  const fits = (u: DirUser): Record<string, unknown> | undefined => {
    if (u.deleted) return undefined;
    const record = userRecord(dir, u, ctx.now, withActivity);
    if (filter && !matches(filter, record)) return undefined;
    if (search && !search(record)) return undefined;
    return record;
  };
  let count = 0;
  if (counted) for (let i = 0; i < dir.userCount; i++) if (fits(dir.userAt(i)!)) count++;
  const value: Record<string, unknown>[] = [];
  let i = page.o;
  while (i < dir.userCount && value.length < page.t) {
    const record = fits(dir.userAt(i++)!);
    if (record) value.push(projectUser(record, page.s));
  }
  // a next page only when one more user would be on it (scanning a bounded stretch ahead)
  let more = false;
  for (let j = i, budget = 20_000; j < dir.userCount; j++) {
    if (--budget < 0 || fits(dir.userAt(j)!)) {
      more = true;
      break;
    }
  }
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, 'users', page.s) };
  if (counted) body['@odata.count'] = count;
  if (more) body['@odata.nextLink'] = nextLink(ctx, { ...page, o: i });
  body.value = value;
  return { body, records: value.length };
}

function getUser(ctx: GraphContext, dir: Directory): GraphResult {
  const id = ctx.params.id ?? '';
  const u = dir.findUser(id);
  if (!u || u.deleted) throw notFound(id);
  const select = canonicalSelect(selectOf(ctx), USER_BY_LOWER, 'user');
  const record = userRecord(dir, u, ctx.now, !!select?.includes('signInActivity'));
  return { body: { '@odata.context': `${contextUrl(ctx, 'users', select)}/$entity`, ...projectUser(record, select) } };
}

function countUsers(ctx: GraphContext, dir: Directory): GraphResult {
  // Graph answers text/plain; the simulator's responses are JSON, and a bare number parses the same
  if (!isEventual(ctx)) throw countNeedsHeader();
  return { body: dir.liveUserCount };
}

// ------------------------------------------------------------------ groups

interface GroupPage {
  o: number;
  t: number;
  s?: string[];
  f?: string;
}

function listGroups(ctx: GraphContext, dir: Directory): GraphResult {
  let page = pageState<GroupPage>(ctx, expiredPageToken);
  if (!page) {
    rejectListOptions(ctx);
    const select = canonicalSelect(selectOf(ctx), GROUP_BY_LOWER, 'group');
    const filterText = ctx.query.$filter;
    if (filterText !== undefined) checkFilter(parse(filterText), isEventual(ctx), GROUP_FILTERS, 'Group', GROUP_BY_LOWER);
    page = { o: 0, t: topOf(ctx, 100, 999), ...(select ? { s: select } : {}), ...(filterText !== undefined ? { f: filterText } : {}) };
  }
  const filter = page.f === undefined ? undefined : parse(page.f);
  const value: Record<string, unknown>[] = [];
  let i = page.o;
  let more = false;
  for (; i < dir.groups.length; i++) {
    const record = groupRecord(dir, dir.groups[i]!, ctx.now);
    if (filter && !matches(filter, record)) continue;
    if (value.length === page.t) {
      more = true;
      break;
    }
    value.push(projectGroup(record, page.s));
  }
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, 'groups', page.s) };
  if (more) body['@odata.nextLink'] = nextLink(ctx, { ...page, o: i });
  body.value = value;
  return { body, records: value.length };
}

function groupOf(ctx: GraphContext, dir: Directory): GroupPlan {
  const id = ctx.params.id ?? '';
  const g = dir.findGroup(id);
  if (!g) throw notFound(id);
  return g;
}

function getGroup(ctx: GraphContext, dir: Directory): GraphResult {
  const g = groupOf(ctx, dir);
  const select = canonicalSelect(selectOf(ctx), GROUP_BY_LOWER, 'group');
  return { body: { '@odata.context': `${contextUrl(ctx, 'groups', select)}/$entity`, ...projectGroup(groupRecord(dir, g, ctx.now), select) } };
}

interface MembersPage {
  /** Position in the group tree (transitive), then the member cursor within that group. */
  k: number;
  p: number;
  o: number;
  t: number;
  s?: string[];
}

/** /members and /transitiveMembers: users and groups (typed), nested members once each. */
function listMembers(ctx: GraphContext, dir: Directory, transitive: boolean): GraphResult {
  const g = groupOf(ctx, dir);
  let page = pageState<MembersPage>(ctx, expiredPageToken);
  if (!page) {
    rejectListOptions(ctx);
    const select = selectOf(ctx)?.map((p) => {
      const name = USER_BY_LOWER.get(p.toLowerCase()) ?? GROUP_BY_LOWER.get(p.toLowerCase());
      if (!name) throw noSuchProperty(p, 'directoryObject');
      return name;
    });
    page = { k: 0, p: 0, o: 0, t: topOf(ctx, 100, 999), ...(select ? { s: select } : {}) };
  }
  const tree = transitive ? dir.groupTree(g) : [g];
  const value: Record<string, unknown>[] = [];
  let k = page.k;
  let cursor: MemberCursor = { p: page.p, o: page.o };
  let more = false;
  scan: for (; k < tree.length; k++, cursor = { p: 0, o: 0 }) {
    const earlier = tree.slice(0, k);
    for (const { ref, next } of dir.directMembers(tree[k]!, cursor)) {
      const id = memberRefId(ref);
      if (earlier.some((e) => dir.isDirectMember(e, id))) {
        cursor = next;
        continue;
      }
      if (value.length === page.t) {
        more = true;
        break scan;
      }
      value.push(memberItem(dir, ref, ctx.now, page.s));
      cursor = next;
    }
  }
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, 'directoryObjects', page.s) };
  if (more) body['@odata.nextLink'] = nextLink(ctx, { ...page, k, p: cursor.p, o: cursor.o });
  body.value = value;
  return { body, records: value.length };
}

// ------------------------------------------------------------------ delta

/** users/delta pages hold about 200 objects (microsoft-graph-docs#5566 "more than 200 object pages"). */
const USERS_PER_DELTA_PAGE = 200;
/** groups/delta: a group's members@delta is split over entries, and a page ends once it carries ~1,000 members. */
const GROUP_ENTRIES_PER_PAGE = 100;
const MEMBERS_PER_ENTRY = 500;
const MEMBERS_PER_PAGE = 1000;
/** "For directory objects, the limit is seven days" (delta-query-overview.md, Token duration). */
export const DELTA_TOKEN_DAYS = 7;

type DeltaKind = 'users' | 'groups';

interface DeltaLinkState {
  d: DeltaKind;
  tn: string;
  /** Changes after this sequence number are news for the holder. */
  q: number;
  s?: string[];
  f?: string[];
}

interface DeltaPageState {
  d: DeltaKind;
  tn: string;
  /** Initial round (every object) or a round of changes. */
  r: 'i' | 'c';
  /** Sequence number the round ends at (its deltaLink's q). */
  u: number;
  /** Changes after this (change rounds). */
  n?: number;
  /** Next object index (initial) or change entry (changes). */
  o: number;
  /** Member cursor of the group at o (initial groups round). */
  p?: number;
  m?: number;
  s?: string[];
  f?: string[];
}

/**
 * A sync that cannot continue: 410 Gone with a Location to start over, "a request URL with an
 * empty $deltaToken (same as the initial query)" (delta-query-overview.md, Synchronization reset).
 * Code resyncRequired: "The delta token is no longer valid, and the app must reset the sync
 * state." (concepts/errors.md code table); the 40X/syncStateNotFound of "Token duration" is the
 * Outlook flavour of the same.
 */
function resync(ctx: GraphContext, kind: DeltaKind, state: { s?: string[]; f?: string[] } | undefined): GraphError {
  let url = `${ctx.graphRoot}/${ctx.version}/${kind}/delta?$deltatoken=`;
  if (state?.s) url += `&$select=${state.s.join(',')}`;
  if (state?.f) url += `&$filter=${encodeURIComponent(state.f.map((id) => `id eq '${id}'`).join(' or '))}`;
  return new GraphError(410, 'resyncRequired', 'The delta token is no longer valid, and the app must reset the sync state.', { Location: url });
}

/** Reads a delta state token: expired → 410 with the restart URL; foreign or forged → 400. */
function readDeltaToken<T extends { d: DeltaKind; tn: string; s?: string[]; f?: string[] }>(ctx: GraphContext, kind: DeltaKind, token: string): T {
  const state = ctx.pageTokens.decode<T>(token, ctx.now);
  if (state === 'expired') {
    // the signature held; recover the query to restart with
    let query: T | undefined;
    try {
      query = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as T;
    } catch {
      query = undefined;
    }
    throw resync(ctx, kind, query);
  }
  if (!state || state.d !== kind || state.tn !== ctx.tenant.key) throw expiredPageToken();
  return state;
}

function deltaSelect(ctx: GraphContext, kind: DeltaKind): string[] | undefined {
  const raw = selectOf(ctx);
  if (!raw) return undefined;
  if (kind === 'groups') {
    return raw.map((p) => (p.toLowerCase() === 'members' ? 'members' : (GROUP_BY_LOWER.get(p.toLowerCase()) ?? throwError(noSuchProperty(p, 'group')))));
  }
  const select = canonicalSelect(raw, USER_BY_LOWER, 'user')!;
  // properties kept outside the directory's main store cannot be tracked (delta-query-overview.md,
  // Limitations; errors/graph-501-NotImplemented-delta-select.json); signInActivity is one of them
  if (select.some((p) => SINGLE_USER_ONLY.has(p) || p === 'signInActivity')) throw notImplemented();
  return select;
}
const throwError = (err: GraphError): never => {
  throw err;
};

/** $filter on delta: only `id eq '…'` joined by `or`, at most 50 ids (user-delta.md). */
function deltaFilter(ctx: GraphContext): string[] | undefined {
  const raw = ctx.query.$filter;
  if (raw === undefined) return undefined;
  const ids: string[] = [];
  const visit = (n: FilterNode): void => {
    if (n.kind === 'or') {
      visit(n.left);
      visit(n.right);
    } else if (n.kind === 'cmp' && n.op === 'eq' && n.path === 'id' && typeof n.value === 'string') ids.push(n.value.toLowerCase());
    else throw unsupportedQuery();
  };
  visit(parse(raw));
  if (ids.length > 50) throw unsupportedQuery();
  return ids;
}

/** Where a delta request starts: an initial round, a page of one, the latest token, or the changes since a token. */
function deltaStart(ctx: GraphContext, dir: Directory, kind: DeltaKind): DeltaPageState | { latest: true; s?: string[]; f?: string[] } {
  const skip = option(ctx, '$skiptoken');
  if (skip !== undefined) return readDeltaToken<DeltaPageState>(ctx, kind, skip);
  const delta = option(ctx, '$deltatoken');
  if (delta !== undefined && delta !== '' && delta.toLowerCase() !== 'latest') {
    const link = readDeltaToken<DeltaLinkState>(ctx, kind, delta);
    // a token from before a restart of the simulator: its state is gone
    if (link.q > dir.seq) throw resync(ctx, kind, link);
    return { d: kind, tn: ctx.tenant.key, r: 'c', n: link.q, u: dir.seq, o: 0, ...(link.s ? { s: link.s } : {}), ...(link.f ? { f: link.f } : {}) };
  }
  // "$expand is not supported, $top is not supported, $orderby is not supported" for users and
  // groups (delta-query-overview.md). Microsoft staff have also said unsupported options are
  // silently ignored (microsoft-graph-docs#17516); the simulator refuses them so callers find out.
  // Groups keep the older $expand=members, which tracks membership as $select=members does.
  const expand = option(ctx, '$expand');
  const expandsMembers = kind === 'groups' && expand?.trim().toLowerCase() === 'members';
  if (option(ctx, '$top') !== undefined || option(ctx, '$orderby') !== undefined || (expand !== undefined && !expandsMembers) || option(ctx, '$search') !== undefined) {
    throw unsupportedQuery();
  }
  let s = deltaSelect(ctx, kind);
  if (s && expandsMembers && !s.includes('members')) s = [...s, 'members'];
  const f = deltaFilter(ctx);
  const query = { ...(s ? { s } : {}), ...(f ? { f } : {}) };
  if (delta?.toLowerCase() === 'latest') return { latest: true, ...query };
  return { d: kind, tn: ctx.tenant.key, r: 'i', u: dir.seq, o: 0, ...query };
}

function deltaBody(ctx: GraphContext, kind: DeltaKind, value: Record<string, unknown>[], next: DeltaPageState | undefined, done: { q: number; s?: string[]; f?: string[] }): GraphResult {
  // the first request's own $select shows in the context; later pages' URLs carry only a token
  const body: Record<string, unknown> = { '@odata.context': contextUrl(ctx, kind, ctx.query.$select !== undefined ? done.s : undefined) };
  const ttl = ctx.now + DELTA_TOKEN_DAYS * DAY;
  if (next) {
    body['@odata.nextLink'] = `${ctx.graphRoot}/${ctx.version}/${kind}/delta?$skiptoken=${ctx.pageTokens.encode(next, ttl)}`;
  } else {
    const link: DeltaLinkState = { d: kind, tn: ctx.tenant.key, q: done.q, ...(done.s ? { s: done.s } : {}), ...(done.f ? { f: done.f } : {}) };
    body['@odata.deltaLink'] = `${ctx.graphRoot}/${ctx.version}/${kind}/delta?$deltatoken=${ctx.pageTokens.encode(link, ttl)}`;
  }
  body.value = value;
  return { body, records: value.length };
}

const removed = (id: string, reason: 'changed' | 'deleted') => ({ id, '@removed': { reason } });

function usersDelta(ctx: GraphContext, dir: Directory): GraphResult {
  const st = deltaStart(ctx, dir, 'users');
  if ('latest' in st) return deltaBody(ctx, 'users', [], undefined, { q: dir.seq, ...st });
  const ids = st.f ? new Set(st.f) : undefined;
  const value: Record<string, unknown>[] = [];
  if (st.r === 'i') {
    // the initial round lists the users that exist now
    const listed = (u: DirUser) => !u.deleted && (!ids || ids.has(u.person.id));
    let i = st.o;
    for (; i < dir.userCount && value.length < USERS_PER_DELTA_PAGE; i++) {
      const u = dir.userAt(i)!;
      if (listed(u)) value.push(projectUser(userRecord(dir, u, ctx.now), st.s));
    }
    let more = false;
    for (let j = i; j < dir.userCount && !more; j++) more = listed(dir.userAt(j)!);
    return deltaBody(ctx, 'users', value, more ? { ...st, o: i } : undefined, { q: st.u, ...st });
  }
  // Changed users, each once, in the order of their latest change. With $select only changes to
  // selected properties count ("If a change occurs to a property that is not selected, the
  // resource … does not appear"); without it any change does.
  const order = new Map<string, true>();
  for (const c of dir.changesBetween(st.n ?? 0, st.u)) {
    if (c.kind !== 'user' || (ids && !ids.has(c.userId))) continue;
    if (c.props && st.s && !c.props.some((p) => st.s!.includes(p))) continue;
    order.delete(c.userId);
    order.set(c.userId, true);
  }
  const changed = [...order.keys()];
  for (const id of changed.slice(st.o, st.o + USERS_PER_DELTA_PAGE)) {
    const u = dir.findUser(id);
    if (!u) continue;
    if (u.deleted) value.push(removed(id, u.deleted.hard ? 'deleted' : 'changed'));
    else value.push(projectUser(userRecord(dir, u, ctx.now), st.s)); // created and restored: no annotation
  }
  const o = st.o + USERS_PER_DELTA_PAGE;
  return deltaBody(ctx, 'users', value, o < changed.length ? { ...st, o } : undefined, { q: st.u, ...st });
}

function groupsDelta(ctx: GraphContext, dir: Directory): GraphResult {
  const st = deltaStart(ctx, dir, 'groups');
  if ('latest' in st) return deltaBody(ctx, 'groups', [], undefined, { q: dir.seq, ...st });
  const ids = st.f ? new Set(st.f) : undefined;
  // membership is tracked by default, and with $select only when members is selected
  const tracksMembers = !st.s || st.s.includes('members');
  const props = st.s?.filter((p) => p !== 'members');
  const render = (g: GroupPlan) => projectGroup(groupRecord(dir, g, ctx.now), st.s ? props : undefined);
  const value: Record<string, unknown>[] = [];
  if (st.r === 'i') {
    let g = st.o;
    let cursor: MemberCursor = { p: st.p ?? 0, o: st.m ?? 0 };
    let refs = 0;
    while (g < dir.groups.length && value.length < GROUP_ENTRIES_PER_PAGE && refs < MEMBERS_PER_PAGE) {
      const group = dir.groups[g]!;
      if (ids && !ids.has(group.id)) {
        g++;
        continue;
      }
      const entry = render(group);
      let finished = true;
      if (tracksMembers) {
        const members: Record<string, unknown>[] = [];
        for (const { ref, next } of dir.directMembers(group, cursor)) {
          if (members.length === MEMBERS_PER_ENTRY) {
            finished = false;
            break;
          }
          members.push({ '@odata.type': odataType(ref.type), id: memberRefId(ref) });
          cursor = next;
        }
        if (members.length > 0) entry['members@delta'] = members;
        refs += members.length;
      }
      value.push(entry);
      if (finished) {
        g++;
        cursor = { p: 0, o: 0 };
      }
    }
    const more = g < dir.groups.length && (!ids || dir.groups.slice(g).some((x) => ids.has(x.id)));
    return deltaBody(ctx, 'groups', value, more ? { ...st, o: g, p: cursor.p, m: cursor.o } : undefined, { q: st.u, ...st });
  }
  // Changed groups in the order of their latest change, with the members that changed: present
  // ones as references, removed ones with @removed "deleted" (groups-delta.json).
  const touched = new Map<number, Map<string, MemberType>>();
  for (const c of dir.changesBetween(st.n ?? 0, st.u)) {
    if (c.kind !== 'member' || !tracksMembers) continue;
    const group = dir.groups[c.group]!;
    if (ids && !ids.has(group.id)) continue;
    const members = touched.get(c.group) ?? new Map<string, MemberType>();
    members.delete(c.memberId);
    members.set(c.memberId, c.memberType);
    touched.delete(c.group);
    touched.set(c.group, members);
  }
  const entries: Array<{ group: GroupPlan; members: Array<[string, MemberType]> }> = [];
  for (const [index, members] of touched) {
    const list = [...members];
    for (let k = 0; k < list.length; k += MEMBERS_PER_ENTRY) entries.push({ group: dir.groups[index]!, members: list.slice(k, k + MEMBERS_PER_ENTRY) });
  }
  for (const { group, members } of entries.slice(st.o, st.o + GROUP_ENTRIES_PER_PAGE)) {
    value.push({
      ...render(group),
      'members@delta': members.map(([id, type]) => (dir.isDirectMember(group, id) ? { '@odata.type': odataType(type), id } : { '@odata.type': odataType(type), ...removed(id, 'deleted') })),
    });
  }
  const o = st.o + GROUP_ENTRIES_PER_PAGE;
  return deltaBody(ctx, 'groups', value, o < entries.length ? { ...st, o } : undefined, { q: st.u, ...st });
}

// ------------------------------------------------------------------ routes

export function directoryRoutes(deps: DirectoryDeps): GraphRoute[] {
  /** The tenant's directory, with purges of long-deleted users done as of now. */
  const dirOf = (ctx: GraphContext) => {
    const dir = deps.directory(ctx.tenant);
    dir.tick(ctx.now);
    return dir;
  };
  // Resource-unit costs (graph-facts §6): users 2, groups/{id}/members 3, transitiveMembers 5, other GETs 1.
  return [
    { method: 'GET', path: '/users', accepts: ACCEPTS.users, family: usersFamily, cost: 2, gate: activityGate, handle: (ctx) => listUsers(ctx, dirOf(ctx)) },
    { method: 'GET', path: '/users/$count', accepts: ACCEPTS.users, family: 'directory', cost: 2, handle: (ctx) => countUsers(ctx, dirOf(ctx)) },
    { method: 'GET', path: '/users/delta', accepts: ACCEPTS.users, family: 'directory', cost: 2, handle: (ctx) => usersDelta(ctx, dirOf(ctx)) },
    { method: 'GET', path: '/users/:id', accepts: ACCEPTS.users, family: usersFamily, cost: 2, gate: activityGate, handle: (ctx) => getUser(ctx, dirOf(ctx)) },
    { method: 'GET', path: '/groups', accepts: ACCEPTS.groups, family: 'directory', cost: 1, handle: (ctx) => listGroups(ctx, dirOf(ctx)) },
    { method: 'GET', path: '/groups/delta', accepts: ACCEPTS.groups, family: 'directory', cost: 1, handle: (ctx) => groupsDelta(ctx, dirOf(ctx)) },
    { method: 'GET', path: '/groups/:id', accepts: ACCEPTS.groups, family: 'directory', cost: 1, handle: (ctx) => getGroup(ctx, dirOf(ctx)) },
    { method: 'GET', path: '/groups/:id/members', accepts: ACCEPTS.groups, family: 'directory', cost: 3, handle: (ctx) => listMembers(ctx, dirOf(ctx), false) },
    { method: 'GET', path: '/groups/:id/transitiveMembers', accepts: ACCEPTS.groups, family: 'directory', cost: 5, handle: (ctx) => listMembers(ctx, dirOf(ctx), true) },
  ];
}
