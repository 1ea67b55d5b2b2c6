// The attack scenario's labelled incidents: sign-ins injected into the generated activity, with
// the ground truth (which sign-ins belong to which incident) so detection can be measured.
import { guidOf, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { APPS, DEVICES, EXCHANGE_ONLINE, HOSTILE_CITIES, type City } from './catalog.js';
import { personAt, signsIn, type Person } from './people.js';
import type { SignInSpec } from './signins.js';
import { DAY, HOUR } from './time.js';

export type IncidentKind =
  | 'password-spray'
  | 'brute-force-then-success'
  | 'mfa-fatigue-then-success'
  | 'impossible-travel'
  | 'new-country'
  | 'legacy-authentication'
  | 'inactive-account-probing'
  | 'disabled-account-sign-in'
  | 'risky-user';

export interface Incident {
  id: string;
  kind: IncidentKind;
  description: string;
  tenantId: string;
  userIds: string[];
  ipAddress: string;
  start: string;
  end: string;
  signInIds: string[];
}

const MIN = 60_000;
const TEAMS = APPS[0]!;
const PORTAL = APPS.find((a) => a.name === 'Azure Portal')!;
/** The attacker's client: Chrome on an unregistered Windows machine, not the victim's device. */
const ATTACKER = DEVICES.find((d) => d.browser.startsWith('Chrome ') && d.operatingSystem === 'Windows10')!;

export function buildIncidents(
  tenant: SimTenant,
  start: number,
  days: number,
): { incidents: Incident[]; specs: SignInSpec[] } {
  if (tenant.scenario !== 'attacks') return { incidents: [], specs: [] };
  const rng = new Rng(mix(tenant.salt, 40));
  const anchor = Math.floor(start / HOUR) * HOUR;
  const dataStart = start - days * DAY;
  const incidents: Incident[] = [];
  const specs: SignInSpec[] = [];
  let serial = 0;

  // People for each role, found deterministically by walking the directory from an offset.
  // `share` places each incident's people in a different part of the directory, whatever its size.
  const find = (share: number, ok: (p: Person) => boolean, n: number): Person[] => {
    const out: Person[] = [];
    for (let i = Math.floor(tenant.userCount * share); i < tenant.userCount && out.length < n; i++) {
      const p = personAt(tenant, i, start);
      if (ok(p)) out.push(p);
    }
    return out;
  };
  const member = (p: Person) => signsIn(p) && p.userType === 'Member' && !p.globalAdmin;
  const hostileIp = (city: City) => `${city.prefix}.${rng.int(256)}.${1 + rng.int(254)}`;

  function sign(
    at: number,
    p: Person | null,
    fields: Partial<SignInSpec> & Pick<SignInSpec, 'city' | 'ip' | 'errorCode'>,
  ): SignInSpec {
    const n = serial++;
    return {
      id: guidOf(tenant.salt, 41, n),
      time: at,
      ticks: n % 10_000,
      type: 'interactiveUser',
      person: p,
      app: TEAMS,
      clientAppUsed: (fields.device ?? p?.device)?.clientAppUsed ?? 'Browser',
      risk: { level: 'none', state: 'none', eventTypes: [] },
      correlationId: guidOf(tenant.salt, 42, n),
      delay: 0,
      ...fields,
    };
  }

  function add(kind: IncidentKind, description: string, records: SignInSpec[]): void {
    const kept = records.filter((r) => r.time >= dataStart);
    if (kept.length === 0) return;
    const id = guidOf(tenant.salt, 43, incidents.length);
    for (const r of kept) r.incident = id;
    specs.push(...kept);
    const times = kept.map((r) => r.time);
    incidents.push({
      id,
      kind,
      description,
      tenantId: tenant.id,
      userIds: [...new Set(kept.map((r) => r.person?.id).filter((x): x is string => Boolean(x)))],
      ipAddress: kept[kept.length - 1]!.ip,
      start: new Date(Math.min(...times)).toISOString(),
      end: new Date(Math.max(...times)).toISOString(),
      signInIds: kept.map((r) => r.id),
    });
  }

  const [lagos, moscow, bucharest, hanoi] = HOSTILE_CITIES as [City, City, City, City];

  // Password spray: one address, 25 accounts, one wrong password each, within 15 minutes.
  {
    const at = anchor - 2 * DAY + 3 * HOUR;
    const ip = hostileIp(lagos);
    const victims = find(0.05, member, 25);
    add(
      'password-spray',
      'One address tried one password against 25 accounts in 15 minutes',
      victims.map((p, k) =>
        sign(at + k * 36_000, p, { city: lagos, ip, errorCode: 50126, app: EXCHANGE_ONLINE, device: ATTACKER }),
      ),
    );
  }
  // Brute force, then success: 15 failures on one account from one address, then a sign-in.
  {
    const at = anchor - 3 * DAY + 5 * HOUR;
    const ip = hostileIp(bucharest);
    const [victim] = find(0.35, member, 1);
    if (victim) {
      const tries = Array.from({ length: 15 }, (_, k) =>
        sign(at + k * 40_000, victim, { city: bucharest, ip, errorCode: 50126, device: ATTACKER }),
      );
      add('brute-force-then-success', '15 wrong passwords on one account from one address, then a successful sign-in', [
        ...tries,
        sign(at + 15 * 40_000 + 20_000, victim, { city: bucharest, ip, errorCode: 0, device: ATTACKER }),
      ]);
    }
  }
  // MFA fatigue: eight push prompts denied or ignored in six minutes, then one approved.
  {
    const at = anchor - DAY - 2 * HOUR;
    const [victim] = find(0.45, member, 1);
    if (victim) {
      const ip = hostileIp(moscow);
      const denied = Array.from({ length: 8 }, (_, k) =>
        sign(at + k * 45_000, victim, {
          city: moscow,
          ip,
          errorCode: 500121,
          device: ATTACKER,
          details:
            k % 2
              ? 'MFA denied; user declined the authentication'
              : 'MFA denied; user did not respond to mobile app notification',
        }),
      );
      add('mfa-fatigue-then-success', 'Eight MFA prompts denied or unanswered in six minutes, then one approved', [
        ...denied,
        sign(at + 8 * 45_000 + 30_000, victim, {
          city: moscow,
          ip,
          errorCode: 0,
          device: ATTACKER,
          details: 'MFA completed in Azure AD',
        }),
      ]);
    }
  }
  // Impossible travel: home, then 40 minutes later 7,500 km away.
  {
    const at = anchor - 4 * DAY + 9 * HOUR;
    const [victim] = find(0.55, (p) => member(p) && p.home.country === 'US', 1);
    if (victim) {
      add('impossible-travel', 'Successful sign-ins 40 minutes apart from places 7,000+ km apart', [
        sign(at, victim, { city: victim.home, ip: victim.homeIp, errorCode: 0 }),
        sign(at + 40 * MIN, victim, { city: moscow, ip: hostileIp(moscow), errorCode: 0, device: ATTACKER }),
      ]);
    }
  }
  // New country: a successful sign-in from a country the user never signed in from.
  {
    const at = anchor - 5 * DAY + 14 * HOUR;
    const [victim] = find(0.65, member, 1);
    if (victim)
      add('new-country', 'A successful sign-in from a country never seen for this user', [
        sign(at, victim, { city: hanoi, ip: hostileIp(hanoi), errorCode: 0, device: ATTACKER }),
      ]);
  }
  // Legacy authentication: IMAP, POP and SMTP AUTH sign-ins.
  {
    const at = anchor - 6 * DAY + 11 * HOUR;
    const users = find(0.75, member, 2);
    const protocols = ['IMAP4', 'POP3', 'Authenticated SMTP'];
    add(
      'legacy-authentication',
      'Sign-ins over legacy protocols (IMAP4, POP3, Authenticated SMTP)',
      users.flatMap((p, u) =>
        protocols.map((clientAppUsed, k) =>
          sign(at + (u * 3 + k) * 5 * MIN, p, {
            city: p.home,
            ip: p.homeIp,
            errorCode: 0,
            app: EXCHANGE_ONLINE,
            clientAppUsed,
          }),
        ),
      ),
    );
  }
  // Inactive accounts probed: wrong passwords on accounts nobody has used for months.
  {
    const at = anchor - 2 * DAY + 20 * HOUR;
    const ip = hostileIp(bucharest);
    const stale = find(0, (p) => p.staleDays > 0 && p.accountEnabled, 5);
    add(
      'inactive-account-probing',
      'Failed sign-ins against accounts inactive for months',
      stale.map((p, k) => sign(at + k * 2 * MIN, p, { city: bucharest, ip, errorCode: 50126, device: ATTACKER })),
    );
  }
  // Disabled accounts: sign-in attempts refused with 50057.
  {
    const at = anchor - 3 * DAY + 16 * HOUR;
    const disabled = find(0, (p) => !p.accountEnabled, 3);
    const ip = hostileIp(lagos);
    add(
      'disabled-account-sign-in',
      'Sign-in attempts against disabled accounts',
      disabled.map((p, k) => sign(at + k * 3 * MIN, p, { city: lagos, ip, errorCode: 50057, device: ATTACKER })),
    );
  }
  // Risky users: Entra flags high-risk sign-ins (P2 shows the risk; other licences read "hidden").
  {
    const at = anchor - 26 * HOUR;
    const users = find(0.85, member, 2);
    add(
      'risky-user',
      'High-risk sign-ins (anonymous address, leaked credentials) flagged by Entra ID Protection',
      users.map((p, k) =>
        sign(at + k * 10 * MIN, p, {
          city: moscow,
          ip: hostileIp(moscow),
          errorCode: 0,
          app: PORTAL,
          device: ATTACKER,
          risk: { level: 'high', state: 'atRisk', eventTypes: ['anonymizedIPAddress', 'leakedCredentials'] },
        }),
      ),
    );
  }
  return { incidents, specs };
}
