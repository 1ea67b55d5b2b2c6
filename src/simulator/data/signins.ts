// Sign-in activity, generated on demand. Each tenant has four streams (interactive,
// non-interactive, service-principal and managed-identity sign-ins); the number of sign-ins in
// an hour and every field of each one are pure functions of (seed, tenant, stream, hour,
// index), so serving any window of a 30-day, million-sign-in tenant needs only that window.
// Record i of an hour happens at hourStart + (i + u_i)/N of the hour: times rise with i, so an
// hour's order is known without generating its records.
import { mix, Rng } from '../random.js';
import type { SimTenant } from '../tenants.js';
import {
  APP_WEIGHTS,
  CITIES,
  ERROR_MIX,
  EXCHANGE_ONLINE,
  HOME_CITIES,
  RESOURCES,
  type City,
  type DeviceProfile,
  type FirstPartyApp,
} from './catalog.js';
import { activeTable, personAt, type Person } from './people.js';
import { caPolicyPlans, type CaPolicyPlan } from './policies.js';
import { signInCoordinates, signInId } from './signin-ids.js';
import { DAY, HOUR } from './time.js';

export const EVENT_TYPES = ['interactiveUser', 'nonInteractiveUser', 'servicePrincipal', 'managedIdentity'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What one sign-in is, before it is rendered as Graph JSON. Incidents write these directly. */
export interface SignInSpec {
  id: string;
  time: number;
  /** Sub-millisecond digits of createdDateTime (Graph prints seven fractional digits). */
  ticks: number;
  type: EventType;
  person: Person | null;
  /** For sign-ins with no directory user behind them (a probed account that does not exist). */
  upn?: string;
  app: FirstPartyApp;
  city: City;
  ip: string;
  errorCode: number;
  details?: string | null;
  clientAppUsed: string;
  /** The client when it is not the person's own device (an attacker's machine): unregistered. */
  device?: DeviceProfile;
  risk: { level: 'none' | 'low' | 'medium' | 'high'; state: 'none' | 'atRisk'; eventTypes: string[] };
  correlationId: string;
  /** Delay before the record reaches the API (late arrival), ms. */
  delay: number;
  /** When set, a changed copy (same id) replaces the record this many ms after it first appeared. */
  republishAfter?: number;
  /** Labels of the incident this sign-in belongs to (ground truth for detection tests). */
  incident?: string;
}

export interface SignInSourceOptions {
  tenant: SimTenant;
  /** The simulation's start: data exists from start − days. */
  start: number;
  days: number;
  signinsPerUserDay: number;
  /** Current fault settings (late arrival and re-publishing are drawn per record). */
  lateMinutes: () => number;
  republish: () => { rate: number; minutes: number };
  /** Incident sign-ins (attack scenario), any order. */
  incidents: SignInSpec[];
}

// Mean-one weights by UTC hour: activity peaks in European and American working hours.
const DIURNAL = [
  0.35, 0.3, 0.3, 0.35, 0.45, 0.7, 1.0, 1.3, 1.55, 1.6, 1.55, 1.45, 1.45, 1.55, 1.7, 1.75, 1.6, 1.35, 1.1, 0.9, 0.75,
  0.6, 0.5, 0.4,
];
const STREAM_FACTOR: Record<EventType, number> = {
  interactiveUser: 1,
  nonInteractiveUser: 5,
  servicePrincipal: 0,
  managedIdentity: 0,
};

export interface HourBucket {
  /** Times (ms) newest first, and the matching record references. */
  times: Float64Array;
  refs: Int32Array;
}

export function createSignInSource(opts: SignInSourceOptions) {
  const { tenant } = opts;
  const dataStart = opts.start - opts.days * DAY;
  const active = activeTable(tenant, opts.start);
  // Bounded caches, so memory does not grow with the tenant: people are the costly part of a
  // record, and paging revisits the hour it stopped in.
  // A direct-mapped cache: fixed size, no eviction storms; a whole 16k-user tenant fits.
  const PEOPLE_SLOTS = 16_384;
  const people: Array<Person | undefined> = new Array<Person | undefined>(PEOPLE_SLOTS);
  const person = (i: number): Person => {
    const slot = i % PEOPLE_SLOTS;
    let p = people[slot];
    if (p?.index !== i) people[slot] = p = personAt(tenant, i, opts.start);
    return p;
  };
  const policies = caPolicyPlans(tenant);
  const incidentsByHour = new Map<number, SignInSpec[]>();
  const incidentsById = new Map(opts.incidents.map((spec) => [spec.id, spec]));
  for (const spec of opts.incidents) {
    const h = Math.floor(spec.time / HOUR);
    incidentsByHour.set(h, [...(incidentsByHour.get(h) ?? []), spec]);
  }

  /** How many base sign-ins a stream has in an hour. */
  function countIn(type: EventType, hour: number): number {
    const hourStart = hour * HOUR;
    if (hourStart < dataStart - HOUR) return 0;
    let perHour: number;
    if (type === 'servicePrincipal') perHour = Math.max(2, tenant.userCount / 400);
    else if (type === 'managedIdentity') perHour = 1;
    else {
      const day = new Date(hourStart).getUTCDay();
      const weekend = day === 0 || day === 6 ? 0.3 : 1.25;
      perHour =
        ((active.length / 2) *
          opts.signinsPerUserDay *
          STREAM_FACTOR[type] *
          DIURNAL[new Date(hourStart).getUTCHours()]! *
          weekend) /
        24;
    }
    const frac = mix(tenant.salt, 5, EVENT_TYPES.indexOf(type), hour) / 4294967296;
    return Math.floor(perHour + frac);
  }

  const timeOf = (typeIdx: number, hour: number, i: number, n: number): number =>
    hour * HOUR + Math.floor(((i + mix(tenant.salt, 6, typeIdx, hour, i) / 4294967296) / n) * HOUR);

  const buckets = new Map<string, HourBucket>();
  let bucketEntries = 0;
  const MAX_BUCKET_ENTRIES = 1_000_000; // 12 MB of times and references
  /** One hour of the given streams, newest first (cached: paging revisits the same hours). */
  function hourBucket(hour: number, types: readonly EventType[]): HourBucket {
    const key = `${hour}/${types.join(',')}`;
    const cached = buckets.get(key);
    if (cached) return cached;
    const entries: Array<[number, number]> = [];
    for (const type of types) {
      const t = EVENT_TYPES.indexOf(type);
      const n = countIn(type, hour);
      for (let i = 0; i < n; i++) {
        const time = timeOf(t, hour, i, n);
        if (time >= dataStart) entries.push([time, i * 4 + t]);
      }
    }
    const incidents = incidentsByHour.get(hour) ?? [];
    incidents.forEach((spec, k) => {
      if (types.includes(spec.type) && spec.time >= dataStart) entries.push([spec.time, -(k + 1)]);
    });
    entries.sort((a, b) => b[0] - a[0] || b[1] - a[1]);
    const bucket = { times: Float64Array.from(entries, (e) => e[0]), refs: Int32Array.from(entries, (e) => e[1]) };
    while (bucketEntries + entries.length > MAX_BUCKET_ENTRIES && buckets.size > 0) {
      const [oldest, old] = buckets.entries().next().value!;
      buckets.delete(oldest);
      bucketEntries -= old.times.length;
    }
    buckets.set(key, bucket);
    bucketEntries += entries.length;
    return bucket;
  }

  /** The spec behind a bucket reference. */
  function spec(hour: number, ref: number, time: number): SignInSpec {
    if (ref < 0) return incidentsByHour.get(hour)![-ref - 1]!;
    const typeIdx = ref & 3;
    const i = ref >>> 2;
    const type = EVENT_TYPES[typeIdx]!;
    const rng = new Rng(mix(tenant.salt, 7, typeIdx, hour, i));
    const id = signInId(tenant.salt, { typeIdx, hour, index: i }, rng);
    const correlationId = rng.guid();
    const ticks = rng.int(10_000);
    // Fault draws come from their own sequence: changing a fault knob must not change the record.
    const faultRng = new Rng(mix(tenant.salt, 8, typeIdx, hour, i));
    const late = opts.lateMinutes();
    const lateDraw = faultRng.next();
    const delay = late > 0 ? Math.floor(lateDraw * late * 60_000) : 0;
    const rp = opts.republish();
    const [republishDraw, republishDelayDraw] = [faultRng.next(), faultRng.next()];
    const republishAfter =
      rp.rate > 0 && republishDraw < rp.rate
        ? 60_000 + Math.floor(republishDelayDraw * rp.minutes * 60_000)
        : undefined;
    if (type === 'servicePrincipal' || type === 'managedIdentity') {
      const city = HOME_CITIES[0]!;
      return {
        id,
        time,
        ticks,
        type,
        person: null,
        app: { appId: '', name: '', resource: RESOURCES.graph, weight: 0 },
        city,
        ip: `${city.prefix}.10.${1 + rng.int(254)}`,
        errorCode: rng.chance(0.02) ? 7000215 : 0,
        clientAppUsed: '',
        risk: { level: 'none', state: 'none', eventTypes: [] },
        correlationId,
        delay,
        ...(republishAfter !== undefined ? { republishAfter } : {}),
      };
    }
    const who = person(active[rng.int(active.length)]!);
    const roam = rng.next();
    const city = roam < 0.93 ? who.home : roam < 0.98 ? rng.pick(HOME_CITIES) : rng.pick(CITIES);
    const ip = city === who.home && roam < 0.85 ? who.homeIp : `${city.prefix}.${rng.int(256)}.${1 + rng.int(254)}`;
    const legacy = type === 'interactiveUser' && rng.chance(0.003);
    const errorCode = type === 'interactiveUser' ? rng.weighted(ERROR_MIX) : rng.chance(0.03) ? 50076 : 0;
    const riskRoll = rng.next();
    const risk: SignInSpec['risk'] =
      riskRoll < 0.004
        ? { level: 'medium', state: 'atRisk', eventTypes: ['unfamiliarFeatures'] }
        : riskRoll < 0.012
          ? { level: 'low', state: 'atRisk', eventTypes: ['unlikelyTravel'] }
          : { level: 'none', state: 'none', eventTypes: [] };
    return {
      id,
      time,
      ticks,
      type,
      person: who,
      app: legacy ? EXCHANGE_ONLINE : rng.weighted(APP_WEIGHTS),
      city,
      ip,
      errorCode,
      clientAppUsed: legacy
        ? rng.pick(['IMAP4', 'POP3', 'Authenticated SMTP', 'Exchange ActiveSync'] as const)
        : who.device.clientAppUsed,
      risk,
      correlationId,
      delay,
      ...(republishAfter !== undefined ? { republishAfter } : {}),
    };
  }

  /**
   * The sign-in with this id, if the tenant ever had it by `now` (visibility, retention and the
   * stream a query may read are the caller's to check). Generated ids name their record (see
   * signin-ids.ts), which is regenerated and must carry the same id; incidents are looked up.
   */
  function byId(id: string, now: number): SignInSpec | undefined {
    const incident = incidentsById.get(id);
    if (incident) return incident.time >= dataStart ? incident : undefined;
    const at = signInCoordinates(tenant.salt, id);
    if (!at || at.hour < Math.floor(dataStart / HOUR) || at.hour > Math.floor(now / HOUR)) return undefined;
    const type = EVENT_TYPES[at.typeIdx]!;
    const n = countIn(type, at.hour);
    if (at.index >= n) return undefined;
    const time = timeOf(at.typeIdx, at.hour, at.index, n);
    if (time < dataStart) return undefined;
    const found = spec(at.hour, at.index * 4 + at.typeIdx, time);
    return found.id === id ? found : undefined;
  }

  return { hourBucket, spec, byId, dataStart, policies, person, countIn };
}
export type SignInSource = ReturnType<typeof createSignInSource>;

/** Whether a sign-in has reached the API at `now` (late arrival). */
export const visibleAt = (s: SignInSpec, now: number): boolean => s.time + s.delay <= now;

export { type CaPolicyPlan };
