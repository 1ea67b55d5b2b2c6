// GET /auditLogs/signIns — v1.0 (interactive sign-ins) and beta (all four event types through
// signInEventTypes/any()). Newest first, at most 1,000 a page, $filter as Graph supports it,
// retention 30 days on P1/P2 and 7 on Free (reference/graph-facts.md §2) — and GET
// /auditLogs/signIns/{id}, one record as the list shows it.
import { visibleAt, type EventType, EVENT_TYPES, type SignInSource } from '../data/signins.js';
import { renderSignIn, type RenderContext } from '../data/signin-render.js';
import { DAY, HOUR } from '../data/time.js';
import { ACCEPTS } from '../permissions.js';
import type { SimTenant } from '../tenants.js';
import { GraphError, invalidFilter } from './errors.js';
import { single } from './list-page.js';
import { clauses, matches, timeBounds, type FilterNode } from './odata.js';
import {
  contextUrl,
  nextLink,
  PageWriter,
  pageState,
  parsedFilter,
  projectSelect,
  selectOf,
  topOf,
  type GraphContext,
  type GraphRoute,
} from './route.js';

/** How far a filter may reach past the retention window before Graph rejects it (clock skew). */
const RETENTION_GRACE = 60_000;

const EQ_ONLY = new Set([
  'id',
  'userId',
  'appId',
  'correlationId',
  'clientAppUsed',
  'conditionalAccessStatus',
  'resourceId',
  'resourceDisplayName',
  'riskDetail',
  'riskLevelAggregated',
  'riskLevelDuringSignIn',
  'riskState',
  'status/errorCode',
  'isInteractive',
]);
const EQ_OR_STARTSWITH = new Set([
  'appDisplayName',
  'ipAddress',
  'userDisplayName',
  'userPrincipalName',
  'deviceDetail/browser',
  'deviceDetail/operatingSystem',
  'location/city',
  'location/state',
  'location/countryOrRegion',
]);
const TIME_OPS = new Set(['eq', 'ge', 'le', 'gt', 'lt']);

/** Throws Graph's "Invalid filter clause" for anything signIns does not support. */
function checkFilter(filter: FilterNode, beta: boolean): void {
  for (const c of clauses(filter)) {
    if (c.kind === 'cmp') {
      if (c.path === 'createdDateTime') {
        // dates are unquoted ISO 8601 literals; a quoted date is a string and Graph rejects it
        if (!TIME_OPS.has(c.op) || c.quotedDate || c.value === null || typeof c.value !== 'object')
          throw invalidFilter();
      } else if (c.op !== 'eq' || !(EQ_ONLY.has(c.path) || EQ_OR_STARTSWITH.has(c.path))) {
        throw invalidFilter();
      }
    } else if (c.kind === 'fn') {
      if (c.name !== 'startswith' || !EQ_OR_STARTSWITH.has(c.path)) throw invalidFilter();
    } else if (c.kind === 'any') {
      if (!beta || c.path !== 'signInEventTypes' || !c.body) throw invalidFilter();
      for (const inner of clauses(c.body)) {
        if (inner.kind !== 'cmp' || inner.op !== 'eq' || inner.path !== c.variable || typeof inner.value !== 'string')
          throw invalidFilter();
      }
    } else {
      throw invalidFilter();
    }
  }
}

/** The streams a query can draw from: v1.0 and unfiltered beta serve interactive sign-ins only. */
function streamsFor(filter: FilterNode | undefined, beta: boolean): EventType[] {
  if (!beta || !filter) return ['interactiveUser'];
  const lambdas = [...clauses(filter)].filter((c) => c.kind === 'any');
  if (lambdas.length === 0) return ['interactiveUser'];
  return EVENT_TYPES.filter((type) =>
    lambdas.some((l) => l.kind === 'any' && l.body && matches(l.body, {}, { [l.variable]: type })),
  );
}

/**
 * What of the filter is left to test record by record: the createdDateTime bounds and the
 * event-type lambda joined by `and` at the top are already applied by the scan and the streams
 * it reads (testing them again would parse every record's timestamp twice).
 */
function residual(filter: FilterNode | undefined): FilterNode | undefined {
  if (!filter) return undefined;
  // with several lambdas the streams are only a superset: keep testing them
  const oneLambda = [...clauses(filter)].filter((c) => c.kind === 'any').length === 1;
  const strip = (node: FilterNode): FilterNode | undefined => {
    if (node.kind === 'and') {
      const left = strip(node.left);
      const right = strip(node.right);
      return left && right ? { kind: 'and', left, right } : (left ?? right);
    }
    if (node.kind === 'cmp' && node.path === 'createdDateTime' && node.op !== 'ne') return undefined;
    if (node.kind === 'any' && node.path === 'signInEventTypes' && oneLambda) return undefined;
    return node;
  };
  return strip(filter);
}

