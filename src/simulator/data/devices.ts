// Intune's managed devices: each member with a device has their computer (slot 0) and, three
// times in ten, a phone (slot 1); a few are stale or noncompliant (more in the attack scenario).
import { guidOf, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { personAt, type Person } from './people.js';
import { DAY, HOUR, isoSeconds } from './time.js';

const DEVICE_MODELS: Record<
  string,
  { os: string; version: string; model: string; manufacturer: string; enrollment: string }
> = {
  Windows10: {
    os: 'Windows',
    version: '10.0.22631.4460',
    model: 'Surface Laptop 5',
    manufacturer: 'Microsoft Corporation',
    enrollment: 'windowsAzureADJoin',
  },
  MacOs: {
    os: 'macOS',
    version: '15.1 (24B83)',
    model: 'MacBook Pro',
    manufacturer: 'Apple',
    enrollment: 'userEnrollment',
  },
  Ios: { os: 'iOS', version: '18.1', model: 'iPhone 15', manufacturer: 'Apple', enrollment: 'userEnrollment' },
  Android: { os: 'Android', version: '14', model: 'Pixel 8', manufacturer: 'Google', enrollment: 'userEnrollment' },
};

/** The name of a person's registered device (Intune's deviceName, the sign-in log's deviceDetail.displayName). */
export function primaryDeviceName(p: Person): string {
  const m = DEVICE_MODELS[p.device.operatingSystem] ?? DEVICE_MODELS.Windows10!;
  return m.os === 'Windows' ? `DESKTOP-${p.deviceId.slice(0, 7).toUpperCase()}` : `${p.givenName}'s ${m.model}`;
}

/** Device `slot` (0 the person's computer, 1 a phone) of person `index`, when it exists. */
export function managedDevice(
  tenant: SimTenant,
  index: number,
  slot: 0 | 1,
  start: number,
): Record<string, unknown> | undefined {
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
  const mac = () =>
    Array.from({ length: 6 }, () => rng.int(256).toString(16).padStart(2, '0'))
      .join('')
      .toUpperCase();
  const deviceName = slot === 0 ? primaryDeviceName(p) : `${p.givenName}'s ${m.model}`;
  const upnLocal = p.userPrincipalName.split('@')[0]!;
  const enrolledDate = new Date(enrolled);
  const stamp =
    `${enrolledDate.getUTCMonth() + 1}/${enrolledDate.getUTCDate()}/${enrolledDate.getUTCFullYear()}_` +
    `${enrolledDate.getUTCHours()}:${String(enrolledDate.getUTCMinutes()).padStart(2, '0')} ${enrolledDate.getUTCHours() < 12 ? 'AM' : 'PM'}`;
  const storage = (phone ? 128 : 512) * 1024 ** 3;
  // Property order, the @odata.type annotation and the placeholder values Intune returns for
  // what it does not track (0001-01-01 dates, empty strings) follow Microsoft's managedDevice
  // example (Intune's generated examples carry @odata.type in v1.0 and beta alike).
  return {
    '@odata.type': '#microsoft.graph.managedDevice',
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
