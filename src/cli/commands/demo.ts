import path from 'node:path';
import type { Command } from 'commander';
import { ConfigError, loadConfig, plainHttpProblem } from '../../config.js';
import type { Context } from '../../context.js';
import { assertCanListen, type PortSource } from '../ports.js';
import { audited, exitCodeFor, printTable, reportError, say, UsageError } from '../run.js';
import { gracefulStop } from '../signals.js';
import { apiPort, serveUntilStopped } from './serve.js';
import { progressPrinter } from './collect.js';
import { startSimulatorFromFlags } from '../simulator.js';

const DEMO_ADMIN = 'admin@idsight.demo';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description(
      'everything at once: a simulated tenant under attack, an admin, an integration, the first collection, then the API and the schedule',
    )
    .option('--users <n>', 'users in the simulated tenant', '300')
    .option('--seed <n>', 'seed of the simulated tenant', '1')
    .option(
      '--sim-port <port>',
      'port of the simulated tenant (kept across restarts so the integration stays valid)',
      '8443',
    )
    .option('--throttle <mode>', "the simulator's throttling: off (fast first run) or microsoft", 'off')
    .action(async (opts: { users: string; seed: string; simPort: string; throttle: string }) => {
      let ctx: Context | undefined;
      let closeSim: (() => Promise<void>) | undefined;
      try {
        // The simulated tenant throttles as Microsoft does only with --throttle microsoft; then
        // idsight paces itself too, otherwise the first collection runs at full speed.
        const loaded = loadConfig();
        // The simulated tenant is on this machine: never through an outbound proxy the shell may set.
        const noProxy = loaded.noProxy === '*' ? '*' : [loaded.noProxy, '127.0.0.1'].filter(Boolean).join(',');
        const config = {
          ...loaded,
          noProxy,
          graphPacing: opts.throttle === 'microsoft' ? ('microsoft' as const) : ('off' as const),
        };
        // Both ports are checked before anything starts: a taken API port must not cost a first
        // collection and then fail.
        const simPort = Number(opts.simPort);
        if (!Number.isInteger(simPort) || simPort < 0 || simPort > 65535)
          throw new UsageError(
            `--sim-port must be a port number from 0 to 65535 (got ${JSON.stringify(opts.simPort)})`,
          );
        const simSource: PortSource = {
          host: '127.0.0.1',
          port: simPort,
          remedy: 'pass --sim-port with a free port (the integration follows it)',
        };
        const plain = plainHttpProblem(config);
        if (plain) throw new ConfigError(plain);
        await assertCanListen(apiPort(config));
        await assertCanListen(simSource);
        const sim = await startSimulatorFromFlags(
          {
            host: '127.0.0.1',
            port: opts.simPort,
            seed: opts.seed,
            users: opts.users,
            days: '30',
            scenario: 'attacks',
            throttle: opts.throttle,
            stateDir: path.join(config.dataDir, 'simulator'),
          },
          simSource,
        );
        const { openContext } = await import('../../context.js');
        closeSim = () => sim.close();
        ctx = await openContext(config);
        // From here a stop interrupts the first collection too, and closes the store and the simulator.
        const opened = ctx;
        const stop = gracefulStop(ctx.log);
        stop.set(async (signal) => {
          await opened.supervisor.stop(`idsight received ${signal}`);
          await opened.close();
          await sim.close();
        });
        const out = (line: string) => say(`${line}\n`);
        out(`Simulated Entra tenant (attack scenario, ${opts.users} users, 30 days) at ${sim.url}`);

        // the demo's own changes are in the audit log like any other CLI command's
        if ((await ctx.auth.listUsers()).length === 0) {
          const created = await audited(
            ctx,
            'users.create',
            null,
            { email: DEMO_ADMIN, role: 'admin', by: 'demo' },
            () => ctx!.auth.createUser({ email: DEMO_ADMIN, role: 'admin' }),
          );
          out(`Dashboard administrator: ${DEMO_ADMIN}  password (shown once): ${created.generatedPassword}`);
          out(`  (lost it? npm run idsight -- users reset-password ${DEMO_ADMIN} prints a new one)`);
        }

        const tenant = sim.tenants[0]!;
        const app = tenant.apps.find((a) => a.state === 'readwrite')!;
        let integration = (await ctx.integrations.list()).find(
          (i) => i.tenantId === tenant.id && i.clientId === app.appId,
        );
        const endpoints = { authorityHost: sim.url, graphUrl: sim.url, caPem: sim.ca };
        if (!integration) {
          const name = `${tenant.displayName} (simulated)`;
          const input = {
            name,
            tenantId: tenant.id,
            clientId: app.appId,
            clientSecret: app.secrets[0]!.secretText,
            cloud: 'custom' as const,
            ...endpoints,
          };
          const added = await audited(
            ctx,
            'integrations.create',
            null,
            { name, tenantId: tenant.id, clientId: app.appId, cloud: 'custom', by: 'demo' },
            () => ctx!.integrations.add(input),
          );
          integration = added.integration;
          out(`Integration "${integration.name}" (${integration.id}): ${added.report.message}`);
        } else {
          if (integration.customCloud?.graphUrl !== sim.url) {
            // the simulated tenant moved (--sim-port): the integration follows it
            const { id } = integration;
            integration = (
              await audited(
                ctx,
                'integrations.set_endpoints',
                id,
                { authorityHost: sim.url, graphUrl: sim.url, by: 'demo' },
                () => ctx!.integrations.setEndpoints(id, endpoints),
              )
            ).integration;
          }
          out(`Integration "${integration.name}" (${integration.id}) exists: collecting what is new`);
        }

        // At a terminal, the progress bar of `idsight collect`; elsewhere only the table below.
        const collecting = integration.id;
        const outcomes = await audited(ctx, 'integrations.collect', collecting, { types: 'enabled', by: 'demo' }, () =>
          ctx!.supervisor.run(collecting, {
            trigger: 'manual',
            ...(process.stderr.isTTY ? { onProgress: progressPrinter(false) } : {}),
          }),
        );
        printTable(
          outcomes.map((o) => ({
            'data type': o.dataType,
            status: o.status,
            fetched: String(o.stats.fetched ?? ''),
            new: String(o.stats.inserted ?? ''),
            note: o.error ?? '',
          })),
          ['data type', 'status', 'fetched', 'new', 'note'],
        );
        if (stop.stopping) return; // interrupted: the stop procedure ends the process
        out(
          `API at http://${config.host}:${config.port} (Ctrl+C stops everything; a second start collects only what is new)`,
        );
        await serveUntilStopped(ctx, config, stop, () => sim.close());
      } catch (err) {
        reportError(err);
        await ctx?.close().catch(() => undefined);
        await closeSim?.().catch(() => undefined);
        process.exit(exitCodeFor(err));
      }
    });
}
