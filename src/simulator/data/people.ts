// The tenant's people, each a pure function of (tenant, index): nothing is stored, so a
// 200,000-user tenant costs no memory. The directory module layers run-time changes on top.
import { mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import {
  DEPARTMENTS,
  DEVICES,
  GIVEN_NAMES,
  HOME_CITIES,
  PARTNER_DOMAINS,
  SURNAMES,
  type City,
  type DeviceProfile,
} from './catalog.js';
import { DAY } from './time.js';

export interface Person {
  index: number;
  id: string;
  givenName: string;
  surname: string;
  displayName: string;
  userPrincipalName: string;
  mail: string;
  userType: 'Member' | 'Guest';
  externalUserState: 'PendingAcceptance' | 'Accepted' | null;
  accountEnabled: boolean;
  /** Synced from on-premises AD (else cloud-only). */
  synced: boolean;
  /** Holds the Global Administrator role. */
  globalAdmin: boolean;
  /** Never signs in (includes guests who never accepted their invitation). */
  dormant: boolean;
  /** Last signed in long ago (stale account): signs in no more. */
  staleDays: number;
  createdDateTime: number;
  department: string | null;
  jobTitle: string | null;
  home: City;
  homeIp: string;
  device: DeviceProfile;
  deviceId: string;
  /** Relative activity: some people sign in far more than others. */
  activity: number;
}

export function personAt(tenant: SimTenant, index: number, start: number): Person {
  const globalAdmins = tenant.globalAdmins;
  const rng = new Rng(mix(tenant.salt, 2, index));
  const id = rng.guid();
  const givenName = rng.pick(GIVEN_NAMES);
  const surname = rng.pick(SURNAMES);
  const guest = index >= globalAdmins && rng.chance(0.08);
  const local = `${givenName}.${surname}${index}`.toLowerCase();
  const homeDomain = tenant.domains[1] ?? tenant.initialDomain;
  const partner = rng.pick(PARTNER_DOMAINS);
  const pending = guest && rng.chance(0.3);
  const enabled = index < globalAdmins || !rng.chance(0.03);
  const home = HOME_CITIES[index % 3 === 0 ? 0 : rng.int(HOME_CITIES.length)]!;
  const dormant = pending || (index >= globalAdmins && rng.chance(0.04));
  const stale = !dormant && index >= globalAdmins && rng.chance(0.03);
  return {
    index,
    id,
    givenName,
    surname,
    displayName: `${givenName} ${surname}`,
    userPrincipalName: guest ? `${local}_${partner}#EXT#@${tenant.initialDomain}` : `${local}@${homeDomain}`,
    mail: guest ? `${local}@${partner}` : `${local}@${homeDomain}`,
    userType: guest ? 'Guest' : 'Member',
    externalUserState: guest ? (pending ? 'PendingAcceptance' : 'Accepted') : null,
    accountEnabled: enabled,
    synced: !guest && rng.chance(0.4),
    globalAdmin: index < globalAdmins,
    dormant,
    staleDays: stale ? 45 + rng.int(300) : 0,
    createdDateTime: start - (guest ? 20 + rng.int(400) : 60 + rng.int(1500)) * DAY,
    department: guest ? null : rng.pick(DEPARTMENTS),
    jobTitle: guest ? null : index < globalAdmins ? 'IT Administrator' : rng.chance(0.2) ? 'Manager' : 'Specialist',
    home,
    homeIp: `${home.prefix}.${rng.int(256)}.${1 + rng.int(254)}`,
    device: rng.pick(DEVICES),
    deviceId: rng.chance(0.7) ? rng.guid() : '',
    activity: 0.3 + rng.next() * 1.7,
  };
}

/** Whether the person signs in at all in the generated activity (enabled, not dormant or stale). */
export const signsIn = (p: Person): boolean => p.accountEnabled && !p.dormant && p.staleDays === 0;

/**
 * The indexes of people who sign in, weighted by activity: the sign-in generator draws users
 * from this table. An Int32Array: 4 bytes per user, built once per tenant.
 */
export function activeTable(tenant: SimTenant, start: number): Int32Array {
  const slots: number[] = [];
  for (let i = 0; i < tenant.userCount; i++) {
    const p = personAt(tenant, i, start);
    if (!signsIn(p)) continue;
    const copies = Math.max(1, Math.round(p.activity * 2));
    for (let c = 0; c < copies; c++) slots.push(i);
  }
  return Int32Array.from(slots);
}
