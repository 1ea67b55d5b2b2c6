// GET /auditLogs/directoryAudits: the directory audit log (data/audits.ts), newest first, read
// hour by hour backwards from the newest the filter allows, within the tenant's retention.
import { auditCountIn, auditEvent, auditTimeOf } from '../data/audits.js';
import { DAY, HOUR } from '../data/time.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import { GraphError, invalidFilter } from './errors.js';
import { checkedFilter, reportFilterError, type FilterSpec } from './filter-spec.js';
import { clauses, matches, timeBounds, type Clause } from './odata.js';
import { contextUrl, nextLink, pageState, projectSelect, selectOf, topOf, type GraphRoute } from './route.js';

type Json = Record<string, unknown>;

interface AuditPage {
  /** Hour, and event index within it (counting down) where the next page starts. */
  h: number;
  i: number;
  t: number;
  f?: string;
  s?: string[];
}

/** How far a filter may reach past the retention window before Graph rejects it (clock skew). */
const RETENTION_GRACE = 60_000;

export function auditRoute(state: SimState): GraphRoute {
  const start = state.start;
  // directoryaudit.md: activityDateTime (eq, ge, le), activityDisplayName (eq, startswith),
  // correlationId, id, loggedByService (eq), initiatedBy user/app ids and names (eq, and
  // startswith on userPrincipalName), targetResources id and displayName (any). category eq is
  // not in the table but is what audit collectors filter on (chosen: accepted).
  const spec: FilterSpec = {
    activityDateTime: { range: true },
    activityDisplayName: { eq: true, startsWith: true },
    category: { eq: true },
    correlationId: { eq: true },
    id: { eq: true },
    loggedByService: { eq: true },
    operationType: { eq: true },
    result: { eq: true },
    'initiatedBy/user/id': { eq: true },
    'initiatedBy/user/displayName': { eq: true },
    'initiatedBy/user/userPrincipalName': { eq: true, startsWith: true },
    'initiatedBy/app/appId': { eq: true },
    'initiatedBy/app/displayName': { eq: true },
  };
  /** targetResources/any(t: t/id eq '…'), with id and displayName (eq) and displayName (startswith). */
  const targetClause = (c: Clause): boolean => {
    if (c.kind !== 'any' || c.path !== 'targetResources') return false;
    if (!c.body) throw invalidFilter();
    for (const inner of clauses(c.body)) {
      const prop = inner.path.startsWith(`${c.variable}/`) ? inner.path.slice(c.variable.length + 1) : '';
      const ok =
        (prop === 'id' || prop === 'displayName') &&
        ((inner.kind === 'cmp' && inner.op === 'eq' && typeof inner.value === 'string') ||
          (inner.kind === 'fn' && inner.name === 'startswith' && prop === 'displayName'));
      if (!ok) throw invalidFilter();
    }
    return true;
  };
  return {
    method: 'GET',
    path: '/auditLogs/directoryAudits',
    accepts: ACCEPTS.auditLogs,
    deniedAs: 'auditLog',
    family: 'reports',
    handle: (ctx) => {
      const page = pageState<AuditPage>(
        ctx,
        () => new GraphError(400, 'BadRequest', 'Skip token is null or has expired.'),
      );
      const filterText = page ? page.f : ctx.query.$filter;
      const filter =
        filterText === undefined ? undefined : checkedFilter(filterText, spec, reportFilterError, targetClause);
      if (!page && ctx.query.$orderby !== undefined && !/^\s*activityDateTime(\s+desc)?\s*$/i.test(ctx.query.$orderby))
        throw invalidFilter();
      const select = page ? page.s : selectOf(ctx);
      const top = page ? page.t : topOf(ctx, 1000, 1000); // default and maximum assumed as signIns' (chosen)

      const { tenant } = ctx;
      const retentionStart = ctx.now - tenant.retentionDays * DAY;
      const bounds = timeBounds(filter, 'activityDateTime');
      if (bounds.from !== -Infinity && bounds.from < retentionStart - RETENTION_GRACE) throw invalidFilter();
      const from = Math.max(bounds.from, retentionStart, start - state.options.days * DAY);
      const to = Math.min(bounds.to, ctx.now);

      const value: Json[] = [];
      let hour = page ? page.h : Math.floor(to / HOUR);
      let i = page ? page.i : Number.MAX_SAFE_INTEGER;
      let more = false;
      scan: for (; hour * HOUR + HOUR > from; hour--, i = Number.MAX_SAFE_INTEGER) {
        const n = auditCountIn(tenant, hour);
        for (i = Math.min(i, n - 1); i >= 0; i--) {
          const time = auditTimeOf(tenant, hour, i, n);
          if (time > to) continue;
          if (time < from) break scan;
          const record = auditEvent(tenant, start, hour, i, time);
          if (filter && !matches(filter, record)) continue;
          if (value.length === top) {
            more = true;
            break scan;
          }
          value.push(projectSelect(record, select));
        }
      }
      const body: Json = { '@odata.context': contextUrl(ctx, 'auditLogs/directoryAudits', select) };
      if (more)
        body['@odata.nextLink'] = nextLink(
          ctx,
          {
            h: hour,
            i,
            t: top,
            ...(filterText !== undefined ? { f: filterText } : {}),
            ...(select ? { s: select } : {}),
          },
          top,
        );
      // Graph adds this tip to responses read without $select (Microsoft's example 2).
      if (!select)
        body['@microsoft.graph.tips'] =
          'Use $select to choose only the properties your app needs, as this can lead to performance improvements. ' +
          'For example: GET auditLogs/directoryAudits?$select=activityDateTime,activityDisplayName';
      body.value = value;
      return { body, records: value.length };
    },
  };
}
