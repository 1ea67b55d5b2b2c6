// What a sign-in says about its client: the user agent it sent and deviceDetail as Entra derives
// it. What Entra cannot know is written as Microsoft's examples write it, which differ by
// version: v1.0's (signin-list, signin-get) show null for the display name, compliance, managed
// state and trust type of an unregistered device; beta's (signin-list 2021, signin-get 2025) show
// "" and false there. Both show deviceId "" (never null), and an OS or browser Entra could not
// derive is null in both (a beta capture of a real tenant: Microsoft-Extractor-Suite#76).
import { LEGACY_AGENTS } from './catalog.js';
import { primaryDeviceName } from './devices.js';
import { mix } from '../random.js';
import type { SignInSpec } from './signins.js';

export interface SignInClient {
  /** Service principals and managed identities send none: "" (beta's convention for unknown text). */
  userAgent: string;
  deviceDetail: Record<string, unknown>;
}

/** clientAppUsed values of modern clients; everything else is a legacy protocol. */
export const isLegacyClient = (clientAppUsed: string): boolean =>
  !['Browser', 'Mobile Apps and Desktop clients', ''].includes(clientAppUsed);

export function signInClient(s: SignInSpec, beta: boolean): SignInClient {
  const person = s.person;
  const unknownText = beta ? '' : null;
  const unknownFlag = beta ? false : null;
  const unregistered = (operatingSystem: string | null) => ({
    deviceId: '',
    displayName: unknownText,
    operatingSystem,
    browser: null,
    isCompliant: unknownFlag,
    isManaged: unknownFlag,
    trustType: unknownText,
  });
  if (!person) return { userAgent: '', deviceDetail: unregistered(null) };
  if (isLegacyClient(s.clientAppUsed)) {
    // A legacy client presents no device identity, whatever the person's registered device.
    const agent = s.clientAppUsed !== 'Exchange ActiveSync' ? LEGACY_AGENTS.basic : activeSyncAgent(s);
    return { userAgent: agent.userAgent, deviceDetail: unregistered(agent.operatingSystem) };
  }
  const device = s.device ?? person.device;
  if (s.device || !person.deviceId)
    return {
      userAgent: device.userAgent,
      deviceDetail: { ...unregistered(device.operatingSystem), browser: device.browser },
    };
  const windows = device.operatingSystem === 'Windows10';
  return {
    userAgent: device.userAgent,
    deviceDetail: {
      deviceId: person.deviceId,
      displayName: primaryDeviceName(person),
      operatingSystem: device.operatingSystem,
      browser: device.browser,
      isCompliant: true,
      isManaged: true,
      trustType: !windows ? 'Azure AD registered' : person.synced ? 'Hybrid Azure AD joined' : 'Azure AD joined',
    },
  };
}

/** The phone behind an ActiveSync sign-in: iPhone users' Mail app, else a Samsung phone (a pure function of the sign-in). */
function activeSyncAgent(s: SignInSpec): (typeof LEGACY_AGENTS)['activeSyncIos' | 'activeSyncAndroid'] {
  const apple =
    s.person?.device.operatingSystem === 'Ios' ||
    s.person?.device.operatingSystem === 'MacOs' ||
    mix(s.ticks, s.time) % 2 === 0;
  return apple ? LEGACY_AGENTS.activeSyncIos : LEGACY_AGENTS.activeSyncAndroid;
}
