// Paging for collections the simulator knows by index (apps, the registration report, risk,
// roles, devices, licences): the page's position, $top, $select and $filter ride in a signed
// $skiptoken, so a nextLink is all a client needs for the next page.
import { unsupportedQuery, type GraphError } from './errors.js';
import { checkedFilter, directoryFilterError, type FilterSpec } from './filter-spec.js';
import { matches, type FilterNode } from './odata.js';
import {
  contextUrl,
  expiredPageToken,
  nextLink,
  pageState,
  projectSelect,
  selectOf,
  topOf,
  type GraphContext,
  type GraphResult,
} from './route.js';

type Json = Record<string, unknown>;

interface ListPage {
  /** Index of the next item. */
  o: number;
  t: number;
  f?: string;
  s?: string[];
  /** Route-specific options carried to the next page ($orderby, $expand); the codec owns `x`. */
  r?: string;
}

interface ListOptions {
  entitySet: string;
  count: number;
  /** The rendered item at an index, or undefined when there is none. */
  at(index: number): Json | undefined;
  pageSize: number;
  maxPageSize: number;
  filterSpec?: FilterSpec;
  filterError?: (property: string) => GraphError;
  /** Answer when $filter is not supported at all. */
  noFilter?: () => GraphError;
  /** An option the route resolved from the first request, replayed from the token on later pages. */
  extra?: string;
  /** Context URL suffix the option implies, e.g. "(principal())". */
  contextSuffix?: string;
  /** Annotations placed before value (e.g. @microsoft.graph.tips). */
  annotations?: Json;
}

/**
 * A page of a collection known by index, filtered on the rendered records. The page looks one
 * match ahead so that the last page never carries a nextLink to an empty page.
 */
export function listPage(ctx: GraphContext, opts: ListOptions): GraphResult {
  const state = pageState<ListPage>(ctx, expiredPageToken);
  const filterText = state ? state.f : ctx.query.$filter;
  let filter: FilterNode | undefined;
  if (filterText !== undefined) {
    if (!opts.filterSpec) throw (opts.noFilter ?? (() => unsupportedQuery()))();
    filter = checkedFilter(filterText, opts.filterSpec, opts.filterError ?? directoryFilterError('Object'));
  }
  const select = state ? state.s : selectOf(ctx);
  const top = state ? state.t : topOf(ctx, opts.pageSize, opts.maxPageSize);
  const value: Json[] = [];
  let offset = state?.o ?? 0;
  let next: number | undefined;
  for (; offset < opts.count; offset++) {
    const item = opts.at(offset);
    if (!item || (filter && !matches(filter, item))) continue;
    if (value.length === top) {
      next = offset;
      break;
    }
    value.push(projectSelect(item, select));
  }
  const body: Json = { '@odata.context': contextUrl(ctx, opts.entitySet, select) + (opts.contextSuffix ?? '') };
  if (next !== undefined) {
    const page: ListPage = {
      o: next,
      t: top,
      ...(filterText !== undefined ? { f: filterText } : {}),
      ...(select ? { s: select } : {}),
      ...(opts.extra !== undefined ? { r: opts.extra } : {}),
    };
    body['@odata.nextLink'] = nextLink(ctx, page);
  }
  Object.assign(body, opts.annotations);
  body.value = value;
  return { body, records: value.length };
}

/** The route option a next page carries (its $orderby or $expand), or the request's own. */
export const carried = (ctx: GraphContext, name: string): string | undefined =>
  ctx.query.$skiptoken !== undefined ? pageState<ListPage>(ctx, expiredPageToken)?.r : ctx.query[name];

/** One entity of a collection, $select applied; its context ends in /$entity. */
export const single = (ctx: GraphContext, entitySet: string, record: Json): GraphResult => {
  const select = selectOf(ctx);
  return {
    body: { '@odata.context': `${contextUrl(ctx, entitySet, select)}/$entity`, ...projectSelect(record, select) },
    records: 1,
  };
};
