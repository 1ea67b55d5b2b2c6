// How fast the simulator serves sign-ins over HTTPS loopback (throttling off, pages of 1,000,
// the client parsing every page as a collector would), and the simulator's peak RSS while
// serving a 30-day tenant — measured at 10,000 users and again at 40,000 to show it stays flat.
// The simulator runs in its own process (`idsight simulate`), so its memory is its own.
import { readFileSync } from 'node:fs';
import { ConfidentialClientApplication } from '@azure/msal-node';
import { request } from 'undici';
import { createEntraDispatcher, msalNetworkClient } from '../src/entra/network.js';
import { peakRssMb, startSimulatorProcess } from './processes.js';

const TARGET_PER_SECOND = 40_000;
const TARGET_RSS_MB = 250;
const SECONDS = Number(process.env.BENCH_SIM_SECONDS ?? 15);
const CLOCK = '2026-11-20T12:00:00Z';

async function run(users: number, inFlight: number): Promise<Record<string, number>> {
  const { child, summary } = await startSimulatorProcess([
    '--users',
    String(users),
    '--days',
    '30',
    '--throttle',
    'off',
    '--clock',
    `fixed:${CLOCK}`,
  ]);
  try {
    const tenant = summary.tenants[0]!;
    const app = tenant.apps.find((a) => a.state === 'readwrite')!;
    const dispatcher = createEntraDispatcher({ ca: readFileSync(summary.caCertificate, 'utf8') });
    const cca = new ConfidentialClientApplication({
      auth: {
        clientId: app.clientId,
        authority: `${summary.authorityHost}/${tenant.tenantId}`,
        clientSecret: app.secrets[0]!.value,
        knownAuthorities: [new URL(summary.authorityHost).host],
      },
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
        let url: string | undefined =
          `${summary.graphUrl}/v1.0/auditLogs/signIns?$top=1000&$filter=${encodeURIComponent(`createdDateTime ge ${since} and createdDateTime le ${until}`)}`;
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
    return {
      users,
      inFlight,
      signInsPerSecond: Math.round(records / seconds),
      pages,
      records,
      simulatorStartRssMb: baseline,
      simulatorPeakRssMb: peakRssMb(child.pid!),
    };
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
