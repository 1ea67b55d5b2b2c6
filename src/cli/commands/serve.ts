import type { Command } from 'commander';
import type { Config } from '../../config.js';
import type { Context } from '../../context.js';
import { ConfigError, loadConfig, plainHttpProblem } from '../../config.js';
import { listenProblem, type PortSource } from '../ports.js';
import { exitCodeFor, reportError } from '../run.js';
import { gracefulStop, type GracefulStop } from '../signals.js';

const PRUNE_SESSIONS_MS = 10 * 60_000;
/** Requests in flight get this long to finish once stopping starts; then their connections are cut. */
const REQUEST_GRACE_MS = 4_000;

/** The API's port, as the user changes it. */
export const apiPort = (config: Config): PortSource => ({
  host: config.host,
  port: config.port,
  remedy: 'set IDSIGHT_PORT to a free port',
  hostSetting: 'IDSIGHT_HOST',
});

/**
 * Serves the API and runs the collection schedule until SIGINT or SIGTERM. Stopping: the schedule
 * ticks no more and the supervisor starts nothing new (Collect Now answers 503), the collections in
 * progress are aborted at a page boundary and recorded as interrupted (leases released) while the
 * server stops listening and lets requests in flight finish; then the store closes and `alsoStop`
 * runs (the demo's simulator). All of it within STOP_LIMIT_MS; a second signal exits at once.
 */
export async function serveUntilStopped(
  ctx: Context,
  config: Config,
  stop: GracefulStop,
  alsoStop?: () => Promise<void>,
): Promise<void> {
  const [{ buildServer }, { createScheduler }] = await Promise.all([
    import('../../api/server.js'),
    import('../../collect/scheduler.js'),
  ]);
  const server = await buildServer(ctx);
  const scheduler = createScheduler({
    store: ctx.store,
    clock: ctx.clock,
    log: ctx.log,
    integrations: ctx.integrations,
    supervisor: ctx.supervisor,
  });
  const prune = setInterval(() => {
    ctx.auth.pruneSessions().catch((err: unknown) => ctx.log.warn({ err }, 'could not prune sessions'));
  }, PRUNE_SESSIONS_MS);
  prune.unref();

  const closeServer = async () => {
    const cut = setTimeout(() => server.server.closeAllConnections(), REQUEST_GRACE_MS);
    try {
      await server.close();
    } finally {
      clearTimeout(cut);
    }
  };
  stop.set(async (signal) => {
    clearInterval(prune);
    const started = performance.now();
    const active = ctx.supervisor.active;
    // in this order: nothing new is started from here, then everything running is interrupted
    await Promise.all([scheduler.stop(), ctx.supervisor.stop(`idsight received ${signal}`), closeServer()]);
    ctx.log.info(
      { interrupted: active, ms: Math.round(performance.now() - started) },
      'collections interrupted and the server closed',
    );
    await ctx.close();
    await alsoStop?.();
  });
  try {
    await server.listen({ host: config.host, port: config.port });
  } catch (err) {
    throw listenProblem(err, apiPort(config)) ?? err;
  }
  scheduler.start();
  ctx.log.info({ database: ctx.db.location, dataDir: config.dataDir }, 'idsight is serving');
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description(
      'serve the API and run the collection schedule until stopped (SIGINT or SIGTERM: a clean stop, exit 0; a second signal: at once)',
    )
    .action(async () => {
      let ctx: Context | undefined;
      try {
        const config = loadConfig();
        const plain = plainHttpProblem(config);
        if (plain) throw new ConfigError(plain);
        const { openContext } = await import('../../context.js');
        ctx = await openContext(config);
        const opened = ctx;
        const stop = gracefulStop(opened.log);
        stop.set(() => opened.close());
        await serveUntilStopped(opened, config, stop);
      } catch (err) {
        reportError(err);
        await ctx?.close().catch(() => undefined);
        process.exit(exitCodeFor(err));
      }
    });
}
