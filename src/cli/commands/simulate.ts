import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { assertCanListen } from '../ports.js';
import { exitCodeFor, reportError } from '../run.js';
import { startSimulatorFromFlags } from '../simulator.js';

/**
 * The port and seed of the last start, kept in the state folder: a restarted simulator answers
 * where it did, with the same tenants, apps and secrets (they follow from the seed), so the
 * integrations made against it keep working.
 */
interface LastStart {
  port: number;
  seed: string;
}
const LAST_START = 'last-start.json';

function readLastStart(stateDir: string): LastStart | undefined {
  try {
    const last = JSON.parse(readFileSync(path.join(stateDir, LAST_START), 'utf8')) as Partial<LastStart>;
    return Number.isInteger(last.port) && typeof last.seed === 'string'
      ? { port: last.port!, seed: last.seed }
      : undefined;
  } catch {
    return undefined; // none yet, or unreadable: start afresh
  }
}

/** The remembered port when it is still free; otherwise any free port, saying what that breaks. */
async function portToReuse(host: string, last: LastStart): Promise<number> {
  try {
    await assertCanListen({ host, port: last.port, remedy: '' });
    return last.port;
  } catch {
    process.stderr.write(
      `Port ${last.port} of the last start is taken: listening on another. Integrations made against the old port need its new address: ` +
        'idsight integrations set <integration> --authority-host <url> --graph-url <url>\n',
    );
    return 0;
  }
}

interface SimulateFlags {
  host: string;
  port?: string;
  seed?: string;
  users: string;
  days: string;
  signinsPerUserDay?: string;
  scenario: string;
  throttle: string;
  throttleScale: string;
  faults?: string;
  clock: string;
  stateDir?: string;
  control?: boolean;
  fresh?: boolean;
  json?: boolean;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('serve a simulated Entra tenant (token endpoint and Microsoft Graph) over HTTPS until stopped')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', "port (0 = any free port; default: the last start's port if free, else any)")
    .option('--seed <n>', "seed of the generated data (default: the last start's, else 1)")
    .option('--users <n>', 'users in the main tenant', '500')
    .option('--days <n>', 'days of sign-in history', '30')
    .option('--signins-per-user-day <n>', 'interactive sign-ins per active user per day (default 4; quiet 0.5)')
    .option('--scenario <name>', 'default | quiet | attacks', 'default')
    .option('--throttle <mode>', 'microsoft | off', 'microsoft')
    .option(
      '--throttle-scale <s>',
      'multiply throttle windows and Retry-After by s (0 < s <= 1), for short benchmarks',
      '1',
    )
    .option('--faults <k=v,...>', 'fault knobs, e.g. rate429=0.1,lateMinutes=20,tokenLifetime=60')
    .option('--clock <spec>', 'real | fixed:<ISO timestamp>', 'real')
    .option(
      '--state-dir <dir>',
      "where the CA certificate and the last start's port and seed are kept (default <data dir>/simulator)",
    )
    .option('--fresh', "ignore the last start's port and seed")
    .option('--control', 'serve the /_sim/ control API (token printed at start)')
    .option('--json', 'print only the JSON start-up line')
    .action(async (flags: SimulateFlags) => {
      try {
        const stateDir = flags.stateDir ?? path.join(loadConfig().dataDir, 'simulator');
        const last = flags.fresh ? undefined : readLastStart(stateDir);
        const port = flags.port ?? (last ? String(await portToReuse(flags.host, last)) : '0');
        const seed = flags.seed ?? last?.seed ?? '1';
        const sim = await startSimulatorFromFlags({
          host: flags.host,
          port,
          seed,
          users: flags.users,
          days: flags.days,
          signinsPerUserDay: flags.signinsPerUserDay,
          scenario: flags.scenario,
          throttle: flags.throttle,
          throttleScale: flags.throttleScale,
          faults: flags.faults,
          clock: flags.clock,
          stateDir,
          control: Boolean(flags.control),
        });
        mkdirSync(stateDir, { recursive: true, mode: 0o700 });
        writeFileSync(
          path.join(stateDir, LAST_START),
          `${JSON.stringify({ port: Number(new URL(sim.url).port), seed } satisfies LastStart)}\n`,
        );
        const summary = sim.summary();
        process.stdout.write(`${JSON.stringify(summary)}\n`);
        if (!flags.json) {
          process.stderr.write(`Simulated Entra tenant at ${sim.url} (trust ${sim.caPath}).\n`);
          for (const t of summary.tenants) {
            process.stderr.write(
              `  ${t.name} (${t.licence.toUpperCase()}${t.intune ? ' + Intune' : ''}, ${t.users} users): tenant ${t.tenantId} / ${t.domains[0]}\n`,
            );
            for (const a of t.apps)
              process.stderr.write(
                `    ${a.state.padEnd(10)} client ${a.clientId}  secret ${a.secrets[0]?.value ?? '-'}\n`,
              );
          }
          process.stderr.write('Stop with Ctrl+C.\n');
        }
        const stop = () => {
          void sim.close().finally(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      } catch (err) {
        reportError(err);
        process.exit(exitCodeFor(err));
      }
    });
}
