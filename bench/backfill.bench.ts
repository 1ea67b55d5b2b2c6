// The first full collection under Microsoft's throttle, honestly measured (issue 11): idsight is a
// black box — the built CLI, `idsight collect <id> --types signIns,nonInteractiveSignIns,
// directoryAudits --json`, timed from spawn to exit into a fresh SQLite data dir — against a
// simulated tenant (`idsight simulate`, its own process) that throttles the reports family as
// Microsoft does: 5 requests per 10 s per app per tenant. Its time is compared with
//
//  * the least the throttle allows for the pages the DATA needs (not the pages idsight chose to
//    make): pages_s = max(1, ceil(records_s / 1000)) for each of the five streams (interactive
//    sign-ins; non-interactive user, service principal and managed identity sign-ins; directory
//    audits), P = Σ pages_s, minimum = floor((P − 1) / 5) × window + one page latency (Graph
//    counts a request when it arrives: the first five may arrive at once and request k, from 0,
//    no sooner than floor(k / 5) windows later; the last is answered one latency after). Target:
//    wall / minimum ≤ 1.15, and no 429 (idsight paces before sending);
//  * a plain sequential pager written here (undici fetch, a client-credentials token, each
//    stream's @odata.nextLink followed to the end, Retry-After slept on a 429), run after idsight
//    against the same simulator with another app of the tenant (the throttle is per app) and the
//    throttle reset: it stores nothing. Target: idsight / pager ≤ 1.0 on every tenant.
//
// and reports per stream the records idsight stored and the requests it made, the SQLite
// database's bytes per stored sign-in (file + -wal; target ≤ 800, DESIGN §5) and the collecting
// process's peak RSS. One JSON line per tenant; missed targets are figures, not failures.
//
// Tenants (`--days 30 --throttle microsoft --seed 31`, default scenario; records per stream over
// the backfill window: interactive / non-interactive user / service principal / managed identity
// sign-ins / directory audits, and P):
//   small   --users 60      7.9k / 40k / 1.4k / 0.7k / 1.5k      P = 53     scale 1 (Microsoft's 10 s)
//   medium  --users 500     62k / 309k / 1.4k / 0.7k / 2.7k      P = 377    scale 0.25 (2.5 s windows)
//   large   --users 10000   1.2M / 6.0M / 18k / 0.7k / 28k       P ≈ 7,260  scale 0.05 (500 ms windows)
// Scaling shrinks the simulator's windows and idsight's pacing (IDSIGHT_GRAPH_PACING_SCALE) alike.
// It must leave the throttle, not idsight's ingest (~20–25k sign-ins/s into SQLite with the
// simulator beside it on the same machine), as the binding limit: the scaled throttle admits
// 5,000 sign-ins per window, 500/s at scale 1, 2,000/s at 0.25 and 10,000/s at 0.05. 0.05 is the
// smallest scale for the large tenant that keeps the throttle's rate at no more than half the
// ingest speed (the store keeps up with every page as it comes, with room for the simulator
// sharing the CPU), and its 7.2 million sign-ins still need ~12 minutes of throttle (1,452
// windows); 0.25 makes the medium one a few minutes while keeping the throttle at a tenth of the
// ingest speed. What does not scale is real time per request: idsight's budget dates a window
// slot at its answer or at its send + a network skew, whichever is sooner (250 ms × scale, but not
// under 50 ms of real time: src/entra/budget.ts), real time that Microsoft's 10 s window dwarfs
// (2.5 %) but a 500 ms one feels (10 %; scaled runs also share two cores with the simulator, which
// pushes answers later). `pacingFloorRatio` is that floor (a lower bound), for reading the ratio;
// BENCH_BACKFILL_SCALE_LARGE=0.1 halves it, at twice the time.
// Nor does retention: the simulator refuses a filter reaching past it in real time, on every page,
// so a stream read for longer than idsight's 10-minute margin fails its oldest pages (the pager
// then starts its chain again, see runPager). Scaled runs are shorter than real ones, so a real
// tenant meets this sooner: the medium tenant's 377 pages take ~13 minutes at Microsoft's rate.
//
// Page latency: Microsoft publishes none for a page of 1,000 sign-ins and real pages take seconds,
// so every page (full or not) is answered after 3,000 ms × scale: latency / window is then as on a
// real tenant, and one sequential chain is latency-bound (5 pages × 3 s > one 10 s window) — to
// reach the throttle's rate a collector needs about two pages in flight.
//
// Environment:
//   BENCH_BACKFILL_TENANTS     which tenants, comma-separated (default small,medium,large; small and
//                              medium take ~10 minutes each, the large one ~1 hour and ~4 GB of
//                              disk while it runs: about 560 bytes per sign-in)
//   BENCH_BACKFILL_SCALE_SMALL, …_MEDIUM, …_LARGE
//                              the throttle scale of a tenant (0 < s ≤ 1; defaults 1, 0.25, 0.05)
//   BENCH_BACKFILL_LATENCY_MS  a page's real-world latency before scaling (default 3000)
//   BENCH_BACKFILL_PAGER=off   skip the sequential pager (idsight's figures only)
//   BENCH_NODE_FLAGS           Node flags for the idsight processes (bench/processes.ts)
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Agent, fetch } from 'undici';
import type { SimulatorSummary } from '../src/simulator/server.js';
import {
  addSimulatedIntegration,
  cpuSeconds,
  IDSIGHT,
  idsightCli,
  NODE_FLAGS,
  startSimulatorProcess,
  watchUsage,
} from './processes.js';

