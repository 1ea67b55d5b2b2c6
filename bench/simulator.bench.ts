// How fast the simulator serves sign-ins over HTTPS loopback (throttling off, pages of 1,000,
// the client parsing every page as a collector would), and the simulator's peak RSS while
// serving a 30-day tenant — measured at 10,000 users and again at 40,000 to show it stays flat.
// The simulator runs in its own process (`idsight simulate`), so its memory is its own.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { request } from 'undici';
import { createEntraDispatcher, msalNetworkClient } from '../src/entra/network.js';
import type { SimulatorSummary } from '../src/simulator/server.js';

const TARGET_PER_SECOND = 40_000;
const TARGET_RSS_MB = 250;
const SECONDS = Number(process.env.BENCH_SIM_SECONDS ?? 15);
const CLOCK = '2026-11-20T12:00:00Z';
// The shipped build when there is one (npm run bench builds first), else the sources through tsx.
const SIMULATE = existsSync('dist/src/cli/main.js') && process.env.BENCH_SIM_SOURCES !== '1' ? ['dist/src/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];

function peakRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

async function run(users: number, inFlight: number): Promise<Record<string, number>> {
  const child = spawn(
    process.execPath,
    [...SIMULATE, 'simulate', '--json', '--users', String(users), '--days', '30', '--throttle', 'off', '--clock', `fixed:${CLOCK}`, '--state-dir', mkdtempSync(path.join(tmpdir(), 'idsight-bench-sim-'))],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const line = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout! }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
    });
    const summary = JSON.parse(line) as SimulatorSummary;
    const tenant = summary.tenants[0]!;
    const app = tenant.apps.find((a) => a.state === 'readwrite')!;
    const dispatcher = createEntraDispatcher({ ca: readFileSync(summary.caCertificate, 'utf8') });
    const cca = new ConfidentialClientApplication({
      auth: { clientId: app.clientId, authority: `${summary.authorityHost}/${tenant.tenantId}`, clientSecret: app.secrets[0]!.value, knownAuthorities: [new URL(summary.authorityHost).host] },
      system: { networkClient: msalNetworkClient(dispatcher) },
    });
    const token = (await cca.acquireTokenByClientCredential({ scopes: [`${summary.graphUrl}/.default`] }))!.accessToken;
    const baseline = peakRssMb(child.pid!);

    // Each stream pages through its own day of the 30, as concurrent backfill slices do.
    let records = 0;
    let pages = 0;
    const deadline = performance.now() + SECONDS * 1000;
    const started = performance.now();
    const end = Date.parse(CLOCK);
    const stream = async (k: number) => {
      for (let day = k; performance.now() < deadline && day < 30; day += inFlight) {
        const until = new Date(end - day * 86_400_000).toISOString();
        const since = new Date(end - (day + 1) * 86_400_000).toISOString();
        let url: string | undefined = `${summary.graphUrl}/v1.0/auditLogs/signIns?$top=1000&$filter=${encodeURIComponent(`createdDateTime ge ${since} and createdDateTime le ${until}`)}`;
        while (url && performance.now() < deadline) {
          const res = await request(url, { headers: { authorization: `Bearer ${token}` }, dispatcher });
          const page = JSON.parse(await res.body.text()) as { value: unknown[]; '@odata.nextLink'?: string };
          if (res.statusCode !== 200) throw new Error(`HTTP ${res.statusCode}: ${JSON.stringify(page).slice(0, 300)}`);
          records += page.value.length;
          pages++;
          url = page['@odata.nextLink'];
        }
      }
    };
    await Promise.all(Array.from({ length: inFlight }, (_, k) => stream(k)));
    const seconds = (performance.now() - started) / 1000;
    await dispatcher.close();
    return { users, inFlight, signInsPerSecond: Math.round(records / seconds), pages, records, simulatorStartRssMb: baseline, simulatorPeakRssMb: peakRssMb(child.pid!) };
  } finally {
    child.kill('SIGTERM');
  }
}

const results = [await run(10_000, 1), await run(10_000, 2), await run(10_000, 4), await run(40_000, 4)];
for (const r of results) console.log(JSON.stringify({ bench: 'simulator-signins-https', ...r }));
const best = Math.max(...results.filter((r) => r.users === 10_000).map((r) => r.signInsPerSecond!));
const rss10k = Math.max(...results.filter((r) => r.users === 10_000).map((r) => r.simulatorPeakRssMb!));
const rss40k = results.find((r) => r.users === 40_000)!.simulatorPeakRssMb!;
console.log(
  JSON.stringify({
    bench: 'simulator-summary',
    signInsPerSecond: best,
    targetPerSecond: TARGET_PER_SECOND,
    speedMet: best >= TARGET_PER_SECOND,
    peakRssMb10kUsers: rss10k,
    peakRssMb40kUsers: rss40k,
    targetRssMb: TARGET_RSS_MB,
    memoryMet: rss10k <= TARGET_RSS_MB,
  }),
);
