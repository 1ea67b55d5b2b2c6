// GET /groups, /groups/{id}, /groups/{id}/members and /transitiveMembers: the tenant's groups
// (data/directory.ts) as Graph writes them (groups-list.json), members typed, nested members
// listed once each.
import type { Directory, GroupPlan, MemberCursor, MemberRef, MemberType } from '../data/directory.js';
import { isoSeconds } from '../data/time.js';
import { ACCEPTS } from '../permissions.js';
import { mix } from '../random.js';
import { liveDirectory, type DirectoryDeps } from './live-directory.js';
import {
  canonicalSelect,
  checkFilter,
  isEventual,
  noSuchProperty,
  rejectListOptions,
  stringRule,
  type FilterRule,
} from './directory-query.js';
import { notFound } from './errors.js';
import { matches } from './odata.js';
import {
  contextUrl,
  expiredPageToken,
  nextLink,
  pageState,
  parsedFilter,
  selectOf,
  topOf,
  type GraphContext,
  type GraphResult,
  type GraphRoute,
} from './route.js';
import { domainSid, USER_BY_LOWER, userItem } from './user-record.js';

/** The properties the simulator writes for a group, in the order of Microsoft's example. */
const GROUP_PROPERTIES = [
  ...(
    'id deletedDateTime classification createdDateTime description displayName expirationDateTime ' +
    'groupTypes isAssignableToRole mail mailEnabled mailNickname membershipRule ' +
    'membershipRuleProcessingState onPremisesLastSyncDateTime onPremisesSecurityIdentifier ' +
    'onPremisesSyncEnabled preferredDataLocation preferredLanguage proxyAddresses renewedDateTime ' +
    'resourceBehaviorOptions resourceProvisioningOptions securityEnabled theme visibility ' +
    'onPremisesProvisioningErrors'
  ).split(' '),
];
/** The rest of the v1.0 group's structural properties: selectable, read null (or []) here. */
const OTHER_GROUP_PROPERTIES = (
  'accessType allowExternalSenders assignedLabels assignedLicenses autoSubscribeNewMembers ' +
  'hasMembersWithLicenseErrors hideFromAddressLists hideFromOutlookClients infoCatalogs isArchived ' +
  'isFavorite isManagementRestricted isSubscribedByMail licenseProcessingState onPremisesDomainName ' +
  'onPremisesExtensionAttributes onPremisesNetBiosName onPremisesSamAccountName organizationId ' +
  'securityIdentifier serviceProvisioningErrors uniqueName unseenConversationsCount unseenCount ' +
  'unseenMessagesCount welcomeMessageEnabled'
).split(' ');
export const GROUP_BY_LOWER = new Map(
  [...GROUP_PROPERTIES, ...OTHER_GROUP_PROPERTIES].map((p) => [p.toLowerCase(), p]),
);
const GROUP_COLLECTIONS = new Set(
  (
    'groupTypes proxyAddresses resourceBehaviorOptions resourceProvisioningOptions ' +
    'onPremisesProvisioningErrors assignedLabels assignedLicenses infoCatalogs serviceProvisioningErrors'
  ).split(' '),
);

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
    onPremisesLastSyncDateTime: g.synced
      ? isoSeconds(Math.floor(now / (30 * 60_000)) * 30 * 60_000 - (mix(tenant.salt, 63, g.index) % (30 * 60_000)))
      : null,
    onPremisesSecurityIdentifier: g.synced ? domainSid(tenant, 500_000 + g.index) : null,
    onPremisesSyncEnabled: g.synced ? true : null,
    preferredDataLocation: null,
    preferredLanguage: null,
    proxyAddresses: unified
      ? [`SMTP:${g.mailNickname}@${domain}`, `smtp:${g.mailNickname}@${tenant.initialDomain}`]
      : [],
    renewedDateTime: created,
    resourceBehaviorOptions: [],
    resourceProvisioningOptions: unified && g.index % 2 === 0 ? ['Team'] : [],
    securityEnabled: !unified,
    theme: null,
    visibility: g.visibility,
    onPremisesProvisioningErrors: [],
  };
}

