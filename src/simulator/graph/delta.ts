// GET /users/delta and /groups/delta (delta-query-overview.md): an initial round of every object,
// then rounds of what changed since a deltaLink, read from the directory's change log — deleted
// users with @removed, membership changes in members@delta — and 410 resyncRequired once a token
// can no longer be served.
import type { Directory, DirUser, GroupPlan, MemberCursor, MemberType } from '../data/directory.js';
import { DAY } from '../data/time.js';
import { ACCEPTS } from '../permissions.js';
import { liveDirectory, type DirectoryDeps } from './live-directory.js';
import { canonicalSelect, noSuchProperty, notImplemented, option } from './directory-query.js';
import { GraphError, unsupportedQuery } from './errors.js';
import type { FilterNode } from './odata.js';
import {
  contextUrl,
  expiredPageToken,
  parsedFilter,
  selectOf,
  type GraphContext,
  type GraphResult,
  type GraphRoute,
} from './route.js';
import { GROUP_BY_LOWER, groupRecord, memberRefId, odataType, projectGroup } from './groups.js';
import { projectUser, SINGLE_USER_ONLY, USER_BY_LOWER, userRecord } from './user-record.js';

/** users/delta pages hold about 200 objects (microsoft-graph-docs#5566 "more than 200 object pages"). */
const USERS_PER_DELTA_PAGE = 200;
/** groups/delta: a group's members@delta is split over entries, and a page ends once it carries ~1,000 members. */
const GROUP_ENTRIES_PER_PAGE = 100;
const MEMBERS_PER_ENTRY = 500;
const MEMBERS_PER_PAGE = 1000;
/** "For directory objects, the limit is seven days" (delta-query-overview.md, Token duration). */
const DELTA_TOKEN_DAYS = 7;

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
  return new GraphError(
    410,
    'resyncRequired',
    'The delta token is no longer valid, and the app must reset the sync state.',
    { Location: url },
  );
}

/** Reads a delta state token: expired → 410 with the restart URL; foreign or forged → 400. */
function readDeltaToken<T extends { d: DeltaKind; tn: string; s?: string[]; f?: string[] }>(
  ctx: GraphContext,
  kind: DeltaKind,
  token: string,
): T {
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
    return raw.map((p) =>
      p.toLowerCase() === 'members'
        ? 'members'
        : (GROUP_BY_LOWER.get(p.toLowerCase()) ?? throwError(noSuchProperty(p, 'group'))),
    );
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
    } else if (n.kind === 'cmp' && n.op === 'eq' && n.path === 'id' && typeof n.value === 'string')
      ids.push(n.value.toLowerCase());
    else throw unsupportedQuery();
  };
  visit(parsedFilter(raw));
  if (ids.length > 50) throw unsupportedQuery();
  return ids;
}

/** Where a delta request starts: an initial round, a page of one, the latest token, or the changes since a token. */
function deltaStart(
  ctx: GraphContext,
  dir: Directory,
  kind: DeltaKind,
): DeltaPageState | { latest: true; s?: string[]; f?: string[] } {
  const skip = option(ctx, '$skiptoken');
  if (skip !== undefined) return readDeltaToken<DeltaPageState>(ctx, kind, skip);
  const delta = option(ctx, '$deltatoken');
  if (delta !== undefined && delta !== '' && delta.toLowerCase() !== 'latest') {
    const link = readDeltaToken<DeltaLinkState>(ctx, kind, delta);
    // a token from before a restart of the simulator: its state is gone
    if (link.q > dir.seq) throw resync(ctx, kind, link);
    return {
      d: kind,
      tn: ctx.tenant.key,
      r: 'c',
      n: link.q,
      u: dir.seq,
      o: 0,
      ...(link.s ? { s: link.s } : {}),
      ...(link.f ? { f: link.f } : {}),
    };
  }
  // "$expand is not supported, $top is not supported, $orderby is not supported" for users and
  // groups (delta-query-overview.md). Microsoft staff have also said unsupported options are
  // silently ignored (microsoft-graph-docs#17516); the simulator refuses them so callers find out.
  // Groups keep the older $expand=members, which tracks membership as $select=members does.
  const expand = option(ctx, '$expand');
  const expandsMembers = kind === 'groups' && expand?.trim().toLowerCase() === 'members';
  if (
    option(ctx, '$top') !== undefined ||
    option(ctx, '$orderby') !== undefined ||
    (expand !== undefined && !expandsMembers) ||
    option(ctx, '$search') !== undefined
  ) {
    throw unsupportedQuery();
  }
  let s = deltaSelect(ctx, kind);
  if (s && expandsMembers && !s.includes('members')) s = [...s, 'members'];
  const f = deltaFilter(ctx);
  const query = { ...(s ? { s } : {}), ...(f ? { f } : {}) };
  if (delta?.toLowerCase() === 'latest') return { latest: true, ...query };
  return { d: kind, tn: ctx.tenant.key, r: 'i', u: dir.seq, o: 0, ...query };
}

