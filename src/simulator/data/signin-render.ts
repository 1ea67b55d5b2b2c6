// Renders a sign-in spec as Graph returns it: the v1.0 signIn (property order as Microsoft's
// example) or the beta one with its extra properties.
import { guidOf, hashString } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { ERRORS, OTHER_REASON } from './catalog.js';
import { isLegacyClient, signInClient } from './signin-client.js';
import type { CaPolicyPlan, SignInSpec } from './signins.js';
import { isoTicks } from './time.js';

export interface RenderContext {
  tenant: SimTenant;
  beta: boolean;
  now: number;
  /** appliedConditionalAccessPolicies appear only when the caller holds Policy.Read.All. */
  withPolicies: boolean;
  policies: CaPolicyPlan[];
  /** `Prefer: include-unknown-enum-members`: evolvable enum members (reportOnly*) are shown as is. */
  evolvableEnums: boolean;
}

/** Whether the re-published (changed) version of a record is the one visible at `now`. */
export const republished = (s: SignInSpec, now: number): boolean =>
  s.republishAfter !== undefined && s.time + s.delay + s.republishAfter <= now;

export function renderSignIn(s: SignInSpec, ctx: RenderContext): Record<string, unknown> {
  const p2 = ctx.tenant.licence === 'p2';
  const second = republished(s, ctx.now);
  // The re-published copy carries what Entra adds later: a risk assessment, aggregated MFA detail.
  const risk =
    second && s.risk.level === 'none'
      ? { level: 'medium' as const, state: 'atRisk' as const, eventTypes: ['unfamiliarFeatures'] }
      : s.risk;
  const error = ERRORS[s.errorCode] ?? { code: s.errorCode, reason: OTHER_REASON, details: null };
  const details =
    s.details !== undefined
      ? s.details
      : second && s.errorCode === 0
        ? 'MFA requirement satisfied by claim in the token'
        : error.details;
  const user = s.person;
  const isUser = s.type === 'interactiveUser' || s.type === 'nonInteractiveUser';
  const upn = (s.upn ?? (user ? (user.userType === 'Guest' ? user.mail : user.userPrincipalName) : '')).toLowerCase();
  const legacy = isLegacyClient(s.clientAppUsed);
  const applied = ctx.policies.map((p) => ({
    id: p.id,
    displayName: p.displayName,
    enforcedGrantControls: p.grant === 'mfa' ? ['Mfa'] : p.grant === 'block' ? ['Block'] : ['RequireCompliantDevice'],
    enforcedSessionControls: [] as string[],
    result: visibleResult(policyResult(p, s, legacy), ctx.evolvableEnums),
  }));
  const caStatus =
    s.errorCode === 53003 ? 'failure' : applied.some((a) => a.result === 'success') ? 'success' : 'notApplied';
  const riskFields = p2
    ? {
        riskDetail: 'none',
        riskLevelAggregated: risk.level,
        riskLevelDuringSignIn: risk.level,
        riskState: risk.state,
        riskEventTypes: risk.eventTypes,
        riskEventTypes_v2: risk.eventTypes,
      }
    : {
        riskDetail: 'hidden',
        riskLevelAggregated: 'hidden',
        riskLevelDuringSignIn: 'hidden',
        riskState: 'none',
        riskEventTypes: [],
        riskEventTypes_v2: [],
      };
  const client = signInClient(s, ctx.beta);
  const homeTenantId = homeTenantOf(s, ctx.tenant);
  // v1.0: Microsoft's example's order, with the properties today's v1.0 schema adds placed where
  // the beta examples have them. authenticationAppDeviceDetails is null as in Microsoft's only
  // published example (beta signin-get); no document says which sign-ins fill it.
  // servicePrincipalId is "" and servicePrincipalName null for user sign-ins, as the examples show.
  const record: Record<string, unknown> = {
    id: s.id,
    createdDateTime: isoTicks(s.time, s.ticks),
    userDisplayName: isUser ? (user?.displayName ?? null) : null,
    userPrincipalName: isUser ? upn : null,
    userId: isUser ? (user?.id ?? '00000000-0000-0000-0000-000000000000') : '',
    appId: s.app.appId,
    appDisplayName: s.app.name,
    ipAddress: s.ip,
    clientAppUsed: s.clientAppUsed,
    ...(ctx.beta ? {} : { userAgent: client.userAgent }),
    correlationId: s.correlationId,
    conditionalAccessStatus: caStatus,
    isInteractive: s.type === 'interactiveUser',
    ...(ctx.beta
      ? {}
      : {
          homeTenantId,
          riskDetail: riskFields.riskDetail,
          riskLevelAggregated: riskFields.riskLevelAggregated,
          riskLevelDuringSignIn: riskFields.riskLevelDuringSignIn,
          riskState: riskFields.riskState,
          riskEventTypes: riskFields.riskEventTypes,
          riskEventTypes_v2: riskFields.riskEventTypes_v2,
        }),
    resourceDisplayName: s.app.resource.name,
    resourceId: s.app.resource.id,
    ...(ctx.beta
      ? {}
      : {
          resourceTenantId: ctx.tenant.id,
          authenticationAppDeviceDetails: null,
          servicePrincipalId: '',
          servicePrincipalName: null,
        }),
    // failureReason is null on success (ERRORS[0]), as Microsoft's examples show it.
    status: { errorCode: s.errorCode, failureReason: error.reason, additionalDetails: details },
    deviceDetail: client.deviceDetail,
    location: {
      city: s.city.city,
      state: s.city.state,
      countryOrRegion: s.city.country,
      geoCoordinates: { altitude: null, latitude: s.city.latitude, longitude: s.city.longitude },
    },
  };
  if (ctx.withPolicies) record.appliedConditionalAccessPolicies = applied;
  if (!ctx.beta) return record;

  // beta: the same record with the properties only beta has, in Microsoft's beta example's order
  return {
    id: record.id,
    createdDateTime: record.createdDateTime,
    userDisplayName: record.userDisplayName,
    userPrincipalName: record.userPrincipalName,
    userId: record.userId,
    appId: record.appId,
    appDisplayName: record.appDisplayName,
    ipAddress: record.ipAddress,
    clientAppUsed: record.clientAppUsed,
    userAgent: client.userAgent,
    correlationId: record.correlationId,
    conditionalAccessStatus: record.conditionalAccessStatus,
    originalRequestId: s.correlationId,
    authenticationProtocol: legacy ? 'none' : 'oAuth2',
    incomingTokenType: s.type === 'nonInteractiveUser' ? 'primaryRefreshToken' : 'none',
    isInteractive: record.isInteractive,
    homeTenantId,
    homeTenantName: '',
    isTenantRestricted: false,
    tokenIssuerName: '',
    tokenIssuerType: 'AzureAD',
    processingTimeInMilliseconds: 40 + (s.ticks % 900),
    riskDetail: riskFields.riskDetail,
    riskLevelAggregated: riskFields.riskLevelAggregated,
    riskLevelDuringSignIn: riskFields.riskLevelDuringSignIn,
    riskState: riskFields.riskState,
    riskEventTypes_v2: riskFields.riskEventTypes_v2,
    resourceDisplayName: record.resourceDisplayName,
    resourceId: record.resourceId,
    resourceTenantId: ctx.tenant.id,
    authenticationMethodsUsed:
      s.errorCode === 0 && caStatus === 'success'
        ? ['Password', 'Mobile app notification']
        : s.errorCode === 0
          ? ['Password']
          : [],
    authenticationRequirement: caStatus === 'success' ? 'multiFactorAuthentication' : 'singleFactorAuthentication',
    uniqueTokenIdentifier: Buffer.from(s.id).toString('base64url').slice(0, 32),
    signInIdentifier: isUser ? upn : '',
    signInEventTypes: [s.type],
    servicePrincipalId: isUser ? '' : (ctx.tenant.apps[0]?.servicePrincipalId ?? ''),
    userType: user?.userType === 'Guest' ? 'guest' : 'member',
    flaggedForReview: false,
    autonomousSystemNumber: 8075 + (s.city.prefix.length % 7),
    crossTenantAccessType: user?.userType === 'Guest' ? 'b2bCollaboration' : 'none',
    status: record.status,
    deviceDetail: record.deviceDetail,
    location: record.location,
    appliedConditionalAccessPolicies: ctx.withPolicies ? applied : [],
    authenticationProcessingDetails: [{ key: 'Login Hint Present', value: 'True' }],
    networkLocationDetails: [],
    authenticationDetails: [
      {
        authenticationStepDateTime: record.createdDateTime,
        authenticationMethod: 'Password',
        authenticationMethodDetail: 'Password in the cloud',
        succeeded: s.errorCode === 0 || s.errorCode === 50074 || s.errorCode === 50076 || s.errorCode === 500121,
        authenticationStepResultDetail: s.errorCode === 0 ? 'Correct password' : error.reason,
        authenticationStepRequirement: 'Primary authentication',
      },
    ],
    authenticationRequirementPolicies: [],
    sessionLifetimePolicies: [],
  };
}

