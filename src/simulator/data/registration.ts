// The MFA registration report's record for a user (userRegistrationDetails), derived from the
// user's current authentication methods so that deleting one shows in the report.
import { mix } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { effectivePreferred, type MethodPlan } from './auth-methods.js';
import type { Person } from './people.js';
import { isoTicks } from './time.js';

/** The order the report lists methodsRegistered in. */
const REGISTERED_ORDER = [
  'mobilePhone',
  'alternateMobilePhone',
  'officePhone',
  'microsoftAuthenticatorPush',
  'softwareOneTimePasscode',
  'passKeyDeviceBound',
  'windowsHelloForBusiness',
  'email',
  'temporaryAccessPass',
];

/** The userRegistrationDetails record of `p` (as the directory shows the user now), consistent with its current methods. */
export function renderRegistration(
  tenant: SimTenant,
  p: Person,
  plan: MethodPlan,
  isAdmin: boolean,
): Record<string, unknown> {
  const registered = plan.methods.map((m) => m.registered).filter((r): r is string => r !== undefined);
  registered.sort((a, b) => REGISTERED_ORDER.indexOf(a) - REGISTERED_ORDER.indexOf(b));
  const mfa = plan.methods.some((m) => m.mfa);
  const preferred = effectivePreferred(plan);
  const ssprEnabled = p.userType === 'Member' && (tenant.licence !== 'free' || isAdmin); // SSPR for users needs P1; admins always have it
  const ssprRegistered = plan.methods.some(
    (m) =>
      m.collection === 'phoneMethods' ||
      m.collection === 'microsoftAuthenticatorMethods' ||
      m.collection === 'emailMethods' ||
      m.collection === 'softwareOathMethods',
  );
  const systemPreferred =
    preferred === 'none'
      ? []
      : [
          plan.methods.some((m) => m.collection === 'microsoftAuthenticatorMethods')
            ? 'push'
            : plan.methods.some((m) => m.collection === 'softwareOathMethods')
              ? 'oath'
              : preferred === 'voiceMobile'
                ? 'sms'
                : preferred,
        ];
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
    isPasswordlessCapable: plan.methods.some(
      (m) => m.collection === 'fido2Methods' || m.collection === 'windowsHelloForBusinessMethods',
    ),
    lastUpdatedDateTime: isoTicks(plan.lastUpdated, mix(p.index, 61) % 10_000),
    methodsRegistered: registered,
    isSystemPreferredAuthenticationMethodEnabled: true,
    systemPreferredAuthenticationMethods: systemPreferred,
    userPreferredMethodForSecondaryAuthentication: preferred,
    userType: p.userType === 'Guest' ? 'guest' : 'member',
  };
}
