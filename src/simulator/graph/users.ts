// GET /users, /users/{id} and /users/$count (reference/graph-facts.md §3): the run-time directory's
// users with $select, $filter, $search and $count as Graph takes them, and signInActivity gated
// (AuditLog.Read.All, P1/P2), paged (500 at most) and throttled on its own, as Graph does.
import type { Directory, DirUser } from '../data/directory.js';
import { ACCEPTS } from '../permissions.js';
import { liveDirectory, type DirectoryDeps } from './live-directory.js';
import {
  canonicalSelect,
  checkFilter,
  countNeedsHeader,
  isEventual,
  notImplemented,
  option,
  rejectListOptions,
  searchNeedsHeader,
  stringRule,
  type FilterRule,
} from './directory-query.js';
import { auditPermissionMissing, nonPremiumTenant, notFound, unsupportedQuery } from './errors.js';
import { clauses, matches, type FilterNode } from './odata.js';
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
import type { ThrottleFamily } from './throttle.js';
import { projectUser, SINGLE_USER_ONLY, USER_BY_LOWER, userRecord } from './user-record.js';

/** What $filter takes on users, per property (user-list.md, reference/graph-facts.md §3.2). */
const USER_FILTERS: Record<string, FilterRule> = {
  id: { ops: ['eq', 'in'], type: 'string' },
  userType: { ops: ['eq', 'in'], type: 'string' },
  accountEnabled: { ops: ['eq', 'in'], type: 'boolean' },
  userPrincipalName: { ...stringRule(), endsWith: true },
  mail: { ...stringRule(), endsWith: true },
  displayName: stringRule(),
  givenName: stringRule(),
  surname: stringRule(),
  jobTitle: stringRule(),
  department: { ops: ['eq', 'in'], type: 'string' },
  externalUserState: { ops: ['eq', 'in'], type: 'string' },
  createdDateTime: { ops: ['eq', 'ge', 'le'], type: 'date' },
  // "Supports $filter (eq, ne, not, ge, le) but not with any other filterable properties" (v1.0 typings)
  'signInActivity/lastSignInDateTime': { ops: ['eq', 'ge', 'le'], type: 'date' },
  'signInActivity/lastNonInteractiveSignInDateTime': { ops: ['eq', 'ge', 'le'], type: 'date' },
  'signInActivity/lastSuccessfulSignInDateTime': { ops: ['eq', 'ge', 'le'], type: 'date' },
};

/** Whether a filter reads signInActivity (which may not be combined with other properties). */
const usesActivity = (node: FilterNode | undefined): boolean =>
  !!node && [...clauses(node)].some((c) => c.path.startsWith('signInActivity/'));

/** $search="displayName:wa" OR "mail:wa": each word of the property starting with the term. */
function searchPredicate(raw: string): (record: Record<string, unknown>) => boolean {
  const parts = raw.trim().split(/\s+(AND|OR)\s+/);
  const terms: Array<(r: Record<string, unknown>) => boolean> = [];
  for (let i = 0; i < parts.length; i += 2) {
    const m = /^"([A-Za-z]+):([^"]*)"$/.exec(parts[i]!.trim());
    const property = m && USER_BY_LOWER.get(m[1]!.toLowerCase());
    if (
      !m ||
      !property ||
      ![
        'displayName',
        'givenName',
        'surname',
        'mail',
        'userPrincipalName',
        'jobTitle',
        'department',
        'mailNickname',
      ].includes(property)
    )
      throw unsupportedQuery();
    const term = m[2]!.toLowerCase();
    terms.push((r) => {
      const v = r[property];
      return (
        typeof v === 'string' &&
        (v.toLowerCase().startsWith(term) ||
          v
            .toLowerCase()
            .split(/[^a-z0-9]+/)
            .some((w) => w.startsWith(term)))
      );
    });
  }
  return (r) => {
    let result = terms[0]!(r);
    for (let i = 1; i < terms.length; i++)
      result = parts[2 * i - 1] === 'AND' ? result && terms[i]!(r) : result || terms[i]!(r);
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
  return (
    /(^|,)\s*signInActivity\s*(,|$)/i.test(ctx.query.$select ?? '') || /signInActivity\//i.test(ctx.query.$filter ?? '')
  );
}

/** signInActivity needs AuditLog.Read.All and P1/P2, whatever else the app holds (graph-facts §3.1). */
function activityGate(ctx: GraphContext): void {
  if (!readsActivity(ctx)) return;
  if (!ctx.has('AuditLog.Read.All')) throw auditPermissionMissing();
  if (ctx.tenant.licence === 'free') throw nonPremiumTenant();
}

const usersFamily = (ctx: GraphContext): ThrottleFamily => (readsActivity(ctx) ? 'signInActivity' : 'directory');

// ------------------------------------------------------------------ routes

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
    const filter = filterText === undefined ? undefined : parsedFilter(filterText);
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
    page = {
      o: 0,
      t: top,
      ...(select ? { s: select } : {}),
      ...(filterText !== undefined ? { f: filterText } : {}),
      ...(search !== undefined ? { q: search } : {}),
      ...(activity ? { a: 1 as const } : {}),
    };
  }
  const filter = page.f === undefined ? undefined : parsedFilter(page.f);
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

export function userRoutes(deps: DirectoryDeps): GraphRoute[] {
  // Resource units (graph-facts §6): 2 per users request.
  return [
    {
      method: 'GET',
      path: '/users',
      accepts: ACCEPTS.users,
      family: usersFamily,
      cost: 2,
      gate: activityGate,
      handle: (ctx) => listUsers(ctx, liveDirectory(deps, ctx)),
    },
    {
      method: 'GET',
      path: '/users/$count',
      accepts: ACCEPTS.users,
      family: 'directory',
      cost: 2,
      handle: (ctx) => countUsers(ctx, liveDirectory(deps, ctx)),
    },
    {
      method: 'GET',
      path: '/users/:id',
      accepts: ACCEPTS.users,
      family: usersFamily,
      cost: 2,
      gate: activityGate,
      handle: (ctx) => getUser(ctx, liveDirectory(deps, ctx)),
    },
  ];
}
