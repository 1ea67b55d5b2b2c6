// GET /identity/conditionalAccess/policies: the tenant's Conditional Access policies
// (data/policies.ts, the plans sign-ins are evaluated against), P1 and up, on the identity
// protection throttle.
import { caPolicyPlans, type CaPolicyPlan } from '../data/policies.js';
import { RESOURCES } from '../data/catalog.js';
import { tenantCreated } from '../data/licences.js';
import { ROLES } from '../data/roles.js';
import { DAY, isoSeconds } from '../data/time.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import type { SimTenant } from '../tenants.js';
import { directoryFilterError, type FilterSpec } from './filter-spec.js';
import { listPage } from './list-page.js';
import type { GraphRoute } from './route.js';

export function policyRoute(state: SimState): GraphRoute {
  const start = state.start;
  const policySpec: FilterSpec = { id: { eq: true }, displayName: { eq: true, startsWith: true }, state: { eq: true } };
  return {
    method: 'GET',
    path: '/identity/conditionalAccess/policies',
    accepts: ACCEPTS.policies,
    licence: 'p1',
    family: 'identityProtection',
    handle: (ctx) => {
      const plans = caPolicyPlans(ctx.tenant);
      return listPage(ctx, {
        entitySet: 'identity/conditionalAccess/policies',
        count: plans.length,
        at: (i) => renderPolicy(plans[i]!, ctx.tenant, start, i),
        pageSize: 100,
        maxPageSize: 999,
        filterSpec: policySpec,
        filterError: directoryFilterError('ConditionalAccessPolicy'),
      });
    },
  };
}

/** A conditionalAccessPolicy in the shape of Microsoft's list example. */
function renderPolicy(plan: CaPolicyPlan, tenant: SimTenant, start: number, k: number): Record<string, unknown> {
  const created = tenantCreated(tenant, start) + (200 + k * 45) * DAY;
  const target = {
    admins: { users: ['None'], roles: [ROLES.globalAdmin.templateId], apps: ['All'], clientAppTypes: ['all'] },
    legacyAuth: { users: ['All'], roles: [], apps: ['All'], clientAppTypes: ['exchangeActiveSync', 'other'] },
    azureManagement: { users: ['All'], roles: [], apps: [RESOURCES.azureManagement.id], clientAppTypes: ['all'] },
  }[plan.target];
  return {
    id: plan.id,
    displayName: plan.displayName,
    createdDateTime: isoSeconds(created),
    modifiedDateTime: isoSeconds(created + 30 * DAY),
    state: plan.state,
    sessionControls: null,
    conditions: {
      signInRiskLevels: [],
      clientAppTypes: target.clientAppTypes,
      platforms: null,
      locations: null,
      applications: { includeApplications: target.apps, excludeApplications: [], includeUserActions: [] },
      // a role-targeted policy lists no users: includeUsers is empty, includeRoles names the role
      users: {
        includeUsers: target.roles.length > 0 ? [] : target.users,
        excludeUsers: [],
        includeGroups: [],
        excludeGroups: [],
        includeRoles: target.roles,
        excludeRoles: [],
      },
    },
    grantControls: { operator: 'OR', builtInControls: [plan.grant], customAuthenticationFactors: [], termsOfUse: [] },
  };
}
