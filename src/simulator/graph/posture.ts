// Graph's posture and report resources: app registrations and service principals, the MFA
// registration report, Identity Protection, conditional access, directory roles, Intune
// devices, licences, the organization and the directory audit log — each with the paging,
// $filter support, permissions, licence and throttling Microsoft documents for it.
import {
  applications,
  auditCountIn,
  auditEvent,
  auditTimeOf,
  currentMethods,
  directoryRoles,
  isAdmin,
  isoSeconds,
  managedDevice,
  renderApplication,
  renderOrganization,
  renderRegistration,
  renderRiskDetection,
  renderRiskyUser,
  renderServicePrincipal,
  renderSubscribedSkus,
  riskDetections,
  riskyUsers,
  roleAssignmentId,
  ROLES,
  servicePrincipals,
  tenantCreated,
  tenantFacts,
  type RoleKey,
} from '../data/posture.js';
import { personAt, type Person } from '../data/people.js';
import { caPolicyPlans, type CaPolicyPlan } from '../data/policies.js';
import { HOUR } from '../data/signins.js';
import { RESOURCES } from '../data/catalog.js';
import { ACCEPTS } from '../permissions.js';
import type { SimState } from '../server.js';
import type { SimTenant } from '../tenants.js';
import { GraphError, invalidFilter, newRequestId, notFound, unsupportedQuery } from './errors.js';
import { clauses, FilterSyntaxError, matches, parseFilter, timeBounds, type Clause, type FilterNode } from './odata.js';
import { contextUrl, expiredPageToken, nextLink, pageState, projectSelect, selectOf, topOf, type GraphContext, type GraphResult, type GraphRoute } from './route.js';

const DAY = 24 * HOUR;
type Json = Record<string, unknown>;

// ------------------------------------------------------------------ $filter support

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
type FilterSpec = Record<string, Supports>;

/**
 * Graph also accepts enum literals written `microsoft.graph.riskLevel'high'`; they mean the
 * same as the plain string, so they are read as one.
 */
const plainEnums = (text: string): string => text.replace(/\bmicrosoft\.graph\.[A-Za-z]+'/g, "'");

/**
 * Parses and checks a $filter against what the resource supports; `reject` names the offending
 * property. `custom` accepts clauses the route checks itself (lambdas over complex collections).
 */
function checkedFilter(text: string, spec: FilterSpec, reject: (property: string) => GraphError, custom?: (c: Clause) => boolean): FilterNode {
  let filter: FilterNode;
  try {
    filter = parseFilter(plainEnums(text));
  } catch (err) {
    if (err instanceof FilterSyntaxError) throw reject('');
    throw err;
  }
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
        if (inner.kind !== 'cmp' || inner.op !== 'eq' || inner.path !== c.variable || typeof inner.value !== 'string') throw reject(c.path);
      }
      continue;
    }
    throw reject(c.path);
  }
  return filter;
}

/** Directory resources answer an unsupported filter with Request_UnsupportedQuery naming the property. */
const directoryFilterError = (resource: string) => (property: string) =>
  property
    ? new GraphError(400, 'Request_UnsupportedQuery', `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`)
    : new GraphError(400, 'Request_UnsupportedQuery', 'Invalid filter clause: Syntax error.');

/**
 * The report and Identity Protection services answer with BadRequest "Invalid filter clause",
 * as signIns does (reference/graph-facts.md §7); their exact text for other filters is not
 * documented, so the sign-in one is used.
 */
const reportFilterError = () => invalidFilter();

// ------------------------------------------------------------------ paging by index

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
function listPage(ctx: GraphContext, opts: ListOptions): GraphResult {
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
    const page: ListPage = { o: next, t: top, ...(filterText !== undefined ? { f: filterText } : {}), ...(select ? { s: select } : {}), ...(opts.extra !== undefined ? { r: opts.extra } : {}) };
    body['@odata.nextLink'] = nextLink(ctx, page);
  }
  Object.assign(body, opts.annotations);
  body.value = value;
  return { body, records: value.length };
}

/** The route option a next page carries (its $orderby or $expand), or the request's own. */
const carried = (ctx: GraphContext, name: string): string | undefined => (ctx.query.$skiptoken !== undefined ? pageState<ListPage>(ctx, expiredPageToken)?.r : ctx.query[name]);

const single = (ctx: GraphContext, entitySet: string, record: Json): GraphResult => {
  const select = selectOf(ctx);
  return { body: { '@odata.context': `${contextUrl(ctx, entitySet, select)}/$entity`, ...projectSelect(record, select) }, records: 1 };
};

// ------------------------------------------------------------------ routes

