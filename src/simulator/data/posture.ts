// The tenant's security posture, generated from the seed: app registrations and their
// credentials, users' authentication methods and MFA registration, directory roles, Identity
// Protection risk, Intune devices, licences, the organization and the directory audit log.
// Every value is a pure function of (tenant, index, start); the one piece of run-time state is
// the overlay of authentication methods deleted through Graph (PostureOverlay).
import { guidOf, hashString, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { APPS, RESOURCES } from './catalog.js';
import { personAt, type Person } from './people.js';
import { buildIncidents, type Incident } from './scenarios.js';
import { HOUR, type SignInSpec } from './signins.js';

const DAY = 24 * HOUR;
/** Graph's directory timestamps: whole seconds, UTC. */
export const isoSeconds = (t: number): string => `${new Date(t).toISOString().slice(0, 19)}Z`;
/** Report timestamps carry seven fractional digits. */
const isoTicks = (t: number, ticks: number): string => `${new Date(t).toISOString().slice(0, 23)}${String(ticks % 10_000).padStart(4, '0')}Z`;

/** Microsoft's own tenant, the owner of first-party service principals. */
export const MICROSOFT_TENANT_ID = 'f8cdef31-a31e-4b4a-93e4-5f571e91255a';

// ------------------------------------------------------------------ per-tenant caches

/** Values that need a pass over the directory, computed once per tenant. */
interface TenantFacts {
  /** id → index, for /users/{id}/… lookups. */
  byId: Map<string, number>;
  members: number;
  roles: RoleHolder[];
  /** Index → role keys held (Global Administrator excluded: that is Person.globalAdmin). */
  rolesByIndex: Map<number, RoleKey[]>;
}
const factsCache = new WeakMap<SimTenant, TenantFacts>();

export function tenantFacts(tenant: SimTenant, start: number): TenantFacts {
  let facts = factsCache.get(tenant);
  if (facts) return facts;
  const byId = new Map<string, number>();
  let members = 0;
  for (let i = 0; i < tenant.userCount; i++) {
    const p = personAt(tenant, i, start);
    byId.set(p.id, i);
    if (p.userType === 'Member') members++;
  }
  const roles = planRoles(tenant, start);
  const rolesByIndex = new Map<number, RoleKey[]>();
  for (const r of roles) if (r.role !== 'globalAdmin') rolesByIndex.set(r.index, [...(rolesByIndex.get(r.index) ?? []), r.role]);
  facts = { byId, members, roles, rolesByIndex };
  factsCache.set(tenant, facts);
  return facts;
}

/** The person a /users/{id | userPrincipalName} segment names, if any. */
export function findPerson(tenant: SimTenant, start: number, idOrUpn: string): Person | undefined {
  const key = idOrUpn.toLowerCase();
  const index = tenantFacts(tenant, start).byId.get(key);
  if (index !== undefined) return personAt(tenant, index, start);
  // A UPN carries the person's index after the surname (given.surname12@domain).
  const m = /^[a-z]+\.[a-z]+(\d+)(_|@)/.exec(key);
  if (!m) return undefined;
  const p = personAt(tenant, Number(m[1]), start);
  return Number(m[1]) < tenant.userCount && p.userPrincipalName.toLowerCase() === key ? p : undefined;
}

// ------------------------------------------------------------------ applications

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
  { name: 'Backup Agent', secrets: [], certificates: [[-770, -40], [-30, 700]] },
  { name: 'Expense Reports', secrets: [[-100, 630], [-730, -365]], certificates: [] },
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
  const own = tenant.apps.map(
    (a, k): AppRegistration => ({
      id: a.objectId,
      appId: a.appId,
      servicePrincipalId: a.servicePrincipalId,
      displayName: a.displayName,
      createdDateTime: Math.min(...a.secrets.map((s) => s.startDateTime)) - (1 + k) * DAY,
      idsight: true,
      secrets: a.secrets.map((s) => ({ keyId: s.keyId, displayName: s.displayName, startDateTime: s.startDateTime, endDateTime: s.endDateTime, hint: s.hint })),
      certificates: [],
    }),
  );
  const plans = tenant.scenario === 'attacks' ? ATTACK_APPS : EVERYDAY_APPS;
  const business = plans.map((plan, k): AppRegistration => {
    const rng = new Rng(mix(tenant.salt, 50, k));
    const credential = ([from, to]: [number, number], n: number, certificate: boolean): Credential => ({
      keyId: rng.guid(),
      displayName: certificate ? `CN=${plan.name.toLowerCase().replace(/ /g, '-')}.${tenant.domains[1] ?? tenant.initialDomain}` : n === 0 ? 'Production' : `Production (${n + 1})`,
      startDateTime: start + from * DAY - rng.int(DAY),
      endDateTime: start + to * DAY + rng.int(HOUR),
      hint: certificate ? rng.guid().replace(/-/g, '').slice(0, 40).toUpperCase() : Array.from({ length: 3 }, () => rng.pick([...SECRET_HINT_CHARS])).join(''),
    });
    const appId = rng.guid();
    const id = rng.guid();
    const servicePrincipalId = rng.guid();
    const secrets = plan.secrets.map((s, n) => credential(s, n, false));
    const certificates = plan.certificates.map((c, n) => credential(c, n, true));
    const oldest = Math.min(start - 30 * DAY, ...secrets.map((s) => s.startDateTime), ...certificates.map((c) => c.startDateTime));
    return { id, appId, servicePrincipalId, displayName: plan.name, createdDateTime: oldest - rng.int(90) * DAY, idsight: false, secrets, certificates };
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
    api: { requestedAccessTokenVersion: null, acceptMappedClaims: null, knownClientApplications: [], oauth2PermissionScopes: [], preAuthorizedApplications: [] },
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
    web: { redirectUris: [], homePageUrl: null, logoutUrl: null, implicitGrantSettings: { enableIdTokenIssuance: false, enableAccessTokenIssuance: false } },
  };
}

export interface ServicePrincipalSpec {
  id: string;
  appId: string;
  displayName: string;
  ownerTenantId: string;
  firstParty: boolean;
}

/** One service principal per app registration, then Microsoft's first-party ones. */
export function servicePrincipals(tenant: SimTenant, start: number): ServicePrincipalSpec[] {
  const own = applications(tenant, start).map((a) => ({ id: a.servicePrincipalId, appId: a.appId, displayName: a.displayName, ownerTenantId: tenant.id, firstParty: false }));
  const seen = new Set<string>();
  const firstParty: ServicePrincipalSpec[] = [];
  for (const { appId, name } of [...Object.values(RESOURCES).map((r) => ({ appId: r.id, name: r.name })), ...APPS.map((a) => ({ appId: a.appId, name: a.name }))]) {
    if (seen.has(appId)) continue;
    seen.add(appId);
    firstParty.push({ id: guidOf(tenant.salt, 51, hashString(appId)), appId, displayName: name, ownerTenantId: MICROSOFT_TENANT_ID, firstParty: true });
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

// ------------------------------------------------------------------ authentication methods

export const PASSWORD_METHOD_ID = '28c10230-6103-485e-b985-444c60001490';
export const PHONE_METHOD_IDS = {
  mobile: '3179e48a-750b-4051-897c-87b9720928f7',
  alternateMobile: 'b6332ec1-7057-4abe-9331-3d72feddfe41',
  office: 'e37fc753-ff3b-4958-9484-eaa9425c82bc',
} as const;
/** The email method's fixed id, as Microsoft's emailAuthenticationMethod examples show it. */
export const EMAIL_METHOD_ID = '3ddfcfc8-9383-446f-83cc-3ab9be4be18f';

export const METHOD_COLLECTIONS = {
  passwordMethods: 'passwordAuthenticationMethod',
  phoneMethods: 'phoneAuthenticationMethod',
  microsoftAuthenticatorMethods: 'microsoftAuthenticatorAuthenticationMethod',
  fido2Methods: 'fido2AuthenticationMethod',
  softwareOathMethods: 'softwareOathAuthenticationMethod',
  emailMethods: 'emailAuthenticationMethod',
  windowsHelloForBusinessMethods: 'windowsHelloForBusinessAuthenticationMethod',
  temporaryAccessPassMethods: 'temporaryAccessPassAuthenticationMethod',
  platformCredentialMethods: 'platformCredentialAuthenticationMethod',
} as const;
export type MethodCollection = keyof typeof METHOD_COLLECTIONS;

export type SecondaryMethod = 'push' | 'oath' | 'voiceMobile' | 'voiceAlternateMobile' | 'voiceOffice' | 'sms' | 'none';

export interface AuthMethod {
  collection: MethodCollection;
  id: string;
  /** Graph JSON without @odata.type (the typed collections omit it; /methods adds it). */
  record: Record<string, unknown>;
  /** Phone methods: which number. */
  phoneType?: keyof typeof PHONE_METHOD_IDS;
  /** The registration report's name for it (methodsRegistered); none for the password. */
  registered?: string;
  /** A strong method: counts for MFA registration. */
  mfa: boolean;
}

export interface MethodPlan {
  methods: AuthMethod[];
  /** The default second factor the user chose. */
  preferred: SecondaryMethod;
  lastUpdated: number;
}

const COUNTRY_CODES: Record<string, string> = { US: '+1', CA: '+1', GB: '+44', IE: '+353', NL: '+31', DE: '+49', FR: '+33', ES: '+34' };
const AUTHENTICATOR_DEVICES = ['iPhone 15', 'iPhone 13', 'Pixel 8', 'Galaxy S23', 'iPhone 16 Pro'];
// Real AAGUIDs of common keys (FIDO Alliance metadata).
const FIDO_KEYS = [
  { model: 'YubiKey 5 NFC', aaGuid: 'cb69481e-8ff7-4039-93ec-0a2729a154a8' },
  { model: 'YubiKey 5Ci', aaGuid: 'c5ef55ff-ad9a-4b9f-b580-adebafe026d0' },
];

/** Whether a person has registered MFA at all, before any deletion. */
function registersMfa(tenant: SimTenant, p: Person, rng: Rng): boolean {
  const attacks = tenant.scenario === 'attacks';
  // The attack scenario's posture gap: Global Administrators without MFA.
  if (p.globalAdmin) return !(attacks && p.index % 5 === 2);
  if (p.userType === 'Guest') return p.externalUserState !== 'PendingAcceptance' && rng.chance(0.45);
  return rng.chance(attacks ? 0.72 : p.dormant ? 0.6 : 0.9);
}

/** The person's authentication methods as generated (nothing deleted). */
export function methodPlan(tenant: SimTenant, p: Person, start: number): MethodPlan {
  const rng = new Rng(mix(tenant.salt, 60, p.index));
  const created = (minDays: number) => Math.max(p.createdDateTime, start - (minDays + rng.int(300)) * DAY);
  const methods: AuthMethod[] = [
    {
      collection: 'passwordMethods',
      id: PASSWORD_METHOD_ID,
      record: { id: PASSWORD_METHOD_ID, password: null, createdDateTime: isoSeconds(p.createdDateTime) },
      mfa: false,
    },
  ];
  const cc = COUNTRY_CODES[p.home.country] ?? '+1';
  const number = () => `${cc} ${200 + rng.int(800)}${String(rng.int(10_000_000)).padStart(7, '0')}`;
  const phone = (phoneType: keyof typeof PHONE_METHOD_IDS, registered: string) =>
    methods.push({
      collection: 'phoneMethods',
      id: PHONE_METHOD_IDS[phoneType],
      record: { id: PHONE_METHOD_IDS[phoneType], phoneNumber: number(), phoneType, smsSignInState: 'notAllowedByPolicy' },
      phoneType,
      registered,
      mfa: true,
    });
  const authenticator = () => {
    const id = rng.guid();
    methods.push({
      collection: 'microsoftAuthenticatorMethods',
      id,
      record: { id, displayName: rng.pick(AUTHENTICATOR_DEVICES), deviceTag: 'SoftwareTokenActivated', phoneAppVersion: `6.2${rng.int(10)}${String(rng.int(100)).padStart(2, '0')}.${1000 + rng.int(9000)}`, createdDateTime: isoSeconds(created(20)) },
      registered: 'microsoftAuthenticatorPush',
      mfa: true,
    });
  };

  let preferred: SecondaryMethod = 'none';
  if (registersMfa(tenant, p, rng)) {
    const profile = rng.weighted([
      ['authenticatorAndMobile', 45],
      ['authenticator', 20],
      ['mobile', 15],
      ['mobileAndAlternate', 6],
      ['oathAndAuthenticator', 7],
      ['mobileAndOffice', 7],
    ] as const);
    if (profile === 'authenticatorAndMobile' || profile === 'authenticator' || profile === 'oathAndAuthenticator') authenticator();
    if (profile === 'authenticatorAndMobile' || profile === 'mobile' || profile === 'mobileAndAlternate' || profile === 'mobileAndOffice') phone('mobile', 'mobilePhone');
    if (profile === 'mobileAndAlternate') phone('alternateMobile', 'alternateMobilePhone');
    if (profile === 'mobileAndOffice') phone('office', 'officePhone');
    if (profile === 'oathAndAuthenticator') {
      const id = rng.guid();
      methods.push({ collection: 'softwareOathMethods', id, record: { id, secretKey: null, createdDateTime: isoSeconds(created(30)) }, registered: 'softwareOneTimePasscode', mfa: true });
    }
    preferred =
      profile === 'mobile' || profile === 'mobileAndOffice'
        ? rng.chance(0.6) ? 'sms' : 'voiceMobile'
        : profile === 'mobileAndAlternate'
          ? rng.chance(0.25) ? 'voiceAlternateMobile' : 'sms'
          : profile === 'authenticatorAndMobile' && rng.chance(0.15)
            ? 'sms'
            : 'push';
    // Administrators carry security keys; Windows users often enrol Windows Hello.
    if ((p.globalAdmin && rng.chance(0.6)) || rng.chance(0.03)) {
      const key = rng.pick(FIDO_KEYS);
      const id = Buffer.from(rng.guid().replace(/-/g, ''), 'hex').toString('base64url').slice(0, 22);
      methods.push({
        collection: 'fido2Methods',
        id,
        record: { id, displayName: key.model, createdDateTime: isoSeconds(created(10)), aaGuid: key.aaGuid, model: key.model, attestationCertificates: [rng.guid().replace(/-/g, '') + rng.guid().replace(/-/g, '').slice(0, 8)], attestationLevel: 'attested', passkeyType: 'deviceBound' },
        // the report's current name for a device-bound FIDO2 key (older reports said fido2)
        registered: 'passKeyDeviceBound',
        mfa: true,
      });
    }
    if (p.deviceId && p.device.operatingSystem === 'Windows10' && rng.chance(0.3)) {
      const id = rng.guid();
      methods.push({
        collection: 'windowsHelloForBusinessMethods',
        id,
        record: { id, displayName: `DESKTOP-${p.deviceId.slice(0, 7).toUpperCase()}`, createdDateTime: isoSeconds(created(15)), keyStrength: 'normal' },
        registered: 'windowsHelloForBusiness',
        mfa: true,
      });
    }
  }
  if (p.userType === 'Member' && rng.chance(0.3)) {
    methods.push({ collection: 'emailMethods', id: EMAIL_METHOD_ID, record: { id: EMAIL_METHOD_ID, emailAddress: `${p.givenName}.${p.surname}@outlook.example`.toLowerCase() }, registered: 'email', mfa: false });
  }
  // A new starter onboarded with a Temporary Access Pass (now expired).
  if (p.userType === 'Member' && rng.chance(0.02)) {
    const id = rng.guid();
    const at = Math.max(p.createdDateTime, start - (1 + rng.int(20)) * DAY);
    methods.push({
      collection: 'temporaryAccessPassMethods',
      id,
      record: { id, temporaryAccessPass: null, createdDateTime: isoSeconds(at), startDateTime: isoSeconds(at), lifetimeInMinutes: 60, isUsableOnce: true, isUsable: false, methodUsabilityReason: 'Expired' },
      registered: 'temporaryAccessPass',
      mfa: false,
    });
  }
  return { methods, preferred, lastUpdated: start - (1 + rng.int(200)) * DAY - rng.int(DAY) };
}

/** Authentication methods deleted through Graph, per tenant and user: method id → when. */
export interface PostureOverlay {
  deletedMethods: Map<string, Map<string, number>>;
}
export const createPostureOverlay = (): PostureOverlay => ({ deletedMethods: new Map() });
export const overlayKey = (tenant: SimTenant, p: Person): string => `${tenant.id}/${p.id}`;

/** The person's methods now: the generated plan minus what was deleted. */
export function currentMethods(tenant: SimTenant, p: Person, start: number, overlay: PostureOverlay): MethodPlan {
  const plan = methodPlan(tenant, p, start);
  const deleted = overlay.deletedMethods.get(overlayKey(tenant, p));
  if (!deleted || deleted.size === 0) return plan;
  return {
    methods: plan.methods.filter((m) => !deleted.has(m.id)),
    preferred: plan.preferred,
    lastUpdated: Math.max(plan.lastUpdated, ...deleted.values()),
  };
}

/** The method a preference points at, when the user still has it. */
export function preferredMethod(plan: MethodPlan): AuthMethod | undefined {
  const phoneFor: Partial<Record<SecondaryMethod, keyof typeof PHONE_METHOD_IDS>> = { sms: 'mobile', voiceMobile: 'mobile', voiceAlternateMobile: 'alternateMobile', voiceOffice: 'office' };
  const phoneType = phoneFor[plan.preferred];
  if (phoneType) return plan.methods.find((m) => m.phoneType === phoneType);
  if (plan.preferred === 'push') return plan.methods.find((m) => m.collection === 'microsoftAuthenticatorMethods');
  if (plan.preferred === 'oath') return plan.methods.find((m) => m.collection === 'softwareOathMethods');
  return undefined;
}

/**
 * The default second factor in effect: the user's choice while its method exists, else what
 * Entra falls back to (authenticator, OATH code, then the phones).
 */
export function effectivePreferred(plan: MethodPlan): SecondaryMethod {
  if (preferredMethod(plan)) return plan.preferred;
  const has = (c: MethodCollection) => plan.methods.some((m) => m.collection === c);
  const phone = (t: keyof typeof PHONE_METHOD_IDS) => plan.methods.some((m) => m.phoneType === t);
  if (has('microsoftAuthenticatorMethods')) return 'push';
  if (has('softwareOathMethods')) return 'oath';
  if (phone('mobile')) return 'sms';
  if (phone('alternateMobile')) return 'voiceAlternateMobile';
  if (phone('office')) return 'voiceOffice';
  return 'none';
}

const REGISTERED_ORDER = ['mobilePhone', 'alternateMobilePhone', 'officePhone', 'microsoftAuthenticatorPush', 'softwareOneTimePasscode', 'passKeyDeviceBound', 'windowsHelloForBusiness', 'email', 'temporaryAccessPass'];

/** The userRegistrationDetails record, consistent with the user's current methods. */
export function renderRegistration(tenant: SimTenant, p: Person, plan: MethodPlan, isAdmin: boolean): Record<string, unknown> {
  const registered = plan.methods.map((m) => m.registered).filter((r): r is string => r !== undefined);
  registered.sort((a, b) => REGISTERED_ORDER.indexOf(a) - REGISTERED_ORDER.indexOf(b));
  const mfa = plan.methods.some((m) => m.mfa);
  const preferred = effectivePreferred(plan);
  const ssprEnabled = p.userType === 'Member' && (tenant.licence !== 'free' || isAdmin); // SSPR for users needs P1; admins always have it
  const ssprRegistered = plan.methods.some((m) => m.collection === 'phoneMethods' || m.collection === 'microsoftAuthenticatorMethods' || m.collection === 'emailMethods' || m.collection === 'softwareOathMethods');
  const systemPreferred = preferred === 'none' ? [] : [plan.methods.some((m) => m.collection === 'microsoftAuthenticatorMethods') ? 'push' : plan.methods.some((m) => m.collection === 'softwareOathMethods') ? 'oath' : preferred === 'voiceMobile' ? 'sms' : preferred];
  return {
    id: p.id,
    userPrincipalName: p.userPrincipalName,
    userDisplayName: p.displayName,
    isAdmin,
    isSsprRegistered: ssprRegistered,
    isSsprEnabled: ssprEnabled,
    isSsprCapable: ssprEnabled && ssprRegistered,
    isMfaRegistered: mfa,
    isMfaCapable: mfa,
    isPasswordlessCapable: plan.methods.some((m) => m.collection === 'fido2Methods' || m.collection === 'windowsHelloForBusinessMethods'),
    lastUpdatedDateTime: isoTicks(plan.lastUpdated, mix(p.index, 61) % 10_000),
    methodsRegistered: registered,
    isSystemPreferredAuthenticationMethodEnabled: true,
    systemPreferredAuthenticationMethods: systemPreferred,
    userPreferredMethodForSecondaryAuthentication: preferred,
    userType: p.userType === 'Guest' ? 'guest' : 'member',
  };
}

// ------------------------------------------------------------------ roles

export type RoleKey = 'globalAdmin' | 'privilegedRoleAdmin' | 'securityAdmin' | 'exchangeAdmin' | 'userAdmin' | 'helpdeskAdmin' | 'globalReader' | 'conditionalAccessAdmin' | 'applicationAdmin' | 'authenticationAdmin' | 'directoryReaders' | 'reportsReader';

/** Built-in roles with their template ids and descriptions (Entra "built-in roles" reference). */
export const ROLES: Record<RoleKey, { templateId: string; displayName: string; description: string; actions: string[] }> = {
  globalAdmin: { templateId: '62e90394-69f5-4237-9190-012177145e10', displayName: 'Global Administrator', description: 'Can manage all aspects of Microsoft Entra ID and Microsoft services that use Microsoft Entra identities.', actions: ['microsoft.directory/users/allProperties/allTasks', 'microsoft.directory/roleAssignments/allProperties/allTasks'] },
  privilegedRoleAdmin: { templateId: 'e8611ab8-c189-46e8-94e1-60213ab1f814', displayName: 'Privileged Role Administrator', description: 'Can manage role assignments in Microsoft Entra ID, and all aspects of Privileged Identity Management.', actions: ['microsoft.directory/roleAssignments/allProperties/allTasks', 'microsoft.directory/roleDefinitions/allProperties/allTasks'] },
  securityAdmin: { templateId: '194ae4cb-b126-40b2-bd5b-6091b380977d', displayName: 'Security Administrator', description: 'Can read security information and reports, and manage configuration in Microsoft Entra ID and Office 365.', actions: ['microsoft.directory/conditionalAccessPolicies/allProperties/allTasks', 'microsoft.directory/identityProtection/allProperties/allTasks'] },
  exchangeAdmin: { templateId: '29232cdf-9323-42fd-ade2-1d097af3e4de', displayName: 'Exchange Administrator', description: 'Can manage all aspects of the Exchange product.', actions: ['microsoft.office365.exchange/allEntities/basic/allTasks'] },
  userAdmin: { templateId: 'fe930be7-5e62-47db-91af-98c3a49a38b1', displayName: 'User Administrator', description: 'Can manage all aspects of users and groups, including resetting passwords for limited admins.', actions: ['microsoft.directory/users/create', 'microsoft.directory/users/delete', 'microsoft.directory/users/password/update'] },
  helpdeskAdmin: { templateId: '729827e3-9c14-49f7-bb1b-9608f156bbb8', displayName: 'Helpdesk Administrator', description: 'Can reset passwords for non-administrators and Helpdesk Administrators.', actions: ['microsoft.directory/users/password/update', 'microsoft.directory/users/invalidateAllRefreshTokens'] },
  globalReader: { templateId: 'f2ef992c-3afb-46b9-b7cf-a126ee74c451', displayName: 'Global Reader', description: 'Can read everything that a Global Administrator can, but not update anything.', actions: ['microsoft.directory/users/allProperties/read', 'microsoft.directory/auditLogs/allProperties/read'] },
  conditionalAccessAdmin: { templateId: 'b1be1c3e-b65d-4f19-8427-f6fa0d97feb9', displayName: 'Conditional Access Administrator', description: 'Can manage Conditional Access capabilities.', actions: ['microsoft.directory/conditionalAccessPolicies/allProperties/allTasks'] },
  applicationAdmin: { templateId: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3', displayName: 'Application Administrator', description: 'Can create and manage all aspects of app registrations and enterprise apps.', actions: ['microsoft.directory/applications/allProperties/allTasks'] },
  authenticationAdmin: { templateId: 'c4e39bd9-1100-46d3-8c65-fb160da0071f', displayName: 'Authentication Administrator', description: 'Can access to view, set and reset authentication method information for any non-admin user.', actions: ['microsoft.directory/users/authenticationMethods/standard/restrictedRead'] },
  directoryReaders: { templateId: '88d8e3e3-8f55-4a1e-953a-9b9898b8876b', displayName: 'Directory Readers', description: 'Can read basic directory information. Commonly used to grant directory read access to applications and guests.', actions: ['microsoft.directory/users/standard/read'] },
  reportsReader: { templateId: '4a5d8f65-41da-4de4-8968-e035b65339cf', displayName: 'Reports Reader', description: 'Can read sign-in and audit reports.', actions: ['microsoft.directory/auditLogs/allProperties/read', 'microsoft.directory/signInReports/allProperties/read'] },
};

export interface RoleHolder {
  role: RoleKey;
  index: number;
}

// Roles besides Global Administrator, and how many people hold each.
const ROLE_SEATS: Array<[RoleKey, number]> = [
  ['privilegedRoleAdmin', 1],
  ['securityAdmin', 2],
  ['exchangeAdmin', 1],
  ['userAdmin', 2],
  ['helpdeskAdmin', 3],
  ['globalReader', 1],
];

/** Who holds which role: Global Administrators first, then members after them, seat by seat. */
function planRoles(tenant: SimTenant, start: number): RoleHolder[] {
  const holders: RoleHolder[] = [];
  for (let i = 0; i < Math.min(tenant.globalAdmins, tenant.userCount); i++) holders.push({ role: 'globalAdmin', index: i });
  const seats = ROLE_SEATS.flatMap(([role, n]) => Array.from({ length: n }, () => role));
  // The attack scenario's posture gap: a guest holds an administrator role.
  const guestSeat = tenant.scenario === 'attacks' ? seats.pop() : undefined;
  let i = tenant.globalAdmins;
  for (const role of seats) {
    while (i < tenant.userCount) {
      const p = personAt(tenant, i++, start);
      if (p.userType === 'Member' && p.accountEnabled) {
        holders.push({ role, index: p.index });
        break;
      }
    }
  }
  if (guestSeat) {
    for (let g = tenant.globalAdmins; g < tenant.userCount; g++) {
      if (personAt(tenant, g, start).userType === 'Guest') {
        holders.push({ role: guestSeat, index: g });
        break;
      }
    }
  }
  return holders;
}

/** Whether the person holds any administrator role (the registration report's isAdmin). */
export const isAdmin = (tenant: SimTenant, p: Person, start: number): boolean => p.globalAdmin || tenantFacts(tenant, start).rolesByIndex.has(p.index);

/** .NET Guid byte order: the first three groups little-endian. */
function guidBytes(guid: string): Buffer {
  const b = Buffer.from(guid.replace(/-/g, ''), 'hex');
  return Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
}

/** A role assignment id as Entra forms it: role template and principal ids, base64url, "-1". */
export const roleAssignmentId = (templateId: string, principalId: string): string =>
  `${guidBytes(templateId).toString('base64url')}${guidBytes(principalId).toString('base64url')}-1`;

/** Activated directory roles (those with members), with their tenant-specific object ids. */
export function directoryRoles(tenant: SimTenant, start: number): Array<{ id: string; role: RoleKey; members: number[] }> {
  const out: Array<{ id: string; role: RoleKey; members: number[] }> = [];
  for (const key of Object.keys(ROLES) as RoleKey[]) {
    const members = tenantFacts(tenant, start).roles.filter((r) => r.role === key).map((r) => r.index);
    if (members.length > 0) out.push({ id: guidOf(tenant.salt, 70, hashString(key)), role: key, members });
  }
  return out;
}

// ------------------------------------------------------------------ Identity Protection

export interface RiskyUserSpec {
  person: Person;
  level: 'low' | 'medium' | 'high' | 'none';
  state: 'atRisk' | 'remediated' | 'dismissed' | 'confirmedCompromised';
  detail: string;
  updated: number;
}

export interface RiskDetectionSpec {
  id: string;
  person: Person;
  eventType: string;
  level: 'low' | 'medium' | 'high';
  state: 'atRisk' | 'remediated' | 'dismissed';
  detail: string;
  timing: 'realtime' | 'offline';
  activity: 'signin' | 'user';
  /** The sign-in the detection came from (sign-in detections only). */
  signIn?: SignInSpec;
  ip: string | null;
  city: { city: string; state: string; country: string; latitude: number; longitude: number } | null;
  activityTime: number;
  detectedTime: number;
  updated: number;
}

const incidentCache = new WeakMap<SimTenant, { incidents: Incident[]; specs: SignInSpec[] }>();
const incidentsOf = (tenant: SimTenant, start: number, days: number) => {
  let built = incidentCache.get(tenant);
  if (!built) incidentCache.set(tenant, (built = buildIncidents(tenant, start, days)));
  return built;
};

/** Baseline risk every tenant has: a few low and medium detections, some remediated or dismissed. */
function baselineRisk(tenant: SimTenant, start: number): Array<{ p: Person; user: Omit<RiskyUserSpec, 'person'>; eventType: string; at: number }> {
  const rng = new Rng(mix(tenant.salt, 80));
  const plans = [
    { level: 'medium', state: 'atRisk', detail: 'none', eventType: 'unfamiliarFeatures' },
    { level: 'low', state: 'atRisk', detail: 'none', eventType: 'unlikelyTravel' },
    { level: 'none', state: 'remediated', detail: 'userPerformedSecuredPasswordChange', eventType: 'unfamiliarFeatures' },
    { level: 'none', state: 'dismissed', detail: 'adminDismissedAllRiskForUser', eventType: 'anonymizedIPAddress' },
  ] as const;
  const out: Array<{ p: Person; user: Omit<RiskyUserSpec, 'person'>; eventType: string; at: number }> = [];
  const used = new Set<number>();
  for (const plan of plans) {
    for (let tries = 0; tries < 50; tries++) {
      const index = tenant.globalAdmins + rng.int(Math.max(1, tenant.userCount - tenant.globalAdmins));
      const p = personAt(tenant, index, start);
      if (used.has(index) || p.userType !== 'Member' || !p.accountEnabled) continue;
      used.add(index);
      const at = start - (2 + rng.int(25)) * DAY - rng.int(DAY);
      out.push({ p, user: { level: plan.level, state: plan.state, detail: plan.detail, updated: at + (plan.state === 'atRisk' ? 3 : 26) * HOUR }, eventType: plan.eventType, at });
      break;
    }
  }
  return out;
}

/** Risky users: the attack scenario's flagged users, then the baseline; newest first. */
export function riskyUsers(tenant: SimTenant, start: number, days: number): RiskyUserSpec[] {
  const { incidents, specs } = incidentsOf(tenant, start, days);
  const out: RiskyUserSpec[] = [];
  for (const incident of incidents.filter((i) => i.kind === 'risky-user')) {
    for (const userId of incident.userIds) {
      const last = specs.filter((s) => s.incident === incident.id && s.person?.id === userId).at(-1);
      if (last?.person) out.push({ person: last.person, level: 'high', state: 'atRisk', detail: 'none', updated: last.time + 4 * 60_000 });
    }
  }
  for (const b of baselineRisk(tenant, start)) if (!out.some((u) => u.person.id === b.p.id)) out.push({ person: b.p, ...b.user });
  return out.sort((a, b) => b.updated - a.updated);
}

/** Risk detections: per risky sign-in a real-time one for each risk event, plus the baseline. */
export function riskDetections(tenant: SimTenant, start: number, days: number): RiskDetectionSpec[] {
  const { specs } = incidentsOf(tenant, start, days);
  const out: RiskDetectionSpec[] = [];
  for (const s of specs) {
    if (!s.person || s.risk.level === 'none') continue;
    for (const eventType of s.risk.eventTypes) {
      // leaked credentials are found offline, against the user, with no sign-in behind them
      const offline = eventType === 'leakedCredentials';
      out.push({
        id: guidOf(tenant.salt, 81, hashString(s.id), hashString(eventType)),
        person: s.person,
        eventType,
        level: s.risk.level === 'low' ? 'low' : s.risk.level === 'medium' ? 'medium' : 'high',
        state: 'atRisk',
        detail: 'none',
        timing: offline ? 'offline' : 'realtime',
        activity: offline ? 'user' : 'signin',
        ...(offline ? {} : { signIn: s }),
        ip: offline ? null : s.ip,
        city: offline ? null : { city: s.city.city, state: s.city.state, country: s.city.country, latitude: s.city.latitude, longitude: s.city.longitude },
        activityTime: s.time,
        detectedTime: s.time + (offline ? 3 * HOUR : 2 * 60_000),
        updated: s.time + (offline ? 3 * HOUR : 2 * 60_000),
      });
    }
  }
  for (const b of baselineRisk(tenant, start)) {
    const city = b.p.home;
    out.push({
      id: guidOf(tenant.salt, 82, b.p.index),
      person: b.p,
      eventType: b.eventType,
      level: b.user.level === 'low' ? 'low' : 'medium',
      state: b.user.state === 'atRisk' ? 'atRisk' : b.user.state === 'remediated' ? 'remediated' : 'dismissed',
      detail: b.user.detail,
      timing: 'realtime',
      activity: 'signin',
      ip: `${city.prefix}.${b.p.index % 256}.${1 + (b.p.index % 254)}`,
      city: { city: city.city, state: city.state, country: city.country, latitude: city.latitude, longitude: city.longitude },
      activityTime: b.at,
      detectedTime: b.at + 2 * 60_000,
      updated: b.user.updated,
    });
  }
  return out.sort((a, b) => b.activityTime - a.activityTime);
}

export function renderRiskyUser(u: RiskyUserSpec): Record<string, unknown> {
  return {
    id: u.person.id,
    isDeleted: false,
    isProcessing: false,
    riskLastUpdatedDateTime: isoTicks(u.updated, mix(u.updated) % 10_000),
    riskLevel: u.level,
    riskState: u.state,
    riskDetail: u.detail,
    userDisplayName: u.person.displayName,
    userPrincipalName: u.person.userPrincipalName,
  };
}

export function renderRiskDetection(d: RiskDetectionSpec): Record<string, unknown> {
  const ticks = mix(hashString(d.id)) % 10_000;
  return {
    id: d.id,
    requestId: d.signIn?.id ?? null,
    correlationId: d.signIn?.correlationId ?? null,
    riskEventType: d.eventType,
    riskState: d.state,
    riskLevel: d.level,
    riskDetail: d.detail,
    source: d.timing === 'offline' ? 'IdentityProtection' : 'activeDirectory',
    detectionTimingType: d.timing,
    activity: d.activity,
    tokenIssuerType: 'AzureAD',
    ipAddress: d.ip,
    location: d.city ? { city: d.city.city, state: d.city.state, countryOrRegion: d.city.country, geoCoordinates: { altitude: null, latitude: d.city.latitude, longitude: d.city.longitude } } : null,
    activityDateTime: isoTicks(d.activityTime, ticks),
    detectedDateTime: isoTicks(d.detectedTime, ticks),
    lastUpdatedDateTime: isoTicks(d.updated, ticks),
    userId: d.person.id,
    userDisplayName: d.person.displayName,
    userPrincipalName: d.person.userPrincipalName,
    additionalInfo: d.signIn ? JSON.stringify([{ Key: 'userAgent', Value: d.person.device.userAgent }]) : '[]',
  };
}

// ------------------------------------------------------------------ Intune devices

const DEVICE_MODELS: Record<string, { os: string; version: string; model: string; manufacturer: string; enrollment: string }> = {
  Windows10: { os: 'Windows', version: '10.0.22631.4460', model: 'Surface Laptop 5', manufacturer: 'Microsoft Corporation', enrollment: 'windowsAzureADJoin' },
  MacOs: { os: 'macOS', version: '15.1 (24B83)', model: 'MacBook Pro', manufacturer: 'Apple', enrollment: 'userEnrollment' },
  Ios: { os: 'iOS', version: '18.1', model: 'iPhone 15', manufacturer: 'Apple', enrollment: 'userEnrollment' },
  Android: { os: 'Android', version: '14', model: 'Pixel 8', manufacturer: 'Google', enrollment: 'userEnrollment' },
};

/** Device `slot` (0 the person's computer, 1 a phone) of person `index`, when it exists. */
export function managedDevice(tenant: SimTenant, index: number, slot: 0 | 1, start: number): Record<string, unknown> | undefined {
  const p = personAt(tenant, index, start);
  if (!p.deviceId || p.userType !== 'Member') return undefined;
  const rng = new Rng(mix(tenant.salt, 90, index, slot));
  if (slot === 1 && !rng.chance(0.3)) return undefined;
  const os = slot === 0 ? p.device.operatingSystem : rng.pick(['Ios', 'Android']);
  const m = DEVICE_MODELS[os] ?? DEVICE_MODELS.Windows10!;
  const phone = m.os === 'iOS' || m.os === 'Android';
  const enrolled = Math.max(p.createdDateTime, start - (30 + rng.int(600)) * DAY);
  const stale = rng.chance(0.05);
  const lastSync = stale ? start - (35 + rng.int(120)) * DAY : start - rng.int(36 * HOUR);
  const compliant = !stale && !rng.chance(tenant.scenario === 'attacks' ? 0.2 : 0.07);
  const mac = () => Array.from({ length: 6 }, () => rng.int(256).toString(16).padStart(2, '0')).join('').toUpperCase();
  const deviceName = slot === 0 && m.os === 'Windows' ? `DESKTOP-${p.deviceId.slice(0, 7).toUpperCase()}` : `${p.givenName}'s ${m.model}`;
  const upnLocal = p.userPrincipalName.split('@')[0]!;
  const enrolledDate = new Date(enrolled);
  const stamp = `${enrolledDate.getUTCMonth() + 1}/${enrolledDate.getUTCDate()}/${enrolledDate.getUTCFullYear()}_${enrolledDate.getUTCHours()}:${String(enrolledDate.getUTCMinutes()).padStart(2, '0')} ${enrolledDate.getUTCHours() < 12 ? 'AM' : 'PM'}`;
  const storage = (phone ? 128 : 512) * 1024 ** 3;
  // Property order and the placeholder values Intune returns for what it does not track
  // (0001-01-01 dates, empty strings) follow Microsoft's managedDevice example.
  return {
    id: guidOf(tenant.salt, 91, index, slot),
    userId: p.id,
    deviceName,
    managedDeviceOwnerType: slot === 0 ? 'company' : 'personal',
    deviceActionResults: [],
    enrolledDateTime: isoSeconds(enrolled),
    lastSyncDateTime: isoSeconds(lastSync),
    operatingSystem: m.os,
    complianceState: compliant ? 'compliant' : 'noncompliant',
    jailBroken: phone ? 'False' : 'Unknown',
    managementAgent: 'mdm',
    osVersion: m.version,
    easActivated: false,
    easDeviceId: '',
    easActivationDateTime: '0001-01-01T00:00:00Z',
    azureADRegistered: true,
    deviceEnrollmentType: slot === 0 ? m.enrollment : 'userEnrollment',
    activationLockBypassCode: null,
    emailAddress: p.mail,
    azureADDeviceId: slot === 0 ? p.deviceId : guidOf(tenant.salt, 92, index),
    deviceRegistrationState: 'registered',
    deviceCategoryDisplayName: 'Unknown Category',
    isSupervised: false,
    exchangeLastSuccessfulSyncDateTime: '0001-01-01T00:00:00Z',
    exchangeAccessState: 'none',
    exchangeAccessStateReason: 'none',
    remoteAssistanceSessionUrl: null,
    remoteAssistanceSessionErrorDetails: null,
    isEncrypted: compliant || rng.chance(0.5),
    userPrincipalName: p.userPrincipalName,
    model: m.model,
    manufacturer: m.manufacturer,
    imei: phone ? String(350_000_000_000_000 + rng.int(99_999_999) * 1000 + rng.int(1000)) : '',
    complianceGracePeriodExpirationDateTime: '9999-12-31T23:59:59Z',
    serialNumber: rng.guid().replace(/-/g, '').slice(0, 12).toUpperCase(),
    phoneNumber: '',
    androidSecurityPatchLevel: m.os === 'Android' ? '2024-11-01' : '',
    userDisplayName: p.displayName,
    configurationManagerClientEnabledFeatures: null,
    wiFiMacAddress: mac(),
    deviceHealthAttestationState: null,
    subscriberCarrier: '',
    meid: '',
    totalStorageSpaceInBytes: storage,
    freeStorageSpaceInBytes: Math.floor(storage * (0.1 + rng.next() * 0.6)),
    managedDeviceName: `${upnLocal}_${m.os}_${stamp}`,
    partnerReportedThreatState: 'unknown',
    iccid: null,
    udid: null,
    notes: null,
    ethernetMacAddress: null,
    physicalMemoryInBytes: 0,
  };
}

// ------------------------------------------------------------------ licences and organization

interface ServicePlan {
  id: string;
  name: string;
  /** The organization's assignedPlans service name. */
  service: string;
}
const PLANS = {
  exchangeFoundation: { id: '113feb6c-3fe4-4440-bddc-54d774bf0318', name: 'EXCHANGE_S_FOUNDATION', service: 'exchange' },
  exchangeP2: { id: 'efb87545-963c-4e0d-99df-69c6916d9eb0', name: 'EXCHANGE_S_ENTERPRISE', service: 'exchange' },
  exchangeP1: { id: '9aaf7827-d63c-4b61-89c3-182f06f82e5c', name: 'EXCHANGE_S_STANDARD', service: 'exchange' },
  sharepointP2: { id: '5dbe027f-2339-4123-9542-606e4d348a72', name: 'SHAREPOINTENTERPRISE', service: 'SharePoint' },
  sharepointP1: { id: 'c7699d2e-19aa-44de-8edf-1736da088ca1', name: 'SHAREPOINTSTANDARD', service: 'SharePoint' },
  teams: { id: '57ff2da0-773e-42df-b2af-ffb7a2317929', name: 'TEAMS1', service: 'TeamspaceAPI' },
  entraP1: { id: '41781fb2-bc02-4b7c-bd55-b576c07bb09d', name: 'AAD_PREMIUM', service: 'AADPremiumService' },
  entraP2: { id: 'eec0eb4f-6444-4f95-aba0-50c24d67f998', name: 'AAD_PREMIUM_P2', service: 'AADPremiumService' },
  mfa: { id: '8a256a2b-b617-496d-b51b-e76466e88db0', name: 'MFA_PREMIUM', service: 'MultiFactorService' },
  cloudAppDiscovery: { id: '932ad362-64a8-4783-9106-97849a1a30b9', name: 'ADALLOM_S_DISCOVERY', service: 'Adallom' },
  intune: { id: 'c1ec4a95-1f05-45b3-a911-aa3fa01094f5', name: 'INTUNE_A', service: 'SCO' },
} satisfies Record<string, ServicePlan>;

interface Sku {
  skuId: string;
  skuPartNumber: string;
  plans: ServicePlan[];
}
// Product ids and included service plans: "Product names and service plan identifiers for
// licensing" (Entra docs), abridged to the plans that matter here.
const SKUS = {
  office365E3: { skuId: '6fd2c87f-b296-42f0-b197-1e91e994b900', skuPartNumber: 'ENTERPRISEPACK', plans: [PLANS.exchangeP2, PLANS.exchangeFoundation, PLANS.sharepointP2, PLANS.teams] },
  businessBasic: { skuId: '3b555118-da6a-4418-894f-7df1e2096870', skuPartNumber: 'O365_BUSINESS_ESSENTIALS', plans: [PLANS.exchangeP1, PLANS.sharepointP1, PLANS.teams] },
  entraP1: { skuId: '078d2b04-f1bd-4111-bbd4-b4b1b354cef4', skuPartNumber: 'AAD_PREMIUM', plans: [PLANS.entraP1, PLANS.cloudAppDiscovery, PLANS.exchangeFoundation, PLANS.mfa] },
  entraP2: { skuId: '84a661c4-e949-4bd2-a560-ed7766fcaf2b', skuPartNumber: 'AAD_PREMIUM_P2', plans: [PLANS.entraP1, PLANS.entraP2, PLANS.cloudAppDiscovery, PLANS.exchangeFoundation, PLANS.mfa] },
  intune: { skuId: '061f9ace-7d42-4136-88ac-31dc755f143f', skuPartNumber: 'INTUNE_A', plans: [PLANS.intune] },
} satisfies Record<string, Sku>;

/** The tenant's subscriptions: Office 365 for everyone, Entra premium and Intune by licence. */
function tenantSkus(tenant: SimTenant): Sku[] {
  if (tenant.licence === 'free') return [SKUS.businessBasic]; // no Entra premium plan at all
  return [SKUS.office365E3, tenant.licence === 'p2' ? SKUS.entraP2 : SKUS.entraP1, ...(tenant.intune ? [SKUS.intune] : [])];
}

export function renderSubscribedSkus(tenant: SimTenant, start: number): Record<string, unknown>[] {
  const members = tenantFacts(tenant, start).members;
  return tenantSkus(tenant).map((sku, k) => {
    const consumed = sku.skuPartNumber === 'INTUNE_A' ? Math.round(members * 0.8) : members;
    return {
      accountName: tenant.displayName,
      accountId: tenant.id,
      appliesTo: 'User',
      capabilityStatus: 'Enabled',
      consumedUnits: consumed,
      id: `${tenant.id}_${sku.skuId}`,
      prepaidUnits: { enabled: Math.ceil((consumed + 5) / 25) * 25, lockedOut: 0, suspended: 0, warning: 0 },
      servicePlans: sku.plans.map((p) => ({ servicePlanId: p.id, servicePlanName: p.name, provisioningStatus: 'Success', appliesTo: p === PLANS.exchangeFoundation ? 'Company' : 'User' })),
      skuId: sku.skuId,
      skuPartNumber: sku.skuPartNumber,
      subscriptionIds: [guidOf(tenant.salt, 95, k)],
    };
  });
}

/** When the tenant was created: before its oldest user. */
export const tenantCreated = (tenant: SimTenant, start: number): number => start - (1600 + (tenant.salt % 200)) * DAY;

export function renderOrganization(tenant: SimTenant, start: number): Record<string, unknown> {
  const created = tenantCreated(tenant, start);
  const assigned = new Map<string, ServicePlan>();
  for (const sku of tenantSkus(tenant)) for (const p of sku.plans) assigned.set(p.id, p);
  const services = [...new Set([...assigned.values()].map((p) => p.service))];
  const customDomain = tenant.domains[1];
  return {
    id: tenant.id,
    deletedDateTime: null,
    businessPhones: ['425-555-0100'],
    city: 'Redmond',
    country: 'United States',
    countryLetterCode: 'US',
    createdDateTime: isoSeconds(created),
    defaultUsageLocation: 'US',
    displayName: tenant.displayName,
    marketingNotificationEmails: [],
    onPremisesLastSyncDateTime: isoSeconds(start - 23 * 60_000),
    onPremisesSyncEnabled: true,
    partnerTenantType: null,
    postalCode: '98052',
    preferredLanguage: 'en',
    securityComplianceNotificationMails: [],
    securityComplianceNotificationPhones: [],
    state: 'WA',
    street: '1 Microsoft Way',
    technicalNotificationMails: [`admin@${customDomain ?? tenant.initialDomain}`],
    tenantType: 'AAD',
    assignedPlans: [...assigned.values()].map((p) => ({ assignedDateTime: isoSeconds(created + 2 * DAY), capabilityStatus: 'Enabled', service: p.service, servicePlanId: p.id })),
    privacyProfile: { contactEmail: '', statementUrl: '' },
    provisionedPlans: services.map((service) => ({ capabilityStatus: 'Enabled', provisioningStatus: 'Success', service })),
    verifiedDomains: tenant.domains.map((name) => ({
      capabilities: name === tenant.initialDomain ? 'Email, OfficeCommunicationsOnline' : 'Email, OfficeCommunicationsOnline, OrgIdAuthentication',
      isDefault: name === (customDomain ?? tenant.initialDomain),
      isInitial: name === tenant.initialDomain,
      name,
      type: 'Managed',
    })),
  };
}

// ------------------------------------------------------------------ directory audit log

// Mean-one weights by UTC hour, as sign-ins (administrators work office hours too).
const AUDIT_DIURNAL = [0.3, 0.3, 0.3, 0.3, 0.4, 0.6, 1.0, 1.4, 1.6, 1.7, 1.6, 1.5, 1.4, 1.5, 1.7, 1.8, 1.6, 1.3, 1.0, 0.8, 0.6, 0.5, 0.4, 0.3];

/** How many audit events a tenant logs in an hour (a few an hour, more in working hours). */
export function auditCountIn(tenant: SimTenant, hour: number): number {
  const t = hour * HOUR;
  const day = new Date(t).getUTCDay();
  const perHour = (2 + tenant.userCount / 250) * AUDIT_DIURNAL[new Date(t).getUTCHours()]! * (day === 0 || day === 6 ? 0.3 : 1.2);
  return Math.floor(perHour + mix(tenant.salt, 100, hour) / 4294967296);
}

/** When audit event i of n in an hour happened: rising with i, so an hour is ordered without generating it. */
export const auditTimeOf = (tenant: SimTenant, hour: number, i: number, n: number): number => hour * HOUR + Math.floor(((i + mix(tenant.salt, 101, hour, i) / 4294967296) / n) * HOUR);

const GROUP_NAMES = ['All Staff', 'Sales Team', 'Finance Approvers', 'VPN Users', 'Engineering', 'Project Falcon', 'Marketing', 'Helpdesk Operators'];
/** The Microsoft service that writes directory changes coming from Exchange and sync. */
const systemApp = (tenant: SimTenant) => ({ appId: null, displayName: 'Microsoft Substrate Management', servicePrincipalId: guidOf(tenant.salt, 104), servicePrincipalName: null });

type AuditKind = 'updateUser' | 'addMember' | 'selfServiceReset' | 'adminReset' | 'addUser' | 'appCredential' | 'addRoleMember' | 'consent' | 'deleteUser';
const AUDIT_MIX: ReadonlyArray<readonly [AuditKind, number]> = [
  ['updateUser', 30],
  ['addMember', 20],
  ['selfServiceReset', 8],
  ['adminReset', 6],
  ['addUser', 4],
  ['appCredential', 3],
  ['consent', 2],
  ['deleteUser', 2],
  ['addRoleMember', 1],
];

/** Audit event i of the hour, as Graph's directoryAudit (v1.0 properties only). */
export function auditEvent(tenant: SimTenant, start: number, hour: number, i: number, time: number): Record<string, unknown> {
  const rng = new Rng(mix(tenant.salt, 102, hour, i));
  const correlationId = rng.guid();
  const kind = rng.weighted(AUDIT_MIX);
  const person = (from: number) => personAt(tenant, from + rng.int(Math.max(1, tenant.userCount - from)), start);
  const admin = personAt(tenant, rng.int(Math.max(1, Math.min(tenant.globalAdmins, tenant.userCount))), start);
  const target = person(0);
  const byUser = (p: Person, ip = p.homeIp) => ({ user: { id: p.id, displayName: p.displayName, userPrincipalName: p.userPrincipalName, ipAddress: ip }, app: null });
  const userTarget = (p: Person, modified: Array<[string, string | null, string | null]> = []) => ({
    id: p.id,
    displayName: null,
    type: 'User',
    userPrincipalName: p.userPrincipalName,
    groupType: null,
    modifiedProperties: modified.map(([displayName, oldValue, newValue]) => ({ displayName, oldValue, newValue })),
  });
  let category = 'UserManagement';
  let service = 'Core Directory';
  let activity: string;
  let operationType: string;
  let initiatedBy: Record<string, unknown> = byUser(admin);
  let targets: Record<string, unknown>[];
  let details: Array<{ key: string; value: string }> = [{ key: 'UserType', value: target.userType }];
  switch (kind) {
    case 'updateUser': {
      activity = 'Update user';
      operationType = 'Update';
      const fromSync = target.synced && rng.chance(0.5);
      if (fromSync) initiatedBy = { user: null, app: systemApp(tenant) };
      targets = [userTarget(target, [['JobTitle', '["Specialist"]', '["Manager"]'], ['Included Updated Properties', null, '"JobTitle"']])];
      break;
    }
    case 'addMember': {
      category = 'GroupManagement';
      activity = 'Add member to group';
      operationType = 'Assign';
      const g = rng.int(GROUP_NAMES.length);
      targets = [
        { id: guidOf(tenant.salt, 103, g), displayName: GROUP_NAMES[g]!, type: 'Group', userPrincipalName: null, groupType: g % 2 === 0 ? 'unifiedGroups' : 'azureAD', modifiedProperties: [{ displayName: 'Group.DisplayName', oldValue: null, newValue: `"${GROUP_NAMES[g]!}"` }] },
        userTarget(target),
      ];
      break;
    }
    case 'selfServiceReset':
      service = 'Self-service Password Management';
      activity = 'Reset password (self-service)';
      operationType = 'Update';
      initiatedBy = byUser(target);
      targets = [userTarget(target)];
      details = [];
      break;
    case 'adminReset':
      activity = 'Reset user password';
      operationType = 'Update';
      targets = [userTarget(target)];
      break;
    case 'addUser':
      activity = 'Add user';
      operationType = 'Add';
      targets = [userTarget(target, [['AccountEnabled', '[]', '[true]'], ['DisplayName', '[]', `["${target.displayName}"]`]])];
      break;
    case 'deleteUser':
      activity = 'Delete user';
      operationType = 'Delete';
      targets = [userTarget(target)];
      break;
    case 'appCredential': {
      category = 'ApplicationManagement';
      activity = 'Update application – Certificates and secrets management '; // sic: Entra's name ends in a space
      operationType = 'Update';
      const apps = applications(tenant, start);
      const app = apps[rng.int(apps.length)]!;
      targets = [{ id: app.id, displayName: app.displayName, type: 'Application', userPrincipalName: null, groupType: null, modifiedProperties: [{ displayName: 'KeyDescription', oldValue: '[]', newValue: `["[KeyIdentifier=${rng.guid()},KeyType=Password,KeyUsage=Verify,DisplayName=Production]"]` }] }];
      details = [{ key: 'AppId', value: app.appId }];
      break;
    }
    case 'consent': {
      category = 'ApplicationManagement';
      activity = 'Consent to application';
      operationType = 'Assign';
      initiatedBy = byUser(target);
      const app = APPS[rng.int(APPS.length)]!;
      targets = [{ id: guidOf(tenant.salt, 51, hashString(app.appId)), displayName: app.name, type: 'ServicePrincipal', userPrincipalName: null, groupType: null, modifiedProperties: [{ displayName: 'ConsentAction.Permissions', oldValue: null, newValue: '"Scope: User.Read"' }] }];
      details = [{ key: 'AppId', value: app.appId }];
      break;
    }
    case 'addRoleMember': {
      category = 'RoleManagement';
      activity = 'Add member to role';
      operationType = 'Assign';
      const role = ROLES.helpdeskAdmin;
      targets = [userTarget(target, [['Role.DisplayName', null, `"${role.displayName}"`], ['Role.TemplateId', null, `"${role.templateId}"`]])];
      break;
    }
  }
  const prefix = service === 'Self-service Password Management' ? 'SSPR' : 'Directory';
  return {
    id: `${prefix}_${correlationId}_${rng.guid().slice(0, 5).toUpperCase()}_${100_000_000 + rng.int(900_000_000)}`,
    category,
    correlationId,
    result: 'success',
    resultReason: '',
    activityDisplayName: activity,
    activityDateTime: isoTicks(time, rng.int(10_000)),
    loggedByService: service,
    operationType,
    initiatedBy,
    targetResources: targets,
    additionalDetails: details,
  };
}
