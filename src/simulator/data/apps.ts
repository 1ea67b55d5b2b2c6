// The tenant's app registrations and service principals, generated from the seed: the five idsight
// apps (tenants.ts) with their secrets, then business apps whose secrets and certificates are
// ending, ended or fine (the attack scenario plants the findings), then Microsoft's first-party
// service principals.
import { guidOf, hashString, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { APPS, RESOURCES } from './catalog.js';
import { DAY, HOUR, isoSeconds } from './time.js';

/** Microsoft's own tenant, the owner of first-party service principals. */
const MICROSOFT_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

export interface Credential {
  keyId: string;
  displayName: string;
  startDateTime: number;
  endDateTime: number;
  /** Secrets: the first three characters; certificates: the thumbprint. */
  hint: string;
}

export interface AppRegistration {
  id: string;
  appId: string;
  servicePrincipalId: string;
  displayName: string;
  createdDateTime: number;
  /** One of the five idsight apps (tenant.apps) rather than a generated business app. */
  idsight: boolean;
  secrets: Credential[];
  certificates: Credential[];
}

interface BusinessAppPlan {
  name: string;
  /** [days from start it was created, days from start it ends]. */
  secrets: Array<[number, number]>;
  certificates: Array<[number, number]>;
}

// The attack scenario's posture findings: secrets ending in ~30 and ~120 days, one already
// expired, a certificate about to end and an expired one left in place.
const ATTACK_APPS: BusinessAppPlan[] = [
  { name: 'HR Portal', secrets: [[-335, 30]], certificates: [] },
  { name: 'Payroll Sync', secrets: [[-245, 120]], certificates: [] },
  { name: 'Legacy CRM Integration', secrets: [[-377, -12]], certificates: [] },
  { name: 'Document Signing', secrets: [[-10, 355]], certificates: [[-345, 20]] },
  {
    name: 'Backup Agent',
    secrets: [],
    certificates: [
      [-770, -40],
      [-30, 700],
    ],
  },
  {
    name: 'Expense Reports',
    secrets: [
      [-100, 630],
      [-730, -365],
    ],
    certificates: [],
  },
  { name: 'Marketing Analytics', secrets: [], certificates: [] },
  { name: 'Ticket Bridge', secrets: [[-60, 305]], certificates: [] },
];
const EVERYDAY_APPS: BusinessAppPlan[] = [
  { name: 'HR Portal', secrets: [[-300, 65]], certificates: [] },
  { name: 'Payroll Sync', secrets: [[-200, 530]], certificates: [] },
  { name: 'Document Signing', secrets: [], certificates: [[-100, 630]] },
  { name: 'Expense Reports', secrets: [[-20, 710]], certificates: [] },
  { name: 'Marketing Analytics', secrets: [], certificates: [] },
  { name: 'Backup Agent', secrets: [[-400, 330]], certificates: [[-400, 330]] },
];
const SECRET_HINT_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function applications(tenant: SimTenant, start: number): AppRegistration[] {
  const own = tenant.apps.map((a, k): AppRegistration => ({
    id: a.objectId,
    appId: a.appId,
    servicePrincipalId: a.servicePrincipalId,
    displayName: a.displayName,
    createdDateTime: Math.min(...a.secrets.map((s) => s.startDateTime)) - (1 + k) * DAY,
    idsight: true,
    secrets: a.secrets.map((s) => ({
      keyId: s.keyId,
      displayName: s.displayName,
      startDateTime: s.startDateTime,
      endDateTime: s.endDateTime,
      hint: s.hint,
    })),
    certificates: [],
  }));
  const plans = tenant.scenario === 'attacks' ? ATTACK_APPS : EVERYDAY_APPS;
  const business = plans.map((plan, k): AppRegistration => {
    const rng = new Rng(mix(tenant.salt, 50, k));
    const credential = ([from, to]: [number, number], n: number, certificate: boolean): Credential => ({
      keyId: rng.guid(),
      displayName: certificate
        ? `CN=${plan.name.toLowerCase().replace(/ /g, '-')}.${tenant.domains[1] ?? tenant.initialDomain}`
        : n === 0
          ? 'Production'
          : `Production (${n + 1})`,
      startDateTime: start + from * DAY - rng.int(DAY),
      endDateTime: start + to * DAY + rng.int(HOUR),
      hint: certificate
        ? rng.guid().replace(/-/g, '').slice(0, 40).toUpperCase()
        : Array.from({ length: 3 }, () => rng.pick([...SECRET_HINT_CHARS])).join(''),
    });
    const appId = rng.guid();
    const id = rng.guid();
    const servicePrincipalId = rng.guid();
    const secrets = plan.secrets.map((s, n) => credential(s, n, false));
    const certificates = plan.certificates.map((c, n) => credential(c, n, true));
    const oldest = Math.min(
      start - 30 * DAY,
      ...secrets.map((s) => s.startDateTime),
      ...certificates.map((c) => c.startDateTime),
    );
    return {
      id,
      appId,
      servicePrincipalId,
      displayName: plan.name,
      createdDateTime: oldest - rng.int(90) * DAY,
      idsight: false,
      secrets,
      certificates,
    };
  });
  return [...own, ...business];
}

/** Graph's application resource, in the order of Microsoft's application-get example. */
export function renderApplication(app: AppRegistration, tenant: SimTenant): Record<string, unknown> {
  return {
    id: app.id,
    deletedDateTime: null,
    isFallbackPublicClient: null,
    appId: app.appId,
    applicationTemplateId: null,
    identifierUris: app.idsight ? [] : [`api://${app.appId}`],
    createdDateTime: isoSeconds(app.createdDateTime),
    disabledByMicrosoftStatus: null,
    displayName: app.displayName,
    isDeviceOnlyAuthSupported: null,
    groupMembershipClaims: null,
    optionalClaims: null,
    addIns: [],
    publisherDomain: tenant.initialDomain,
    signInAudience: 'AzureADMyOrg',
    tags: [],
    tokenEncryptionKeyId: null,
    api: {
      requestedAccessTokenVersion: null,
      acceptMappedClaims: null,
      knownClientApplications: [],
      oauth2PermissionScopes: [],
      preAuthorizedApplications: [],
    },
    appRoles: [],
    publicClient: { redirectUris: [] },
    info: { termsOfServiceUrl: null, supportUrl: null, privacyStatementUrl: null, marketingUrl: null, logoUrl: null },
    keyCredentials: app.certificates.map((c) => ({
      // customKeyIdentifier is Edm.Binary: the certificate thumbprint's bytes, base64
      customKeyIdentifier: Buffer.from(c.hint, 'hex').toString('base64'),
      displayName: c.displayName,
      endDateTime: isoSeconds(c.endDateTime),
      key: null, // only returned when a single application is read with $select=keyCredentials
      keyId: c.keyId,
      startDateTime: isoSeconds(c.startDateTime),
      type: 'AsymmetricX509Cert',
      usage: 'Verify',
    })),
    parentalControlSettings: { countriesBlockedForMinors: [], legalAgeGroupRule: 'Allow' },
    passwordCredentials: app.secrets.map((s) => ({
      customKeyIdentifier: null,
      displayName: s.displayName,
      endDateTime: isoSeconds(s.endDateTime),
      hint: s.hint,
      keyId: s.keyId,
      secretText: null, // only ever returned by addPassword
      startDateTime: isoSeconds(s.startDateTime),
    })),
    requiredResourceAccess: [],
    web: {
      redirectUris: [],
      homePageUrl: null,
      logoutUrl: null,
      implicitGrantSettings: { enableIdTokenIssuance: false, enableAccessTokenIssuance: false },
    },
  };
}

export interface ServicePrincipalSpec {
  id: string;
  appId: string;
  displayName: string;
  ownerTenantId: string;
  firstParty: boolean;
}

/** The object id of a Microsoft app's service principal in the tenant. */
export const firstPartyServicePrincipalId = (tenant: SimTenant, appId: string): string =>
  guidOf(tenant.salt, 51, hashString(appId));

/** One service principal per app registration, then Microsoft's first-party ones. */
export function servicePrincipals(tenant: SimTenant, start: number): ServicePrincipalSpec[] {
  const own = applications(tenant, start).map((a) => ({
    id: a.servicePrincipalId,
    appId: a.appId,
    displayName: a.displayName,
    ownerTenantId: tenant.id,
    firstParty: false,
  }));
  const seen = new Set<string>();
  const firstParty: ServicePrincipalSpec[] = [];
  for (const { appId, name } of [
    ...Object.values(RESOURCES).map((r) => ({ appId: r.id, name: r.name })),
    ...APPS.map((a) => ({ appId: a.appId, name: a.name })),
  ]) {
    if (seen.has(appId)) continue;
    seen.add(appId);
    firstParty.push({
      id: firstPartyServicePrincipalId(tenant, appId),
      appId,
      displayName: name,
      ownerTenantId: MICROSOFT_TENANT_ID,
      firstParty: true,
    });
  }
  return [...own, ...firstParty];
}

/** Graph's servicePrincipal, as Microsoft's list example minus what v1.0 no longer has (publisherName). */
export function renderServicePrincipal(sp: ServicePrincipalSpec): Record<string, unknown> {
  return {
    id: sp.id,
    deletedDateTime: null,
    accountEnabled: true,
    appDisplayName: sp.displayName,
    appId: sp.appId,
    appOwnerOrganizationId: sp.ownerTenantId,
    appRoleAssignmentRequired: false,
    displayName: sp.displayName,
    homepage: null,
    logoutUrl: null,
    replyUrls: [],
    servicePrincipalNames: [sp.appId],
    tags: sp.firstParty ? [] : ['WindowsAzureActiveDirectoryIntegratedApp'],
    addIns: [],
    appRoles: [],
    info: { termsOfServiceUrl: null, supportUrl: null, privacyStatementUrl: null, marketingUrl: null, logoUrl: null },
    keyCredentials: [],
    oauth2PermissionScopes: [],
    passwordCredentials: [],
    servicePrincipalType: 'Application',
    signInAudience: sp.firstParty ? 'AzureADMultipleOrgs' : 'AzureADMyOrg',
  };
}
