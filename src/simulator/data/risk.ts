// Identity Protection: risky users and risk detections. The attack scenario's incidents
// (scenarios.ts) flag their users and raise a real-time detection per risky sign-in (leaked
// credentials offline); every tenant also has a small baseline of low and medium risk, some of it
// remediated or dismissed.
import { guidOf, hashString, mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import { personAt, type Person } from './people.js';
import { signInClient } from './signin-client.js';
import type { Incident } from './scenarios.js';
import type { SignInSpec } from './signins.js';
import { DAY, HOUR, isoTicks } from './time.js';

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

/** Baseline risk every tenant has: a few low and medium detections, some remediated or dismissed. */
function baselineRisk(
  tenant: SimTenant,
  start: number,
): Array<{ p: Person; user: Omit<RiskyUserSpec, 'person'>; eventType: string; at: number }> {
  const rng = new Rng(mix(tenant.salt, 80));
  const plans = [
    { level: 'medium', state: 'atRisk', detail: 'none', eventType: 'unfamiliarFeatures' },
    { level: 'low', state: 'atRisk', detail: 'none', eventType: 'unlikelyTravel' },
    {
      level: 'none',
      state: 'remediated',
      detail: 'userPerformedSecuredPasswordChange',
      eventType: 'unfamiliarFeatures',
    },
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
      out.push({
        p,
        user: {
          level: plan.level,
          state: plan.state,
          detail: plan.detail,
          updated: at + (plan.state === 'atRisk' ? 3 : 26) * HOUR,
        },
        eventType: plan.eventType,
        at,
      });
      break;
    }
  }
  return out;
}

/** Risky users: the attack scenario's flagged users (its incidents and their sign-ins), then the baseline; newest first. */
export function riskyUsers(
  tenant: SimTenant,
  start: number,
  incidents: readonly Incident[],
  specs: readonly SignInSpec[],
): RiskyUserSpec[] {
  const out: RiskyUserSpec[] = [];
  for (const incident of incidents.filter((i) => i.kind === 'risky-user')) {
    for (const userId of incident.userIds) {
      const last = specs.filter((s) => s.incident === incident.id && s.person?.id === userId).at(-1);
      if (last?.person)
        out.push({
          person: last.person,
          level: 'high',
          state: 'atRisk',
          detail: 'none',
          updated: last.time + 4 * 60_000,
        });
    }
  }
  for (const b of baselineRisk(tenant, start))
    if (!out.some((u) => u.person.id === b.p.id)) out.push({ person: b.p, ...b.user });
  return out.sort((a, b) => b.updated - a.updated);
}

/** Risk detections: per risky incident sign-in a real-time one for each risk event, plus the baseline. */
export function riskDetections(tenant: SimTenant, start: number, specs: readonly SignInSpec[]): RiskDetectionSpec[] {
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
        city: offline
          ? null
          : {
              city: s.city.city,
              state: s.city.state,
              country: s.city.country,
              latitude: s.city.latitude,
              longitude: s.city.longitude,
            },
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
      city: {
        city: city.city,
        state: city.state,
        country: city.country,
        latitude: city.latitude,
        longitude: city.longitude,
      },
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
    location: d.city
      ? {
          city: d.city.city,
          state: d.city.state,
          countryOrRegion: d.city.country,
          geoCoordinates: { altitude: null, latitude: d.city.latitude, longitude: d.city.longitude },
        }
      : null,
    activityDateTime: isoTicks(d.activityTime, ticks),
    detectedDateTime: isoTicks(d.detectedTime, ticks),
    lastUpdatedDateTime: isoTicks(d.updated, ticks),
    userId: d.person.id,
    userDisplayName: d.person.displayName,
    userPrincipalName: d.person.userPrincipalName,
    // the user agent the risky sign-in's own record shows
    additionalInfo: d.signIn
      ? JSON.stringify([{ Key: 'userAgent', Value: signInClient(d.signIn, false).userAgent }])
      : '[]',
  };
}
