// End-to-end ingest: the simulated tenant (its own process, from the build, throttling off)
// serves interactive sign-ins over HTTPS; the collector backfills them into SQLite (and
// PostgreSQL when IDSIGHT_BENCH_PG_URL or IDSIGHT_TEST_PG_URL is set) exactly as `idsight
// collect` does. Figures: sign-ins per second and peak RSS of the collecting process, at about
// 100,000 and 1,000,000 sign-ins (memory must stay flat between the two).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { collectEvents } from '../src/collect/events.js';
import { resolveCloud } from '../src/entra/clouds.js';
import { createTokenSource } from '../src/entra/credentials.js';
import { createGraphClient } from '../src/entra/graph.js';
import { createEntraDispatcher } from '../src/entra/network.js';
import type { SimulatorSummary } from '../src/simulator/server.js';
import { createCollectionRepo } from '../src/store/collection.js';
import type { Dialect } from '../src/store/db.js';
import { createSignInRepo } from '../src/store/signins.js';
import { openMigrated } from '../test/helpers/databases.js';

const CLOCK = '2026-11-20T12:00:00Z';
const TARGET: Record<Dialect, number> = { sqlite: 20_000, postgres: 10_000 };
const SIMULATE = existsSync('dist/src/cli/main.js') ? ['dist/src/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];

function peakRssMb(): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

async function run(dialect: Dialect, users: number, days: number): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [...SIMULATE, 'simulate', '--json', '--users', String(users), '--days', String(days), '--throttle', 'off', '--clock', `fixed:${CLOCK}`, '--state-dir', mkdtempSync(path.join(tmpdir(), 'idsight-bench-'))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { db, dispose } = await openMigrated(dialect);
  try {
    const summary = JSON.parse(await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve))) as SimulatorSummary;
    const tenant = summary.tenants[0]!;
    const app = tenant.apps.find((a) => a.state === 'readwrite')!;
    const ca = readFileSync(summary.caCertificate, 'utf8');
    const dispatcher = createEntraDispatcher({ ca });
    const cloud = resolveCloud('custom', { authorityHost: summary.authorityHost, graphUrl: summary.graphUrl, caPem: ca });
    const tokens = createTokenSource({ tenantId: tenant.tenantId, clientId: app.clientId, clientSecret: app.secrets[0]!.value, cloud, dispatcher });
    const graph = createGraphClient({ graphUrl: summary.graphUrl, dispatcher, tokens });
    const collect = () =>
      collectEvents({
        integrationId: 'bench',
        dataType: 'signIns',
        graph,
        collection: createCollectionRepo(db),
        store: createSignInRepo(db),
        clock: { now: () => Date.parse(CLOCK) },
        settings: { retentionDays: days, concurrency: 3 },
      });
    const started = performance.now();
    const stats = await collect();
    const seconds = (performance.now() - started) / 1000;
    // An incremental run with nothing new right after: Graph requests (pages) and time.
    const incrementalStarted = performance.now();
    const incremental = await collect();
    const incrementalMs = Math.round(performance.now() - incrementalStarted);
    await dispatcher.close();
    return {
      bench: 'collect-signins',
      dialect,
      users,
      days,
      signIns: stats.inserted,
      pages: stats.pages,
      seconds: Math.round(seconds * 10) / 10,
      signInsPerSecond: Math.round(stats.inserted / seconds),
      target: TARGET[dialect],
      meetsTarget: stats.inserted / seconds >= TARGET[dialect],
      peakRssMb: peakRssMb(),
      incrementalPages: incremental.pages,
      incrementalNew: incremental.inserted,
      incrementalMs,
    };
  } finally {
    child.kill('SIGTERM');
    await dispose();
  }
}

const dialects: Dialect[] = process.env.IDSIGHT_BENCH_PG_URL || process.env.IDSIGHT_TEST_PG_URL ? ['sqlite', 'postgres'] : ['sqlite'];
if (!process.env.IDSIGHT_TEST_PG_URL && process.env.IDSIGHT_BENCH_PG_URL) process.env.IDSIGHT_TEST_PG_URL = process.env.IDSIGHT_BENCH_PG_URL;
for (const dialect of dialects) {
  // ~100,000 then ~1,000,000 interactive sign-ins (4 per active user per day)
  console.log(JSON.stringify(await run(dialect, 1_000, 30)));
  console.log(JSON.stringify(await run(dialect, 10_000, 30)));
}
