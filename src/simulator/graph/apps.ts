// GET /applications, /applications/{id} and /servicePrincipals: the tenant's app registrations
// with their secrets and certificates (data/apps.ts), directory-throttled at Graph's resource-unit
// costs.
import { applications, renderApplication, renderServicePrincipal, servicePrincipals } from '../data/apps.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import { notFound } from './errors.js';
import { directoryFilterError, type FilterSpec } from './filter-spec.js';
import { listPage, single } from './list-page.js';
import type { GraphRoute } from './route.js';

export function applicationRoutes(state: SimState): GraphRoute[] {
  const start = state.start;
  const appFilters: FilterSpec = {
    id: { eq: true, in: true },
    appId: { eq: true, in: true, startsWith: true },
    displayName: { eq: true, in: true, startsWith: true },
  };
  const spFilters: FilterSpec = {
    ...appFilters,
    servicePrincipalType: { eq: true },
    appOwnerOrganizationId: { eq: true },
  };
  return [
    {
      method: 'GET',
      path: '/applications',
      accepts: ACCEPTS.applications,
      family: 'directory',
      cost: 2,
      handle: (ctx) => {
        const apps = applications(ctx.tenant, start);
        return listPage(ctx, {
          entitySet: 'applications',
          count: apps.length,
          at: (i) => renderApplication(apps[i]!, ctx.tenant),
          pageSize: 100,
          maxPageSize: 999,
          filterSpec: appFilters,
          filterError: directoryFilterError('Application'),
        });
      },
    },
    {
      method: 'GET',
      path: '/applications/:id',
      accepts: ACCEPTS.applications,
      family: 'directory',
      cost: 2,
      handle: (ctx) => {
        const id = ctx.params.id!;
        const app = applications(ctx.tenant, start).find((a) => a.id === id.toLowerCase());
        if (!app) throw notFound(id);
        return single(ctx, 'applications', renderApplication(app, ctx.tenant));
      },
    },
    {
      method: 'GET',
      path: '/servicePrincipals',
      accepts: ACCEPTS.applications,
      family: 'directory',
      cost: 1,
      handle: (ctx) => {
        const sps = servicePrincipals(ctx.tenant, start);
        return listPage(ctx, {
          entitySet: 'servicePrincipals',
          count: sps.length,
          at: (i) => renderServicePrincipal(sps[i]!),
          pageSize: 100,
          maxPageSize: 999,
          filterSpec: spFilters,
          filterError: directoryFilterError('ServicePrincipal'),
        });
      },
    },
  ];
}