export function postureRoutes(state: SimState): GraphRoute[] {
  const start = state.start;
  const person = (tenant: SimTenant, index: number) => personAt(tenant, index, start);
  return [
    ...applicationRoutes(start),
    ...registrationRoutes(state),
    ...identityProtectionRoutes(state),
    ...roleRoutes(start, person),
    deviceRoute(start),
    ...tenantRoutes(start),
    auditRoute(state),
  ];
}

function applicationRoutes(start: number): GraphRoute[] {
  const appFilters: FilterSpec = { id: { eq: true, in: true }, appId: { eq: true, in: true, startsWith: true }, displayName: { eq: true, in: true, startsWith: true } };
  const spFilters: FilterSpec = { ...appFilters, servicePrincipalType: { eq: true }, appOwnerOrganizationId: { eq: true } };
  return [
    {
      method: 'GET',
      path: '/applications',
      accepts: ACCEPTS.applications,
      family: 'directory',
      cost: 2,
      handle: (ctx) => {
        const apps = applications(ctx.tenant, start);
        return listPage(ctx, { entitySet: 'applications', count: apps.length, at: (i) => renderApplication(apps[i]!, ctx.tenant), pageSize: 100, maxPageSize: 999, filterSpec: appFilters, filterError: directoryFilterError('Application') });
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
        return listPage(ctx, { entitySet: 'servicePrincipals', count: sps.length, at: (i) => renderServicePrincipal(sps[i]!), pageSize: 100, maxPageSize: 999, filterSpec: spFilters, filterError: directoryFilterError('ServicePrincipal') });
      },
    },
  ];
}

// ---- MFA registration report

/** Users ordered by a property, built once per tenant and order ($orderby on the report). */
const orderCache = new WeakMap<SimTenant, Map<string, Int32Array>>();
function orderedIndexes(tenant: SimTenant, start: number, key: 'userPrincipalName' | 'userDisplayName'): Int32Array {
  let byKey = orderCache.get(tenant);
  if (!byKey) orderCache.set(tenant, (byKey = new Map()));
  let order = byKey.get(key);
  if (!order) {
    const values = Array.from({ length: tenant.userCount }, (_, i) => {
      const p = personAt(tenant, i, start);
      return (key === 'userPrincipalName' ? p.userPrincipalName : p.displayName).toLowerCase();
    });
    order = Int32Array.from(values.keys()).sort((a, b) => (values[a]! < values[b]! ? -1 : values[a]! > values[b]! ? 1 : a - b));
    byKey.set(key, order);
  }
  return order;
}

function registrationRoutes(state: SimState): GraphRoute[] {
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
  const render = (tenant: SimTenant, p: Person) => renderRegistration(tenant, p, currentMethods(tenant, p, start, state.posture), isAdmin(tenant, p, start));
  return [
    {
      method: 'GET',
      path: '/reports/authenticationMethods/userRegistrationDetails',
      accepts: ACCEPTS.registrationDetails,
      licence: 'p1',
      family: 'reports',
      handle: (ctx) => {
        const { tenant } = ctx;
        const orderby = carried(ctx, '$orderby');
        let order: Int32Array | undefined;
        let descending = false;
        if (orderby !== undefined) {
          const m = /^\s*(userPrincipalName|userDisplayName)(\s+(asc|desc))?\s*$/i.exec(orderby);
          if (!m) throw new GraphError(400, 'BadRequest', `Invalid OrderBy clause: '${orderby}'`); // only the two documented
          order = orderedIndexes(tenant, start, m[1]!.toLowerCase() === 'userprincipalname' ? 'userPrincipalName' : 'userDisplayName');
          descending = m[3]?.toLowerCase() === 'desc';
        }
        const indexAt = (i: number) => (order ? order[descending ? order.length - 1 - i : i]! : i);
        return listPage(ctx, {
          entitySet: 'reports/authenticationMethods/userRegistrationDetails',
          count: tenant.userCount,
          at: (i) => render(tenant, personAt(tenant, indexAt(i), start)),
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
        const index = tenantFacts(ctx.tenant, start).byId.get(id.toLowerCase());
        if (index === undefined) throw notFound(id);
        return single(ctx, 'reports/authenticationMethods/userRegistrationDetails', render(ctx.tenant, personAt(ctx.tenant, index, start)));
      },
    },
  ];
}

// ---- Identity Protection and conditional access

function identityProtectionRoutes(state: SimState): GraphRoute[] {
  const start = state.start;
  const days = state.options.days;
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
  const policySpec: FilterSpec = { id: { eq: true }, displayName: { eq: true, startsWith: true }, state: { eq: true } };
  return [
    {
      method: 'GET',
      path: '/identityProtection/riskyUsers',
      accepts: ACCEPTS.riskyUsers,
      // "Using the riskyUsers API requires a Microsoft Entra ID P2 license" (riskyuser.md)
      licence: 'p2',
      family: 'identityProtection',
      handle: (ctx) => {
        const users = riskyUsers(ctx.tenant, start, days);
        // Page size not documented for riskyUsers: riskDetections' 20 (max 500) is used (chosen).
        return listPage(ctx, { entitySet: 'identityProtection/riskyUsers', count: users.length, at: (i) => renderRiskyUser(users[i]!), pageSize: 20, maxPageSize: 500, filterSpec: riskyUserSpec, filterError: reportFilterError });
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
        const detections = riskDetections(ctx.tenant, start, days);
        // "The default page size is 20 objects while the maximum with $top is 500."
        return listPage(ctx, { entitySet: 'identityProtection/riskDetections', count: detections.length, at: (i) => renderRiskDetection(detections[i]!), pageSize: 20, maxPageSize: 500, filterSpec: detectionSpec, filterError: reportFilterError });
      },
    },
    {
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
    },
  ];
}

/** A conditionalAccessPolicy in the shape of Microsoft's list example. */
function renderPolicy(plan: CaPolicyPlan, tenant: SimTenant, start: number, k: number): Json {
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
      users: { includeUsers: target.roles.length > 0 ? [] : target.users, excludeUsers: [], includeGroups: [], excludeGroups: [], includeRoles: target.roles, excludeRoles: [] },
    },
    grantControls: { operator: 'OR', builtInControls: [plan.grant], customAuthenticationFactors: [], termsOfUse: [] },
  };
}

