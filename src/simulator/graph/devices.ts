// GET /deviceManagement/managedDevices: Intune's devices (data/devices.ts), for tenants with an
// Intune licence; others get Intune's own refusal.
import { managedDevice } from '../data/devices.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../state.js';
import { GraphError, newRequestId } from './errors.js';
import { reportFilterError, type FilterSpec } from './filter-spec.js';
import { listPage } from './list-page.js';
import type { GraphRoute } from './route.js';

/**
 * Microsoft documents only that listing managed devices "requires an active Intune license for
 * the tenant", not the error without one. Intune's front end answers refusals with this body
 * (an UnknownError wrapping its own JSON; AzureAD/microsoft-authentication-library-for-js#7007,
 * microsoft-graph-explorer-v4#706): used with 403 (chosen).
 */
function intuneForbidden(activityId: string = newRequestId()): GraphError {
  const inner = {
    _version: 3,
    Message:
      'An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - ' +
      `Activity ID: ${activityId} - Url: https://fef.msub02.manage.microsoft.com/DeviceFE/StatelessDeviceFEService/` +
      'deviceManagement/managedDevices?api-version=2023-07-04',
    CustomApiErrorPhrase: '',
    RetryAfter: null,
    ErrorSourceService: '',
    HttpHeaders: '{}',
  };
  const message = JSON.stringify({
    ErrorCode: 'Forbidden',
    Message: JSON.stringify(inner, null, 2).replace(/\n/g, '\r\n'),
    Target: null,
    Details: null,
    InnerError: null,
    InstanceAnnotations: [],
  });
  return new GraphError(403, 'UnknownError', message);
}

export function deviceRoute(state: SimState): GraphRoute {
  const start = state.start;
  const spec: FilterSpec = {
    id: { eq: true },
    userId: { eq: true },
    userPrincipalName: { eq: true },
    deviceName: { eq: true, startsWith: true },
    operatingSystem: { eq: true },
    complianceState: { eq: true },
    managedDeviceOwnerType: { eq: true },
    azureADDeviceId: { eq: true },
    lastSyncDateTime: { range: true },
  };
  return {
    method: 'GET',
    path: '/deviceManagement/managedDevices',
    accepts: ACCEPTS.managedDevices,
    family: 'none',
    gate: (ctx) => {
      if (!ctx.tenant.intune) throw intuneForbidden();
    },
    handle: (ctx) =>
      listPage(ctx, {
        entitySet: 'deviceManagement/managedDevices',
        count: ctx.tenant.userCount * 2,
        at: (i) => managedDevice(ctx.tenant, i >> 1, (i & 1) as 0 | 1, start),
        // Intune's page size is not documented here: 1,000 (chosen).
        pageSize: 1000,
        maxPageSize: 1000,
        filterSpec: spec,
        filterError: reportFilterError,
      }),
  };
}