// Microsoft's documented limit for the identity and access reports family (and the simulator's);
// written out rather than imported from idsight, which is what is being measured.
const REPORTS_LIMIT = 5;
const REPORTS_WINDOW_MS = 10_000;
const PAGE_SIZE = 1_000;
const DAYS = 30;
const SEED = 31;
const TARGET_RATIO = 1.15;
const TARGET_VS_PAGER = 1.0;
const TARGET_BYTES_PER_SIGN_IN = 800;
const TARGET_RSS_MB = 300;
/** idsight's budget: how late a request may reach Graph after it leaves, unscaled, and its floor in real time (src/entra/budget.ts). */
const BUDGET_SKEW_MS = 250;
const BUDGET_SKEW_FLOOR_MS = 50;

const TENANTS = {
  small: { users: 60, scale: 1 },
  medium: { users: 500, scale: 0.25 },
  large: { users: 10_000, scale: 0.05 },
} as const;
type TenantName = keyof typeof TENANTS;

const REAL_LATENCY_MS = Number(process.env.BENCH_BACKFILL_LATENCY_MS ?? 3_000);
const RUN_PAGER = process.env.BENCH_BACKFILL_PAGER !== 'off';

// ------------------------------------------------------------------ the streams

const MINUTE = 60_000;
const DAY = 1_440 * MINUTE;
type StreamId = 'signIns' | 'nonInteractiveUser' | 'servicePrincipal' | 'managedIdentity' | 'directoryAudits';
const NON_INTERACTIVE = ['nonInteractiveUser', 'servicePrincipal', 'managedIdentity'] as const;
const SIGN_IN_STREAMS: readonly StreamId[] = ['signIns', ...NON_INTERACTIVE];

const range = (property: string, from: string, to: string) =>
  encodeURIComponent(`${property} ge ${from} and ${property} le ${to}`);
/** Each stream's first request for [from, to], as idsight asks for it (src/collect/runner.ts, events.ts). */
const STREAMS: Record<StreamId, (from: string, to: string) => string> = {
  signIns: (from, to) => `/v1.0/auditLogs/signIns?$top=1000&$filter=${range('createdDateTime', from, to)}`,
  nonInteractiveUser: beta('nonInteractiveUser'),
  servicePrincipal: beta('servicePrincipal'),
  managedIdentity: beta('managedIdentity'),
  directoryAudits: (from, to) =>
    `/v1.0/auditLogs/directoryAudits?$top=1000&$filter=${range('activityDateTime', from, to)}`,
};
function beta(eventType: string) {
  return (from: string, to: string) =>
    `/beta/auditLogs/signIns?$top=1000&$filter=${range('createdDateTime', from, to)}${encodeURIComponent(` and signInEventTypes/any(t: t eq '${eventType}')`)}`;
}

