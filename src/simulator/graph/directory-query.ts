// The query options of the directory's users and groups, with Graph's answers: $select by
// property name (any case), $filter checked per property against what the resource documents,
// advanced queries (ne, not, endsWith, eq null, $count, $search) only with
// `ConsistencyLevel: eventual` (reference/graph-facts.md §3.2), and the options they refuse.
import { GraphError, unsupportedQuery } from './errors.js';
import type { FilterNode } from './odata.js';
import type { GraphContext } from './route.js';

export const notImplemented = () =>
  new GraphError(501, 'NotImplemented', 'This operation target is not yet supported.');
export const noSuchProperty = (p: string, type: string) =>
  new GraphError(400, 'BadRequest', `Could not find a property named '${p}' on type 'microsoft.graph.${type}'.`);
// Microsoft's messages when an advanced query lacks the header (reference/graph-facts.md §3.2):
// endsWith as reported verbatim; `ne` as "NotEqualsMatch" (microsoft-graph-docs-contrib#9043);
// `not` by analogy with endsWith (no captured body found).
const advancedQueryOnly = (operator: string) =>
  unsupportedQuery(
    `Operator '${operator}' is not supported because the 'ConsistencyLevel:eventual' header is missing. ` +
      'Refer to https://aka.ms/graph-docs/advanced-queries for more information',
  );
const notEqualsUnsupported = () => unsupportedQuery("Filter operator 'NotEqualsMatch' is not supported.");
const unsupportedClause = (property: string, resource: string) =>
  unsupportedQuery(
    `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`,
  );
/** errors/graph-Request_BadRequest-count-not-supported.json */
export const countNeedsHeader = () => new GraphError(400, 'Request_BadRequest', '$count is not currently supported.');
/** errors/graph-Request_UnsupportedQuery-search-needs-consistencylevel.json */
export const searchNeedsHeader = () =>
  unsupportedQuery(
    "Request with $search query parameter only works through MSGraph with a special request header: 'ConsistencyLevel: eventual'",
  );

export const isEventual = (ctx: GraphContext): boolean =>
  String(ctx.headers.consistencylevel ?? '').toLowerCase() === 'eventual';

/** A query option by name, case-insensitively ($deltaToken and $deltatoken both appear in Microsoft's docs). */
export function option(ctx: GraphContext, name: string): string | undefined {
  for (const [k, v] of Object.entries(ctx.query)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** Options the directory's lists do not take. */
export function rejectListOptions(ctx: GraphContext): void {
  // as Graph words it (seen in captured responses); directory objects page by nextLink only
  if (option(ctx, '$skip') !== undefined)
    throw new GraphError(400, 'Request_BadRequest', "'$skip' is not supported by the service.");
  // Not simulated: Graph sorts users and groups by displayName/userPrincipalName; expands manager, members…
  if (option(ctx, '$orderby') !== undefined || option(ctx, '$expand') !== undefined) throw unsupportedQuery();
}

export function canonicalSelect(
  raw: string[] | undefined,
  byLower: Map<string, string>,
  type: string,
): string[] | undefined {
  if (!raw) return undefined;
  return raw.map((p) => {
    const name = byLower.get(p.toLowerCase());
    if (!name) throw noSuchProperty(p, type);
    return name;
  });
}

type Literal = 'string' | 'boolean' | 'date';
export interface FilterRule {
  ops: readonly string[];
  type: Literal;
  /** Also endsWith, as an advanced query. */
  endsWith?: boolean;
}

/** A string property that takes eq, in and startsWith. */
export const stringRule = (): FilterRule => ({ ops: ['eq', 'in', 'startswith'], type: 'string' });

const literalOk = (type: Literal, v: unknown, quotedDate: boolean): boolean =>
  type === 'date'
    ? v !== null && typeof v === 'object' && !quotedDate
    : type === 'boolean'
      ? typeof v === 'boolean'
      : typeof v === 'string';

/**
 * Checks a $filter against what the resource supports, with Graph's errors: advanced operators
 * without `ConsistencyLevel: eventual`, unsupported clauses, unknown properties.
 */
export function checkFilter(
  node: FilterNode,
  eventual: boolean,
  rules: Record<string, FilterRule>,
  resource: 'User' | 'Group',
  known: Map<string, string>,
): void {
  const unknown = (path: string) => {
    const head = path.split('/')[0]!;
    return known.has(head.toLowerCase())
      ? unsupportedClause(head, resource)
      : noSuchProperty(head, resource.toLowerCase());
  };
  const visit = (n: FilterNode): void => {
    if (n.kind === 'not') {
      if (!eventual) throw advancedQueryOnly('not');
      visit(n.operand);
    } else if (n.kind === 'any') {
      // groupTypes/any(c:c eq 'Unified') is the one lambda simulated
      const inner = n.body?.kind === 'cmp' ? n.body : undefined;
      if (
        resource === 'Group' &&
        n.path === 'groupTypes' &&
        inner &&
        inner.op === 'eq' &&
        inner.path === n.variable &&
        typeof inner.value === 'string'
      )
        return;
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
      if (!rule.ops.includes('in') || !n.values.every((v) => literalOk(rule.type, v, false)))
        throw unsupportedClause(n.path, resource);
      return;
    }
    if (n.op === 'ne') {
      if (!eventual) throw notEqualsUnsupported();
      if (!rule.ops.includes('eq')) throw unsupportedClause(n.path, resource);
    } else if (!rule.ops.includes(n.op)) throw unsupportedClause(n.path, resource);
    // `eq null` is an advanced query too
    if (n.value === null ? !eventual : !literalOk(rule.type, n.value, n.quotedDate))
      throw unsupportedClause(n.path, resource);
  };
  visit(node);
}
