// Users' authentication methods, generated from the seed: everyone has a password; most people
// have registered a second factor (authenticator, phones, OATH codes), administrators often a
// security key, some Windows users Windows Hello; a few have an email method or an expired
// Temporary Access Pass. The run-time state is the overlay of methods deleted through Graph
// (state.posture); users added at run time have their password only.
import { mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import type { DirUser } from './directory.js';
import type { Person } from './people.js';
import { DAY, isoSeconds } from './time.js';

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

const COUNTRY_CODES: Record<string, string> = {
  US: '+1',
  CA: '+1',
  GB: '+44',
  IE: '+353',
  NL: '+31',
  DE: '+49',
  FR: '+33',
  ES: '+34',
};
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

/** Everyone's first method: the password, set when the account was created. */
const passwordMethod = (p: Person): AuthMethod => ({
  collection: 'passwordMethods',
  id: PASSWORD_METHOD_ID,
  record: { id: PASSWORD_METHOD_ID, password: null, createdDateTime: isoSeconds(p.createdDateTime) },
  mfa: false,
});

/** The person's authentication methods as generated (nothing deleted). */
export function methodPlan(tenant: SimTenant, p: Person, start: number): MethodPlan {
  const rng = new Rng(mix(tenant.salt, 60, p.index));
  const created = (minDays: number) => Math.max(p.createdDateTime, start - (minDays + rng.int(300)) * DAY);
  const methods: AuthMethod[] = [passwordMethod(p)];
  const cc = COUNTRY_CODES[p.home.country] ?? '+1';
  const number = () => `${cc} ${200 + rng.int(800)}${String(rng.int(10_000_000)).padStart(7, '0')}`;
  const phone = (phoneType: keyof typeof PHONE_METHOD_IDS, registered: string) =>
    methods.push({
      collection: 'phoneMethods',
      id: PHONE_METHOD_IDS[phoneType],
      record: {
        id: PHONE_METHOD_IDS[phoneType],
        phoneNumber: number(),
        phoneType,
        smsSignInState: 'notAllowedByPolicy',
      },
      phoneType,
      registered,
      mfa: true,
    });
  const authenticator = () => {
    const id = rng.guid();
    methods.push({
      collection: 'microsoftAuthenticatorMethods',
      id,
      record: {
        id,
        displayName: rng.pick(AUTHENTICATOR_DEVICES),
        deviceTag: 'SoftwareTokenActivated',
        phoneAppVersion: `6.2${rng.int(10)}${String(rng.int(100)).padStart(2, '0')}.${1000 + rng.int(9000)}`,
        createdDateTime: isoSeconds(created(20)),
      },
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
    if (profile === 'authenticatorAndMobile' || profile === 'authenticator' || profile === 'oathAndAuthenticator')
      authenticator();
    if (
      profile === 'authenticatorAndMobile' ||
      profile === 'mobile' ||
      profile === 'mobileAndAlternate' ||
      profile === 'mobileAndOffice'
    )
      phone('mobile', 'mobilePhone');
    if (profile === 'mobileAndAlternate') phone('alternateMobile', 'alternateMobilePhone');
    if (profile === 'mobileAndOffice') phone('office', 'officePhone');
    if (profile === 'oathAndAuthenticator') {
      const id = rng.guid();
      methods.push({
        collection: 'softwareOathMethods',
        id,
        record: { id, secretKey: null, createdDateTime: isoSeconds(created(30)) },
        registered: 'softwareOneTimePasscode',
        mfa: true,
      });
    }
    preferred =
      profile === 'mobile' || profile === 'mobileAndOffice'
        ? rng.chance(0.6)
          ? 'sms'
          : 'voiceMobile'
        : profile === 'mobileAndAlternate'
          ? rng.chance(0.25)
            ? 'voiceAlternateMobile'
            : 'sms'
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
        record: {
          id,
          displayName: key.model,
          createdDateTime: isoSeconds(created(10)),
          aaGuid: key.aaGuid,
          model: key.model,
          attestationCertificates: [rng.guid().replace(/-/g, '') + rng.guid().replace(/-/g, '').slice(0, 8)],
          attestationLevel: 'attested',
          passkeyType: 'deviceBound',
        },
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
        record: {
          id,
          displayName: `DESKTOP-${p.deviceId.slice(0, 7).toUpperCase()}`,
          createdDateTime: isoSeconds(created(15)),
          keyStrength: 'normal',
        },
        registered: 'windowsHelloForBusiness',
        mfa: true,
      });
    }
  }
  if (p.userType === 'Member' && rng.chance(0.3)) {
    methods.push({
      collection: 'emailMethods',
      id: EMAIL_METHOD_ID,
      record: { id: EMAIL_METHOD_ID, emailAddress: `${p.givenName}.${p.surname}@outlook.example`.toLowerCase() },
      registered: 'email',
      mfa: false,
    });
  }
  // A new starter onboarded with a Temporary Access Pass (now expired).
  if (p.userType === 'Member' && rng.chance(0.02)) {
    const id = rng.guid();
    const at = Math.max(p.createdDateTime, start - (1 + rng.int(20)) * DAY);
    methods.push({
      collection: 'temporaryAccessPassMethods',
      id,
      record: {
        id,
        temporaryAccessPass: null,
        createdDateTime: isoSeconds(at),
        startDateTime: isoSeconds(at),
        lifetimeInMinutes: 60,
        isUsableOnce: true,
        isUsable: false,
        methodUsabilityReason: 'Expired',
      },
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

/**
 * The user's methods now: the generated plan minus what was deleted. A user added at run time
 * has registered nothing yet: the password it was created with is its only method.
 */
export function currentMethods(tenant: SimTenant, u: DirUser, start: number, overlay: PostureOverlay): MethodPlan {
  const p = u.person;
  const plan = u.added
    ? { methods: [passwordMethod(p)], preferred: 'none' as const, lastUpdated: p.createdDateTime }
    : methodPlan(tenant, p, start);
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
  const phoneFor: Partial<Record<SecondaryMethod, keyof typeof PHONE_METHOD_IDS>> = {
    sms: 'mobile',
    voiceMobile: 'mobile',
    voiceAlternateMobile: 'alternateMobile',
    voiceOffice: 'office',
  };
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
