// $filter checking for the posture and report resources: each resource lists, per property, the
// operators it supports (its documentation's table), and anything else is refused with that
// service's own 400.
import { GraphError, invalidFilter } from './errors.js';
import { clauses, type Clause, type FilterNode } from './odata.js';
import { parsedFilter } from './route.js';

/** What a property supports in $filter, as each resource's documentation lists it. */
interface Supports {
  eq?: boolean;
  startsWith?: boolean;
  in?: boolean;
  /** ge, le, gt, lt on an unquoted timestamp. */
  range?: boolean;
  /** `prop/any(x: x eq 'v')` over a string collection. */
  any?: boolean;
}
export type FilterSpec = Record<string, Supports>;

/**
 * Graph also accepts enum literals written `microsoft.graph.riskLevel'high'`; they mean the
 * same as the plain string, so they are read as one.
 */
const plainEnums = (text: string): string => text.replace(/\bmicrosoft\.graph\.[A-Za-z]+'/g, "'");

/**
 * Parses and checks a $filter against what the resource supports; `reject` names the offending
 * property. `custom` accepts clauses the route checks itself (lambdas over complex collections).
 */
export function checkedFilter(
  text: string,
  spec: FilterSpec,
  reject: (property: string) => GraphError,
  custom?: (c: Clause) => boolean,
): FilterNode {
  const filter = parsedFilter(plainEnums(text), () => reject(''));
  for (const c of clauses(filter)) {
    if (custom?.(c)) continue;
    const s = spec[c.path];
    if (!s) throw reject(c.path);
    if (c.kind === 'cmp') {
      const date = c.value !== null && typeof c.value === 'object';
      // timestamps are unquoted ISO 8601 literals; a quoted one is a string and is refused
      if (s.range) {
        if (date && c.op !== 'ne') continue;
      } else if (c.op === 'eq' && s.eq && !date) {
        continue;
      }
      throw reject(c.path);
    }
    if (c.kind === 'fn' && c.name === 'startswith' && s.startsWith) continue;
    if (c.kind === 'in' && s.in) continue;
    if (c.kind === 'any' && s.any && c.body) {
      for (const inner of clauses(c.body)) {
        if (inner.kind !== 'cmp' || inner.op !== 'eq' || inner.path !== c.variable || typeof inner.value !== 'string')
          throw reject(c.path);
      }
      continue;
    }
    throw reject(c.path);
  }
  return filter;
}

/** Directory resources answer an unsupported filter with Request_UnsupportedQuery naming the property. */
export const directoryFilterError = (resource: string) => (property: string) =>
  property
    ? new GraphError(
        400,
        'Request_UnsupportedQuery',
        `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`,
      )
    : new GraphError(400, 'Request_UnsupportedQuery', 'Invalid filter clause: Syntax error.');

/**
 * The report and Identity Protection services answer with BadRequest "Invalid filter clause",
 * as signIns does (reference/graph-facts.md §7); their exact text for other filters is not
 * documented, so the sign-in one is used.
 */
export const reportFilterError = () => invalidFilter();