/** $select applied to a group record; selected properties not generated read null or []. */
export function projectGroup(
  record: Record<string, unknown>,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  if (!select) return record;
  const out: Record<string, unknown> = {};
  for (const p of [...GROUP_PROPERTIES, ...OTHER_GROUP_PROPERTIES]) {
    if (p !== 'id' && !select.includes(p)) continue;
    out[p] = p in record ? record[p] : GROUP_COLLECTIONS.has(p) ? [] : null;
  }
  return out;
}

/** A member as /members lists it: its type first, then its default properties (or the selected ones). */
function memberItem(
  dir: Directory,
  ref: MemberRef,
  now: number,
  select: readonly string[] | undefined,
): Record<string, unknown> {
  if (ref.type === 'user') return userItem(dir, ref.user, now, select);
  const props = projectGroup(
    groupRecord(dir, ref.group, now),
    select?.filter((p) => GROUP_BY_LOWER.has(p.toLowerCase())),
  );
  const { id, ...rest } = props;
  return { '@odata.type': '#microsoft.graph.group', id, ...rest };
}

export const memberRefId = (ref: MemberRef): string => (ref.type === 'user' ? ref.user.person.id : ref.group.id);
export const odataType = (type: MemberType) => (type === 'user' ? '#microsoft.graph.user' : '#microsoft.graph.group');

/** What $filter takes on groups, per property (group-list.md). */
const GROUP_FILTERS: Record<string, FilterRule> = {
  id: { ops: ['eq', 'in'], type: 'string' },
  displayName: stringRule(),
  mail: { ...stringRule(), endsWith: true },
  mailNickname: stringRule(),
  mailEnabled: { ops: ['eq'], type: 'boolean' },
  securityEnabled: { ops: ['eq'], type: 'boolean' },
  isAssignableToRole: { ops: ['eq'], type: 'boolean' },
  onPremisesSyncEnabled: { ops: ['eq'], type: 'boolean' },
  createdDateTime: { ops: ['eq', 'ge', 'le'], type: 'date' },
};

// ------------------------------------------------------------------ routes

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
    if (filterText !== undefined)
      checkFilter(parsedFilter(filterText), isEventual(ctx), GROUP_FILTERS, 'Group', GROUP_BY_LOWER);
    page = {
      o: 0,
      t: topOf(ctx, 100, 999),
      ...(select ? { s: select } : {}),
      ...(filterText !== undefined ? { f: filterText } : {}),
    };
  }
  const filter = page.f === undefined ? undefined : parsedFilter(page.f);
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
  return {
    body: {
      '@odata.context': `${contextUrl(ctx, 'groups', select)}/$entity`,
      ...projectGroup(groupRecord(dir, g, ctx.now), select),
    },
  };
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

export function groupRoutes(deps: DirectoryDeps): GraphRoute[] {
  // Resource units (graph-facts §6): groups 1, groups/{id}/members 3, transitiveMembers 5.
  return [
    {
      method: 'GET',
      path: '/groups',
      accepts: ACCEPTS.groups,
      family: 'directory',
      cost: 1,
      handle: (ctx) => listGroups(ctx, liveDirectory(deps, ctx)),
    },
    {
      method: 'GET',
      path: '/groups/:id',
      accepts: ACCEPTS.groups,
      family: 'directory',
      cost: 1,
      handle: (ctx) => getGroup(ctx, liveDirectory(deps, ctx)),
    },
    {
      method: 'GET',
      path: '/groups/:id/members',
      accepts: ACCEPTS.groups,
      family: 'directory',
      cost: 3,
      handle: (ctx) => listMembers(ctx, liveDirectory(deps, ctx), false),
    },
    {
      method: 'GET',
      path: '/groups/:id/transitiveMembers',
      accepts: ACCEPTS.groups,
      family: 'directory',
      cost: 5,
      handle: (ctx) => listMembers(ctx, liveDirectory(deps, ctx), true),
    },
  ];
}
