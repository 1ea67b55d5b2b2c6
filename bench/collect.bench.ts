// End-to-end ingest, measured on idsight as users run it: the simulated tenant (`idsight
// simulate`, throttling off) and `idsight collect --types signIns` are both processes from the
// build, talking HTTPS over loopback, into SQLite (and PostgreSQL when IDSIGHT_BENCH_PG_URL or
// IDSIGHT_TEST_PG_URL is set). Figures: sign-ins per second over the run (from the run history),
// peak RSS of the collecting process (its VmHWM, read while it runs) at about 100,000 and
// 1,000,000 sign-ins — memory must stay flat between the two — and an incremental run with
// nothing new right after: its Graph requests and duration. Also the store's size on disk per
// sign-in (SQLite: the file and its log; PostgreSQL: the sign-in tables, indexes and TOAST).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Dialect } from '../src/store/db.js';
import { createTestDatabase } from '../test/helpers/databases.js';
import {
  addSimulatedIntegration,
  cpuSeconds,
  IDSIGHT,
  idsightCli,
  NODE_FLAGS,
  peakRssMb,
  startSimulatorProcess,
} from './processes.js';
import { storeBytes } from './store-size.js';

const TARGET: Record<Dialect, number> = { sqlite: 20_000, postgres: 10_000 };
const TARGET_RSS_MB = 300;
/** On disk per stored sign-in, indexes included (DESIGN §5). */
const TARGET_BYTES = 800;
/**
 * The data types collected (BENCH_COLLECT_TYPES): interactive sign-ins by default; add
 * nonInteractiveSignIns for a tenant's whole volume. BENCH_COLLECT_USERS and
 * BENCH_COLLECT_DIALECTS choose the tenants and the stores.
 */
const TYPES = process.env.BENCH_COLLECT_TYPES ?? 'signIns';
/**
 * Event streams behind those types (the non-interactive type reads three: user, service principal, managed
 * identity): an incremental run with little new needs one request each.
 */
const STREAMS = TYPES.split(',').reduce((n, t) => n + (t === 'nonInteractiveSignIns' ? 3 : 1), 0);

/** Polls a process's peak resident set (VmHWM) and CPU time until it exits; the last readings are its totals. */
function watch(child: ChildProcess): () => { peakRssMb: number; cpuSeconds: number } {
  let peak = 0;
  let cpu = 0;
  const timer = setInterval(() => {
    try {
      const mb = peakRssMb(child.pid!);
      if (Number.isFinite(mb)) peak = Math.max(peak, mb); // a zombie's status has no VmHWM
      cpu = Math.max(cpu, cpuSeconds(child.pid!));
    } catch {
      // exited between two readings
    }
  }, 25);
  child.once('exit', () => clearInterval(timer));
  return () => ({ peakRssMb: peak, cpuSeconds: cpu });
}

async function run(dialect: Dialect, users: number, days: number): Promise<Record<string, unknown>> {
  const database = await createTestDatabase(dialect);
  const env = {
    ...process.env,
    IDSIGHT_DATA_DIR: database.dataDir,
    ...(database.databaseUrl ? { IDSIGHT_DATABASE_URL: database.databaseUrl } : {}),
    IDSIGHT_GRAPH_PACING: 'off',
    IDSIGHT_LOG_LEVEL: 'warn',
  };
  const { child: simulator, summary } = await startSimulatorProcess([
    '--users',
    String(users),
    '--days',
    String(days),
    '--throttle',
    'off',
  ]);
  try {
    const tenant = summary.tenants[0]!;
    const app = tenant.apps.find((a) => a.state === 'readwrite')!;
    const cli = idsightCli(env);
    const id = addSimulatedIntegration(cli, summary, tenant.tenantId, app);

    const collect = async () => {
      const child = spawn(process.execPath, [...NODE_FLAGS, ...IDSIGHT, 'collect', id, '--types', TYPES, '--json'], {
        env,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      const usage = watch(child);
      const simulatorCpuBefore = cpuSeconds(simulator.pid!);
      let out = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      if (code !== 0) throw new Error(`idsight collect exited ${code}: ${out}`);
      // one run per data type, one after the other: their counts added up, from the first start to the last end
      const outcomes = JSON.parse(out) as Array<{ runId: string; stats: Record<string, number> }>;
      const runs = (
        JSON.parse(cli(['runs', id, '--json'])) as Array<{ id: string; startedAt: string; endedAt: string }>
      ).filter((x) => outcomes.some((o) => o.runId === x.id));
      const stats: Record<string, number> = {};
      for (const o of outcomes)
        for (const key of ['inserted', 'pages', 'requests']) stats[key] = (stats[key] ?? 0) + (o.stats[key] ?? 0);
      const ms =
        Math.max(...runs.map((x) => Date.parse(x.endedAt))) - Math.min(...runs.map((x) => Date.parse(x.startedAt)));
      return { stats, ms, ...usage(), simulatorCpuSeconds: cpuSeconds(simulator.pid!) - simulatorCpuBefore };
    };
    const backfill = await collect();
    const bytes = await storeBytes(database);
    const incremental = await collect();
    const perSecond = Math.round(backfill.stats.inserted! / (backfill.ms / 1000));
    const bytesPerSignIn = Math.round(bytes / backfill.stats.inserted!);
    return {
      bench: 'collect-signins',
      dialect,
      types: TYPES,
      users,
      days,
      signIns: backfill.stats.inserted,
      pages: backfill.stats.pages,
      seconds: Math.round(backfill.ms / 100) / 10,
      signInsPerSecond: perSecond,
      target: TARGET[dialect],
      meetsTarget: perSecond >= TARGET[dialect],
      peakRssMb: backfill.peakRssMb,
      // where the time went: the collecting process's CPU (the whole process, start-up included) and the simulator's
      collectorCpuSeconds: Math.round(backfill.cpuSeconds * 10) / 10,
      simulatorCpuSeconds: Math.round(backfill.simulatorCpuSeconds * 10) / 10,
      rssTargetMb: TARGET_RSS_MB,
      meetsRssTarget: backfill.peakRssMb <= TARGET_RSS_MB,
      storeMb: Math.round(bytes / 2 ** 20),
      bytesPerSignIn,
      targetBytesPerSignIn: TARGET_BYTES,
      meetsBytesTarget: bytesPerSignIn <= TARGET_BYTES,
      incrementalRequests: incremental.stats.requests,
      incrementalNew: incremental.stats.inserted,
      incrementalMs: incremental.ms,
      meetsIncrementalTarget: incremental.stats.requests! <= STREAMS && incremental.ms < 2_000,
    };
  } finally {
    simulator.kill('SIGTERM');
    await database.drop();
  }
}

if (!process.env.IDSIGHT_TEST_PG_URL && process.env.IDSIGHT_BENCH_PG_URL)
  process.env.IDSIGHT_TEST_PG_URL = process.env.IDSIGHT_BENCH_PG_URL;
const dialects = (
  process.env.BENCH_COLLECT_DIALECTS ?? (process.env.IDSIGHT_TEST_PG_URL ? 'sqlite,postgres' : 'sqlite')
).split(',') as Dialect[];
const sizes = (process.env.BENCH_COLLECT_USERS ?? '1000,10000').split(',').map(Number);
for (const dialect of dialects) {
  // 4 interactive sign-ins per active user per day: ~100,000 and ~1,000,000 over 30 days
  for (const users of sizes) console.log(JSON.stringify(await run(dialect, users, 30)));
}
