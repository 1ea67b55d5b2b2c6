// GET /reports/authenticationMethods/userRegistrationDetails (and /{id}): the MFA registration
// report over the run-time directory — users deleted are gone from it, users added are in it with
// their password only — each record consistent with the user's current authentication methods.
import { currentMethods } from '../data/auth-methods.js';
import type { Directory, DirUser } from '../data/directory.js';
import { personAt } from '../data/people.js';
import { renderRegistration } from '../data/registration.js';
import { isAdmin } from '../data/roles.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import type { SimTenant } from '../tenants.js';
import { GraphError, notFound } from './errors.js';
import { reportFilterError, type FilterSpec } from './filter-spec.js';
import { carried, listPage, single } from './list-page.js';
import { liveDirectory } from './live-directory.js';
import type { GraphRoute } from './route.js';

type OrderKey = 'userPrincipalName' | 'userDisplayName';

/** Generated users ordered by a property, built once per tenant and key. */
const baseOrders = new WeakMap<SimTenant, Map<OrderKey, Int32Array>>();
function baseOrder(tenant: SimTenant, start: number, key: OrderKey): Int32Array {
  let byKey = baseOrders.get(tenant);
  if (!byKey) baseOrders.set(tenant, (byKey = new Map()));
  let order = byKey.get(key);
  if (!order) {
    const values = Array.from({ length: tenant.userCount }, (_, i) => {
      const p = personAt(tenant, i, start);
      return (key === 'userPrincipalName' ? p.userPrincipalName : p.displayName).toLowerCase();
    });
    order = Int32Array.from(values.keys()).sort((a, b) =>
      values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : a - b,
    );
    byKey.set(key, order);
  }
  return order;
}

/**
 * Every user of the directory ordered by a property now: the generated order, with the users
 * added or renamed at run time moved to where their current value sorts. Rebuilt after a change.
 */
const currentOrders = new WeakMap<Directory, Map<OrderKey, { seq: number; order: Int32Array }>>();
function orderedIndexes(dir: Directory, key: OrderKey): Int32Array {
  let byKey = currentOrders.get(dir);
  if (!byKey) currentOrders.set(dir, (byKey = new Map()));
  const cached = byKey.get(key);
  if (cached?.seq === dir.seq) return cached.order;
  const base = baseOrder(dir.tenant, dir.start, key);
  const valueOf = (p: { userPrincipalName: string; displayName: string }) =>
    (key === 'userPrincipalName' ? p.userPrincipalName : p.displayName).toLowerCase();
  const generated = (i: number) => valueOf(dir.userAt(i)!.person);
  const moved = dir
    .runtimeUsers()
    .map((u: DirUser) => ({ index: u.index, value: valueOf(dir.personOf(u)), added: u.added }))
    .filter((m) => m.added || m.value !== generated(m.index));
  let order = base;
  if (moved.length > 0) {
    // Where each moved user goes: the number of generated entries sorting before it (by value, then index).
    const placed = moved
      .map((m) => {
        let lo = 0;
        let hi = base.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          const v = generated(base[mid]!);
          if (v < m.value || (v === m.value && base[mid]! < m.index)) lo = mid + 1;
          else hi = mid;
        }
        return { ...m, at: lo };
      })
      .sort((a, b) => a.at - b.at || (a.value < b.value ? -1 : a.value > b.value ? 1 : a.index - b.index));
    const movedIndexes = new Set(moved.map((m) => m.index));
    order = new Int32Array(dir.userCount);
    let n = 0;
    let k = 0;
    for (let b = 0; b <= base.length; b++) {
      while (k < placed.length && placed[k]!.at === b) order[n++] = placed[k++]!.index;
      if (b < base.length && !movedIndexes.has(base[b]!)) order[n++] = base[b]!;
    }
  }
  byKey.set(key, { seq: dir.seq, order });
  return order;
}

export function registrationRoutes(state: SimState): GraphRoute[] {
  const start = state.start;
  // Supports per the userRegistrationDetails resource page; isAdmin and userType are not listed
  // there but are what posture scripts filter on, so they are accepted too (chosen).
  const spec: FilterSpec = {
    isAdmin: { eq: true },
    userType: { eq: true },
    isMfaCapable: { eq: true },
    isMfaRegistered: { eq: true },
    isPasswordlessCapable: { eq: true },
    isSsprCapable: { eq: true },
    isSsprEnabled: { eq: true },
    isSsprRegistered: { eq: true },
    isSystemPreferredAuthenticationMethodEnabled: { eq: true },
    methodsRegistered: { any: true },
    systemPreferredAuthenticationMethods: { any: true },
    userPreferredMethodForSecondaryAuthentication: { eq: true },
    userDisplayName: { eq: true, startsWith: true },
    userPrincipalName: { eq: true, startsWith: true },
  };
  /** The user's record, or undefined once deleted: deleted users leave the report. */
  const render = (dir: Directory, u: DirUser | undefined) =>
    u && !u.deleted
      ? renderRegistration(
          dir.tenant,
          dir.personOf(u),
          currentMethods(dir.tenant, u, start, state.posture),
          isAdmin(dir.tenant, u.person, start),
        )
      : undefined;
  return [
    {
      method: 'GET',
      path: '/reports/authenticationMethods/userRegistrationDetails',
      accepts: ACCEPTS.registrationDetails,
      licence: 'p1',
      family: 'reports',
      handle: (ctx) => {
        const dir = liveDirectory(state, ctx);
        const orderby = carried(ctx, '$orderby');
        let order: Int32Array | undefined;
        let descending = false;
        if (orderby !== undefined) {
          const m = /^\s*(userPrincipalName|userDisplayName)(\s+(asc|desc))?\s*$/i.exec(orderby);
          if (!m) throw new GraphError(400, 'BadRequest', `Invalid OrderBy clause: '${orderby}'`); // only the two documented
          order = orderedIndexes(
            dir,
            m[1]!.toLowerCase() === 'userprincipalname' ? 'userPrincipalName' : 'userDisplayName',
          );
          descending = m[3]?.toLowerCase() === 'desc';
        }
        const indexAt = (i: number) => (order ? order[descending ? order.length - 1 - i : i]! : i);
        return listPage(ctx, {
          entitySet: 'reports/authenticationMethods/userRegistrationDetails',
          count: order ? order.length : dir.userCount,
          at: (i) => render(dir, dir.scanUserAt(indexAt(i))),
          // The page size is not documented; sign-ins' 1,000 is used (chosen).
          pageSize: 1000,
          maxPageSize: 1000,
          filterSpec: spec,
          filterError: reportFilterError,
          ...(orderby !== undefined ? { extra: orderby } : {}),
        });
      },
    },
    {
      method: 'GET',
      path: '/reports/authenticationMethods/userRegistrationDetails/:id',
      accepts: ACCEPTS.registrationDetails,
      licence: 'p1',
      family: 'reports',
      handle: (ctx) => {
        const id = ctx.params.id!;
        const dir = liveDirectory(state, ctx);
        // keyed by the user's object id only (not the userPrincipalName, as /users/{id} takes)
        const record = render(dir, dir.userById(id));
        if (!record) throw notFound(id);
        return single(ctx, 'reports/authenticationMethods/userRegistrationDetails', record);
      },
    },
  ];
}