/**
 * The tenant the user belongs to: this one for members and sign-ins without a user; for B2B
 * guests, their own organisation's (a fixed id per partner domain), while resourceTenantId stays
 * this tenant.
 */
function homeTenantOf(s: SignInSpec, tenant: SimTenant): string {
  const p = s.person;
  if (p?.userType !== 'Guest') return tenant.id;
  return guidOf(0x40e7, hashString(p.mail.slice(p.mail.indexOf('@') + 1)));
}

// Members added after unknownFutureValue are sent as unknownFutureValue unless the caller opts in.
const visibleResult = (result: string, evolvable: boolean): string =>
  evolvable || !result.startsWith('reportOnly') ? result : 'unknownFutureValue';

function policyResult(p: CaPolicyPlan, s: SignInSpec, legacy: boolean): string {
  if (p.state === 'disabled') return 'notEnabled';
  const applies =
    (p.target === 'admins' && Boolean(s.person?.globalAdmin)) ||
    (p.target === 'legacyAuth' && legacy) ||
    (p.target === 'azureManagement' && s.app.resource.name === 'Windows Azure Service Management API');
  if (p.state === 'enabledForReportingButNotEnforced') return applies ? 'reportOnlySuccess' : 'reportOnlyNotApplied';
  if (!applies) return 'notApplied';
  return s.errorCode === 53003 || p.grant === 'block' ? 'failure' : 'success';
}
