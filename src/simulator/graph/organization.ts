// GET /subscribedSkus and /organization: the tenant's licences and its organization resource
// (data/licences.ts).
import { renderOrganization, renderSubscribedSkus } from '../data/licences.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import { listPage } from './list-page.js';
import type { GraphRoute } from './route.js';

export function organizationRoutes(state: SimState): GraphRoute[] {
  const start = state.start;
  return [
    {
      method: 'GET',
      path: '/subscribedSkus',
      accepts: ACCEPTS.organization,
      family: 'directory',
      cost: 3,
      handle: (ctx) => {
        const skus = renderSubscribedSkus(ctx.tenant, start);
        // "This method supports only the $select OData query parameter … It does not support $filter."
        return listPage(ctx, {
          entitySet: 'subscribedSkus',
          count: skus.length,
          at: (i) => skus[i],
          pageSize: 1000,
          maxPageSize: 1000,
        });
      },
    },
    {
      method: 'GET',
      path: '/organization',
      accepts: ACCEPTS.organization,
      family: 'directory',
      handle: (ctx) =>
        listPage(ctx, {
          entitySet: 'organization',
          count: 1,
          at: () => renderOrganization(ctx.tenant, start),
          pageSize: 1000,
          maxPageSize: 1000,
        }),
    },
  ];
}