/** The window idsight's first run reads: retention start + a 10-minute margin to now − 15 minutes (the default lag). */
function backfillWindow(now: number, retentionDays: number): { from: string; to: string } {
  return {
    from: new Date(now - retentionDays * DAY + 10 * MINUTE).toISOString(),
    to: new Date(now - 15 * MINUTE).toISOString(),
  };
}

// ------------------------------------------------------------------ the simulator's side

type Tenant = SimulatorSummary['tenants'][number];

function controlApi(summary: SimulatorSummary, agent: Agent) {
  const control = summary.control!;
  return {
    async resetThrottle(): Promise<void> {
      const res = await fetch(`${control.url}/throttle/reset`, {
        method: 'POST',
        dispatcher: agent,
        headers: { authorization: `Bearer ${control.token}` },
      });
      if (!res.ok) throw new Error(`throttle reset: ${res.status} ${await res.text()}`);
      await res.arrayBuffer().catch(() => undefined);
    },
  };
}

// ------------------------------------------------------------------ the baseline: a plain sequential pager

interface PagerFigures {
  wallMs: number;
  requests: number;
  throttled: number;
  /** Chains started again because their lower bound had fallen out of retention. */
  restarts: number;
  records: Record<StreamId, number>;
}

/** A client-credentials session of one app: plain fetches, a token from the token endpoint. */
function plainClient(summary: SimulatorSummary, agent: Agent, tenant: Tenant, app: Tenant['apps'][number]) {
  let token: string | undefined;
  let requests = 0;
  let throttled = 0;
  async function acquire(): Promise<string> {
    const res = await fetch(`${summary.authorityHost}/${tenant.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: app.clientId,
        client_secret: app.secrets[0]!.value,
        scope: `${summary.graphUrl}/.default`,
      }).toString(),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token) throw new Error(`token: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }
  return {
    get stats() {
      return { requests, throttled };
    },
    /** One page: retried after Retry-After (1 s if absent) on 429, with a new token once on 401. */
    async get(url: string): Promise<{ value: Array<Record<string, unknown>>; '@odata.nextLink'?: string }> {
      for (let refreshed = false; ;) {
        token ??= await acquire();
        requests++;
        const res = await fetch(url, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
        const text = await res.text();
        if (res.status === 429) {
          throttled++;
          const seconds = Number(res.headers.get('retry-after'));
          await new Promise((r) => setTimeout(r, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000));
          continue;
        }
        if (res.status === 401 && !refreshed) {
          refreshed = true;
          token = undefined;
          continue;
        }
        if (!res.ok)
          throw Object.assign(new Error(`GET ${url}: ${res.status} ${text.slice(0, 300)}`), { status: res.status });
        return JSON.parse(text) as { value: Array<Record<string, unknown>>; '@odata.nextLink'?: string };
      }
    },
  };
}

/**
 * Each stream's pages in turn, newest first, one at a time. A chain that outlives its lower bound
 * (a stream read for longer than the 10-minute margin: Graph refuses a filter reaching past
 * retention, on the following pages too) starts again from the oldest record read, with a lower
 * bound moved in by what has expired meanwhile; the records at that instant are counted once.
 */
async function runPager(
  summary: SimulatorSummary,
  agent: Agent,
  tenant: Tenant,
  app: Tenant['apps'][number],
  retention: Record<StreamId, number>,
): Promise<PagerFigures> {
  const started = performance.now();
  const client = plainClient(summary, agent, tenant, app);
  const records = {} as Record<StreamId, number>;
  let restarts = 0;
  for (const [stream, first] of Object.entries(STREAMS) as Array<[StreamId, (from: string, to: string) => string]>) {
    const property = stream === 'directoryAudits' ? 'activityDateTime' : 'createdDateTime';
    let { from, to } = backfillWindow(Date.now(), retention[stream]); // as idsight: each stream's window when it starts
    let oldest = Infinity;
    let atOldest = new Set<unknown>(); // ids of the records read at `oldest`
    let repeats = new Set<unknown>(); // ids a restarted chain reads again
    records[stream] = 0;
    for (let url: string | undefined = `${summary.graphUrl}${first(from, to)}`; url;) {
      let page;
      try {
        page = await client.get(url);
      } catch (err) {
        const expired = Date.parse(from) < Date.now() - retention[stream] * DAY + MINUTE;
        if ((err as { status?: number }).status !== 400 || !expired) throw err;
        restarts++;
        ({ from } = backfillWindow(Date.now(), retention[stream]));
        if (oldest !== Infinity) to = new Date(oldest).toISOString();
        repeats = atOldest;
        url = `${summary.graphUrl}${first(from, to)}`;
        continue;
      }
      for (const r of page.value) {
        if (repeats.has(r.id)) continue;
        records[stream]++;
        const at = Date.parse(String(r[property]));
        if (at < oldest) [oldest, atOldest] = [at, new Set()];
        if (at === oldest) atOldest.add(r.id);
      }
      url = page['@odata.nextLink'];
    }
  }
  return { wallMs: performance.now() - started, ...client.stats, restarts, records };
}

// ------------------------------------------------------------------ idsight's side

type Stats = Record<string, unknown> & {
  inserted?: number;
  pages?: number;
  requests?: number;
  throttled?: number;
  eventTypes?: Record<string, Stats>;
};
interface Outcome {
  runId: string | null;
  dataType: string;
  status: string;
  stats: Stats;
  error?: string;
}

/** Sizes of the SQLite database and its write-ahead log, bytes. */
function sqliteBytes(dataDir: string): number {
  const file = path.join(dataDir, 'idsight.db');
  return [file, `${file}-wal`].reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0);
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

async function run(name: TenantName): Promise<Record<string, unknown>> {
  const { users } = TENANTS[name];
  const scale = Number(process.env[`BENCH_BACKFILL_SCALE_${name.toUpperCase()}`] ?? TENANTS[name].scale);
  if (!(scale > 0 && scale <= 1))
    throw new Error(`BENCH_BACKFILL_SCALE_${name.toUpperCase()} must be greater than 0 and at most 1`);
  const latencyMs = Math.round(REAL_LATENCY_MS * scale);
  const windowMs = REPORTS_WINDOW_MS * scale;

  const { child: simulator, summary } = await startSimulatorProcess([
    '--users',
    String(users),
    '--days',
    String(DAYS),
    '--seed',
    String(SEED),
    '--throttle',
    'microsoft',
    '--throttle-scale',
    String(scale),
    '--faults',
    `latencyMs=${latencyMs}`,
    '--control',
  ]);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'idsight-bench-backfill-'));
  const agent = new Agent({ connect: { ca: readFileSync(summary.caCertificate, 'utf8') } });
  try {
    const tenant = summary.tenants[0]!;
    const app = tenant.apps.find((a) => a.state === 'readwrite')!;
    const other = tenant.apps.find((a) => a.state === 'readonly')!;
    const control = controlApi(summary, agent);
    // the sign-ins' retention, and the audit log's (7 days on Entra ID Free, 30 on P1/P2)
    const retentionDays = tenant.licence === 'free' ? 7 : 30;
    const retention = Object.fromEntries(Object.keys(STREAMS).map((s) => [s, retentionDays])) as Record<
      StreamId,
      number
    >;

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      IDSIGHT_DATA_DIR: dataDir,
      IDSIGHT_GRAPH_PACING: 'microsoft',
      IDSIGHT_GRAPH_PACING_SCALE: String(scale),
      IDSIGHT_LOG_LEVEL: 'warn',
    };
    delete env.IDSIGHT_DATABASE_URL;
    delete env.IDSIGHT_CONFIG_FILE;
    const cli = idsightCli(env);
    const id = addSimulatedIntegration(cli, summary, tenant.tenantId, app);

    // Graph is warm when a collector comes: a freshly started simulator makes its first full pages
    // slowly (cold code), so the other app reads one of each stream first. Then the throttle
    // forgets them and the connectivity test's probes: the run starts with a clean window.
    const warm = plainClient(summary, agent, tenant, other);
    for (const first of Object.values(STREAMS)) {
      const { from, to } = backfillWindow(Date.now(), retentionDays);
      await warm.get(`${summary.graphUrl}${first(from, to)}`);
    }
    await control.resetThrottle();

    // ---- idsight: the first full collection of every event stream, spawn to exit
    const simulatorCpuBefore = cpuSeconds(simulator.pid!);
    const started = performance.now();
    const child = spawn(
      process.execPath,
      [...NODE_FLAGS, ...IDSIGHT, 'collect', id, '--types', 'signIns,nonInteractiveSignIns,directoryAudits', '--json'],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const usage = watchUsage(child);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const lastErr: string[] = []; // progress lines (one per page): only the last few are kept, for an error
    createInterface({ input: child.stderr! }).on('line', (l) => {
      lastErr.push(l);
      if (lastErr.length > 20) lastErr.shift();
    });
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const wallMs = performance.now() - started;
    const simulatorCpuSeconds = cpuSeconds(simulator.pid!) - simulatorCpuBefore;
    let outcomes: Outcome[];
    try {
      outcomes = JSON.parse(out) as Outcome[];
    } catch {
      throw new Error(`idsight collect exited ${code}: ${out}\n${lastErr.join('\n')}`);
    }
    // A failed data type is an error of the bench, but the figures of a long run are still
    // printed (marked incomplete), and the pager still runs.
    const errors = outcomes.filter((o) => o.status !== 'succeeded').map((o) => `${o.dataType} ${o.status}: ${o.error}`);
    if (code !== 0 && errors.length === 0)
      errors.push(`idsight collect exited ${code}: ${lastErr.slice(-3).join(' | ')}`);
    const complete = errors.length === 0;
    const byType = (t: string) => outcomes.find((o) => o.dataType === t)?.stats ?? {};
    const runs = JSON.parse(cli(['runs', id, '--json'])) as Array<{
      id: string;
      dataType: string;
      startedAt: string;
      endedAt: string;
    }>;
    const runSeconds = Object.fromEntries(
      outcomes.map((o) => {
        const r = runs.find((x) => x.id === o.runId);
        return [o.dataType, r ? round((Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000, 1) : null];
      }),
    );

    // per stream: records stored, requests made (non-interactive event types: their own count when
    // the run reports one, else their pages — the run's retries are then only in its total)
    const streamStats: Record<StreamId, Stats> = {
      signIns: byType('signIns'),
      ...(Object.fromEntries(
        NON_INTERACTIVE.map((t) => [t, byType('nonInteractiveSignIns').eventTypes?.[t] ?? {}]),
      ) as Record<(typeof NON_INTERACTIVE)[number], Stats>),
      directoryAudits: byType('directoryAudits'),
    };
    const streams = Object.fromEntries(
      (Object.keys(STREAMS) as StreamId[]).map((s) => {
        const records = streamStats[s].inserted ?? 0;
        return [
          s,
          {
            records,
            requests: streamStats[s].requests ?? streamStats[s].pages ?? 0,
            pagesNeeded: Math.max(1, Math.ceil(records / PAGE_SIZE)),
          },
        ];
      }),
    ) as Record<StreamId, { records: number; requests: number; pagesNeeded: number }>;
    const pagesNeeded = Object.values(streams).reduce((n, s) => n + s.pagesNeeded, 0);
    const requests = outcomes.reduce((n, o) => n + (o.stats.requests ?? 0), 0);
    const throttled = outcomes.reduce((n, o) => n + (o.stats.throttled ?? 0), 0);
    const minimumMs = Math.floor((pagesNeeded - 1) / REPORTS_LIMIT) * windowMs + latencyMs;
    const ratio = wallMs / minimumMs;
    const pacingFloorMs =
      Math.floor((pagesNeeded - 1) / REPORTS_LIMIT) *
        (windowMs + Math.min(Math.max(BUDGET_SKEW_FLOOR_MS, BUDGET_SKEW_MS * scale), latencyMs)) +
      latencyMs;
    const signInsStored = SIGN_IN_STREAMS.reduce((n, s) => n + streams[s].records, 0);
    const dbBytes = sqliteBytes(dataDir);
    const bytesPerSignIn = Math.round(dbBytes / Math.max(1, signInsStored));
    const { peakRssMb, cpuSeconds: collectorCpuSeconds } = usage();

    // ---- the baseline, with the other app and a clean window
    let pager: (PagerFigures & { ratio: number }) | undefined;
    if (RUN_PAGER) {
      await control.resetThrottle();
      const p = await runPager(summary, agent, tenant, other, retention);
      pager = { ...p, ratio: wallMs / p.wallMs };
    }

    return {
      bench: 'backfill',
      tenant: name,
      users,
      days: DAYS,
      throttle: `${REPORTS_LIMIT} per ${windowMs} ms (Microsoft's ${REPORTS_WINDOW_MS / 1000} s × ${scale})`,
      throttleScale: scale,
      pageLatencyMs: latencyMs,
      complete,
      ...(complete ? {} : { errors }),
      streams,
      pagesNeeded,
      requests,
      extraRequests: requests - pagesNeeded,
      throttled,
      targetThrottled: 0,
      meetsThrottled: throttled === 0,
      wallMs: Math.round(wallMs),
      minimumMs: Math.round(minimumMs),
      ratio: round(ratio),
      targetRatio: TARGET_RATIO,
      meetsRatio: complete && ratio <= TARGET_RATIO,
      pacingFloorRatio: round(pacingFloorMs / minimumMs),
      runSeconds,
      ...(pager
        ? {
            pager: {
              wallMs: Math.round(pager.wallMs),
              requests: pager.requests,
              throttled: pager.throttled,
              restarts: pager.restarts,
              records: pager.records,
            },
            vsPager: round(pager.ratio),
            targetVsPager: TARGET_VS_PAGER,
            meetsVsPager: complete && pager.ratio <= TARGET_VS_PAGER,
          }
        : {}),
      signInsStored,
      dbBytes,
      bytesPerSignIn,
      targetBytesPerSignIn: TARGET_BYTES_PER_SIGN_IN,
      meetsBytesPerSignIn: bytesPerSignIn <= TARGET_BYTES_PER_SIGN_IN,
      peakRssMb,
      targetRssMb: TARGET_RSS_MB,
      meetsRss: peakRssMb <= TARGET_RSS_MB,
      collectorCpuSeconds: round(collectorCpuSeconds, 1),
      simulatorCpuSeconds: round(simulatorCpuSeconds, 1),
    };
  } finally {
    simulator.kill('SIGTERM');
    await agent.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const chosen = (process.env.BENCH_BACKFILL_TENANTS ?? 'small,medium,large')
  .split(',')
  .map((t) => t.trim())
  .filter(Boolean);
for (const t of chosen)
  if (!(t in TENANTS)) throw new Error(`BENCH_BACKFILL_TENANTS: unknown tenant ${t} (small, medium, large)`);
for (const t of chosen as TenantName[]) {
  const figures = await run(t);
  console.log(JSON.stringify(figures));
  if (!figures.complete) process.exitCode = 1;
}