// ---- roles

function roleRoutes(start: number, person: (tenant: SimTenant, index: number) => Person): GraphRoute[] {
  const definitionSpec: FilterSpec = { id: { eq: true }, templateId: { eq: true }, displayName: { eq: true, startsWith: true }, isBuiltIn: { eq: true } };
  const assignmentSpec: FilterSpec = { id: { eq: true }, roleDefinitionId: { eq: true, in: true }, principalId: { eq: true, in: true }, directoryScopeId: { eq: true } };
  const directoryRoleSpec: FilterSpec = { id: { eq: true }, roleTemplateId: { eq: true }, displayName: { eq: true } };
  const keys = Object.keys(ROLES) as RoleKey[];
  const userRef = (p: Person): Json => ({ '@odata.type': '#microsoft.graph.user', id: p.id, accountEnabled: p.accountEnabled, displayName: p.displayName, mail: p.mail, userPrincipalName: p.userPrincipalName, userType: p.userType });
  const definition = (key: RoleKey): Json => {
    const r = ROLES[key];
    return {
      id: r.templateId,
      description: r.description,
      displayName: r.displayName,
      isBuiltIn: true,
      isEnabled: true,
      resourceScopes: ['/'],
      templateId: r.templateId,
      version: '1',
      rolePermissions: [{ allowedResourceActions: r.actions, condition: null, excludedResourceActions: [] }],
    };
  };
  return [
    {
      method: 'GET',
      path: '/roleManagement/directory/roleDefinitions',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) => listPage(ctx, { entitySet: 'roleManagement/directory/roleDefinitions', count: keys.length, at: (i) => definition(keys[i]!), pageSize: 1000, maxPageSize: 1000, filterSpec: definitionSpec, filterError: directoryFilterError('UnifiedRoleDefinition') }),
    },
    {
      method: 'GET',
      path: '/roleManagement/directory/roleAssignments',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) => {
        const { tenant } = ctx;
        const expand = carried(ctx, '$expand');
        const expanded = expand?.split(',').map((e) => e.trim()).filter(Boolean) ?? [];
        for (const e of expanded) {
          if (e !== 'principal' && e !== 'roleDefinition') throw new GraphError(400, 'BadRequest', `Parsing OData Select and Expand failed: Could not find a property named '${e}' on type 'microsoft.graph.unifiedRoleAssignment'.`);
        }
        const holders = tenantFacts(tenant, start).roles;
        return listPage(ctx, {
          entitySet: 'roleManagement/directory/roleAssignments',
          count: holders.length,
          at: (i) => {
            const h = holders[i]!;
            const p = person(tenant, h.index);
            const templateId = ROLES[h.role].templateId;
            return {
              id: roleAssignmentId(templateId, p.id),
              principalId: p.id,
              directoryScopeId: '/',
              roleDefinitionId: templateId,
              ...(expanded.includes('principal') ? { principal: userRef(p) } : {}),
              ...(expanded.includes('roleDefinition') ? { roleDefinition: definition(h.role) } : {}),
            };
          },
          pageSize: 1000,
          maxPageSize: 1000,
          filterSpec: assignmentSpec,
          filterError: directoryFilterError('UnifiedRoleAssignment'),
          ...(expand !== undefined ? { extra: expand, contextSuffix: `(${expanded.map((e) => `${e}()`).join(',')})` } : {}),
        });
      },
    },
    {
      method: 'GET',
      path: '/directoryRoles',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) => {
        const roles = directoryRoles(ctx.tenant, start);
        // directoryRoles does not page (paging.md): every activated role in one response
        return listPage(ctx, {
          entitySet: 'directoryRoles',
          count: roles.length,
          at: (i) => ({ id: roles[i]!.id, deletedDateTime: null, description: ROLES[roles[i]!.role].description, displayName: ROLES[roles[i]!.role].displayName, roleTemplateId: ROLES[roles[i]!.role].templateId }),
          pageSize: 10_000,
          maxPageSize: 10_000,
          filterSpec: directoryRoleSpec,
          filterError: directoryFilterError('DirectoryRole'),
        });
      },
    },
    {
      method: 'GET',
      path: '/directoryRoles/:id/members',
      accepts: ACCEPTS.roles,
      family: 'directory',
      handle: (ctx) => {
        const id = ctx.params.id!;
        const role = directoryRoles(ctx.tenant, start).find((r) => r.id === id.toLowerCase());
        if (!role) throw notFound(id);
        return listPage(ctx, {
          entitySet: 'directoryObjects',
          count: role.members.length,
          at: (i) => {
            const p = person(ctx.tenant, role.members[i]!);
            return { '@odata.type': '#microsoft.graph.user', id: p.id, businessPhones: [], displayName: p.displayName, givenName: p.givenName, jobTitle: p.jobTitle, mail: p.mail, mobilePhone: null, officeLocation: null, preferredLanguage: null, surname: p.surname, userPrincipalName: p.userPrincipalName };
          },
          pageSize: 10_000,
          maxPageSize: 10_000,
        });
      },
    },
  ];
}