function deltaBody(
  ctx: GraphContext,
  kind: DeltaKind,
  value: Record<string, unknown>[],
  next: DeltaPageState | undefined,
  done: { q: number; s?: string[]; f?: string[] },
): GraphResult {
  // the first request's own $select shows in the context; later pages' URLs carry only a token
  const body: Record<string, unknown> = {
    '@odata.context': contextUrl(ctx, kind, ctx.query.$select !== undefined ? done.s : undefined),
  };
  const ttl = ctx.now + DELTA_TOKEN_DAYS * DAY;
  if (next) {
    body['@odata.nextLink'] =
      `${ctx.graphRoot}/${ctx.version}/${kind}/delta?$skiptoken=${ctx.pageTokens.encode(next, ttl)}`;
  } else {
    const link: DeltaLinkState = {
      d: kind,
      tn: ctx.tenant.key,
      q: done.q,
      ...(done.s ? { s: done.s } : {}),
      ...(done.f ? { f: done.f } : {}),
    };
    body['@odata.deltaLink'] =
      `${ctx.graphRoot}/${ctx.version}/${kind}/delta?$deltatoken=${ctx.pageTokens.encode(link, ttl)}`;
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
    return deltaBody(ctx, 'groups', value, more ? { ...st, o: g, p: cursor.p, m: cursor.o } : undefined, {
      q: st.u,
      ...st,
    });
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
    for (let k = 0; k < list.length; k += MEMBERS_PER_ENTRY)
      entries.push({ group: dir.groups[index]!, members: list.slice(k, k + MEMBERS_PER_ENTRY) });
  }
  for (const { group, members } of entries.slice(st.o, st.o + GROUP_ENTRIES_PER_PAGE)) {
    value.push({
      ...render(group),
      'members@delta': members.map(([id, type]) =>
        dir.isDirectMember(group, id)
          ? { '@odata.type': odataType(type), id }
          : { '@odata.type': odataType(type), ...removed(id, 'deleted') },
      ),
    });
  }
  const o = st.o + GROUP_ENTRIES_PER_PAGE;
  return deltaBody(ctx, 'groups', value, o < entries.length ? { ...st, o } : undefined, { q: st.u, ...st });
}

export function deltaRoutes(deps: DirectoryDeps): GraphRoute[] {
  return [
    {
      method: 'GET',
      path: '/users/delta',
      accepts: ACCEPTS.users,
      family: 'directory',
      cost: 2,
      handle: (ctx) => usersDelta(ctx, liveDirectory(deps, ctx)),
    },
    {
      method: 'GET',
      path: '/groups/delta',
      accepts: ACCEPTS.groups,
      family: 'directory',
      cost: 1,
      handle: (ctx) => groupsDelta(ctx, liveDirectory(deps, ctx)),
    },
  ];
}
