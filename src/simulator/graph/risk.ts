// Identity Protection: GET /identityProtection/riskyUsers and /riskDetections (data/risk.ts), P2
// only, on the identity protection throttle (1 request a second per tenant).
import { renderRiskDetection, renderRiskyUser, riskDetections, riskyUsers } from '../data/risk.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import { reportFilterError, type FilterSpec } from './filter-spec.js';
import { listPage } from './list-page.js';
import type { GraphContext, GraphRoute } from './route.js';

/**
 * Microsoft's v1.0 examples (riskyuser-list, riskdetection-list) annotate every item with its
 * @odata.type; the beta examples (riskyusers-list, riskdetection-list) do not.
 */
const typed = (ctx: GraphContext, type: string, record: Record<string, unknown>): Record<string, unknown> =>
  ctx.version === 'v1.0' ? { '@odata.type': `#microsoft.graph.${type}`, ...record } : record;

export function riskRoutes(state: SimState): GraphRoute[] {
  const start = state.start;
  const riskyUserSpec: FilterSpec = {
    id: { eq: true },
    riskLevel: { eq: true },
    riskState: { eq: true },
    riskDetail: { eq: true },
    isDeleted: { eq: true },
    isProcessing: { eq: true },
    userDisplayName: { eq: true, startsWith: true },
    userPrincipalName: { eq: true, startsWith: true },
    riskLastUpdatedDateTime: { range: true },
  };
  const detectionSpec: FilterSpec = {
    id: { eq: true },
    requestId: { eq: true },
    correlationId: { eq: true },
    riskEventType: { eq: true },
    riskLevel: { eq: true },
    riskState: { eq: true },
    riskDetail: { eq: true },
    source: { eq: true },
    detectionTimingType: { eq: true },
    activity: { eq: true },
    ipAddress: { eq: true },
    userId: { eq: true },
    userDisplayName: { eq: true },
    userPrincipalName: { eq: true, startsWith: true },
    activityDateTime: { range: true },
    detectedDateTime: { range: true },
    lastUpdatedDateTime: { range: true },
  };
  return [
    {
      method: 'GET',
      path: '/identityProtection/riskyUsers',
      accepts: ACCEPTS.riskyUsers,
      // "Using the riskyUsers API requires a Microsoft Entra ID P2 license" (riskyuser.md)
      licence: 'p2',
      family: 'identityProtection',
      handle: (ctx) => {
        const users = riskyUsers(ctx.tenant, start, state.incidents(ctx.tenant), state.incidentSignIns(ctx.tenant));
        // Page size not documented for riskyUsers: riskDetections' 20 (max 500) is used (chosen).
        return listPage(ctx, {
          entitySet: 'identityProtection/riskyUsers',
          count: users.length,
          at: (i) => typed(ctx, 'riskyUser', renderRiskyUser(users[i]!)),
          pageSize: 20,
          maxPageSize: 500,
          filterSpec: riskyUserSpec,
          filterError: reportFilterError,
        });
      },
    },
    {
      method: 'GET',
      path: '/identityProtection/riskDetections',
      accepts: ACCEPTS.riskDetections,
      // riskdetection-list.md says P1 or P2, the Entra licence table says P1 gets limited
      // information only: the simulator serves risk data to P2 tenants alone (chosen).
      licence: 'p2',
      family: 'identityProtection',
      handle: (ctx) => {
        const detections = riskDetections(ctx.tenant, start, state.incidentSignIns(ctx.tenant));
        // "The default page size is 20 objects while the maximum with $top is 500."
        return listPage(ctx, {
          entitySet: 'identityProtection/riskDetections',
          count: detections.length,
          at: (i) => typed(ctx, 'riskDetection', renderRiskDetection(detections[i]!)),
          pageSize: 20,
          maxPageSize: 500,
          filterSpec: detectionSpec,
          filterError: reportFilterError,
        });
      },
    },
  ];
}