// ---- Intune

/**
 * Microsoft documents only that listing managed devices "requires an active Intune license for
 * the tenant", not the error without one. Intune's front end answers refusals with this body
 * (an UnknownError wrapping its own JSON; AzureAD/microsoft-authentication-library-for-js#7007,
 * microsoft-graph-explorer-v4#706): used with 403 (chosen).
 */
export function intuneForbidden(activityId: string = newRequestId()): GraphError {
  const inner = {
    _version: 3,
    Message: `An error has occurred - Operation ID (for customer support): 00000000-0000-0000-0000-000000000000 - Activity ID: ${activityId} - Url: https://fef.msub02.manage.microsoft.com/DeviceFE/StatelessDeviceFEService/deviceManagement/managedDevices?api-version=2023-07-04`,
    CustomApiErrorPhrase: '',
    RetryAfter: null,
    ErrorSourceService: '',
    HttpHeaders: '{}',
  };
  const message = JSON.stringify({ ErrorCode: 'Forbidden', Message: JSON.stringify(inner, null, 2).replace(/\n/g, '\r\n'), Target: null, Details: null, InnerError: null, InstanceAnnotations: [] });
  return new GraphError(403, 'UnknownError', message);
}

function deviceRoute(start: number): GraphRoute {
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

// ---- licences and the organization

function tenantRoutes(start: number): GraphRoute[] {
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
        return listPage(ctx, { entitySet: 'subscribedSkus', count: skus.length, at: (i) => skus[i], pageSize: 1000, maxPageSize: 1000 });
      },
    },
    {
      method: 'GET',
      path: '/organization',
      accepts: ACCEPTS.organization,
      family: 'directory',
      handle: (ctx) => listPage(ctx, { entitySet: 'organization', count: 1, at: () => renderOrganization(ctx.tenant, start), pageSize: 1000, maxPageSize: 1000 }),
    },
  ];
}

// ---- directory audits

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

function auditRoute(state: SimState): GraphRoute {
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
      const ok = (prop === 'id' || prop === 'displayName') && ((inner.kind === 'cmp' && inner.op === 'eq' && typeof inner.value === 'string') || (inner.kind === 'fn' && inner.name === 'startswith' && prop === 'displayName'));
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
      const page = pageState<AuditPage>(ctx, () => new GraphError(400, 'BadRequest', 'Skip token is null or has expired.'));
      const filterText = page ? page.f : ctx.query.$filter;
      const filter = filterText === undefined ? undefined : checkedFilter(filterText, spec, reportFilterError, targetClause);
      if (!page && ctx.query.$orderby !== undefined && !/^\s*activityDateTime(\s+desc)?\s*$/i.test(ctx.query.$orderby)) throw invalidFilter();
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
      if (more) body['@odata.nextLink'] = nextLink(ctx, { h: hour, i, t: top, ...(filterText !== undefined ? { f: filterText } : {}), ...(select ? { s: select } : {}) }, top);
      // Graph adds this tip to responses read without $select (Microsoft's example 2).
      if (!select) body['@microsoft.graph.tips'] = 'Use $select to choose only the properties your app needs, as this can lead to performance improvements. For example: GET auditLogs/directoryAudits?$select=activityDateTime,activityDisplayName';
      body.value = value;
      return { body, records: value.length };
    },
  };
}