/** How records are rendered for this caller: the version, the clock, Policy.Read.All, the Prefer header. */
function renderContext(ctx: GraphContext, source: SignInSource): RenderContext {
  return {
    tenant: ctx.tenant,
    beta: ctx.version === 'beta',
    now: ctx.now,
    withPolicies: ctx.has('Policy.Read.All', 'Policy.Read.ConditionalAccess', 'Policy.ReadWrite.ConditionalAccess'),
    policies: source.policies,
    evolvableEnums: String(ctx.headers.prefer ?? '').includes('include-unknown-enum-members'),
  };
}

/**
 * Microsoft documents no error for a sign-in id that does not exist (signin-get.md lists only the
 * 200): the simulator answers with the generic 404 of Graph's error documentation
 * (concepts/errors.md: code itemNotFound, "The resource could not be found.").
 */
export const signInNotFound = () => new GraphError(404, 'itemNotFound', 'The resource could not be found.');

interface SignInPage {
  /** Hour and position within that hour's bucket where the next page starts. */
  h: number;
  p: number;
  t: number;
  f?: string;
  s?: string[];
}

export function signInRoutes(sourceOf: (tenant: SimTenant) => SignInSource): GraphRoute[] {
  const handle = (ctx: GraphContext) => {
    const beta = ctx.version === 'beta';
    const state = pageState<SignInPage>(
      ctx,
      () => new GraphError(400, 'BadRequest', 'Skip token is null or has expired.'),
    );
    const filterText = state ? state.f : ctx.query.$filter;
    const filter = filterText === undefined ? undefined : parsedFilter(filterText);
    if (filter) checkFilter(filter, beta);
    if (!state && ctx.query.$orderby !== undefined && !/^createdDateTime( desc)?$/i.test(ctx.query.$orderby.trim()))
      throw invalidFilter();
    const select = state ? state.s : selectOf(ctx);
    const top = state ? state.t : topOf(ctx, 1000, 1000);

    const { tenant } = ctx;
    const source = sourceOf(tenant);
    const retentionStart = ctx.now - tenant.retentionDays * DAY;
    const bounds = timeBounds(filter, 'createdDateTime');
    if (bounds.from < retentionStart - RETENTION_GRACE && bounds.from !== -Infinity) throw invalidFilter();
    const from = Math.max(bounds.from, retentionStart, source.dataStart);
    const to = Math.min(bounds.to, ctx.now);
    const types = streamsFor(filter, beta);
    const test = residual(filter);
    const render = renderContext(ctx, source);

    // Each record is serialised as soon as it is made, so it dies young: a page of 1,000 never
    // holds 1,000 objects (peak memory and GC time both stay low).
    const page = new PageWriter({ '@odata.context': contextUrl(ctx, 'auditLogs/signIns') });
    let hour = state ? state.h : Math.floor(to / HOUR);
    let pos = state ? state.p : 0;
    let more = false;
    scan: for (; hour * HOUR + HOUR > from; hour--, pos = 0) {
      const bucket = source.hourBucket(hour, types);
      for (; pos < bucket.times.length; pos++) {
        const time = bucket.times[pos]!;
        if (time > to) continue;
        if (time < from) break scan;
        const spec = source.spec(hour, bucket.refs[pos]!, time);
        if (!visibleAt(spec, ctx.now)) continue;
        const record = renderSignIn(spec, render);
        if (test && !matches(test, record)) continue;
        if (page.records === top) {
          more = true; // one more exists: this is where the next page starts
          break scan;
        }
        page.add(projectSelect(record, select));
      }
    }
    const next = more
      ? {
          '@odata.nextLink': nextLink(
            ctx,
            {
              h: hour,
              p: pos,
              t: top,
              ...(filterText !== undefined ? { f: filterText } : {}),
              ...(select ? { s: select } : {}),
            },
            top,
          ),
        }
      : {};
    return { payload: page.finish(next), records: page.records };
  };

  // A record is found as the list would show it now: arrived, within retention, and (v1.0) an
  // interactive sign-in — v1.0 lists no others, so it finds no others either (chosen).
  const get = (ctx: GraphContext) => {
    const source = sourceOf(ctx.tenant);
    const s = source.byId((ctx.params.id ?? '').toLowerCase(), ctx.now);
    const retentionStart = ctx.now - ctx.tenant.retentionDays * DAY;
    if (
      !s ||
      s.time < retentionStart ||
      s.time > ctx.now ||
      !visibleAt(s, ctx.now) ||
      (ctx.version === 'v1.0' && s.type !== 'interactiveUser')
    )
      throw signInNotFound();
    return single(ctx, 'auditLogs/signIns', renderSignIn(s, renderContext(ctx, source)));
  };

  const common = {
    method: 'GET',
    accepts: ACCEPTS.auditLogs,
    deniedAs: 'auditLog',
    licence: 'p1',
    family: 'reports',
  } as const;
  return [
    { ...common, path: '/auditLogs/signIns', handle },
    { ...common, path: '/auditLogs/signIns/:id', handle: get },
  ];
}
