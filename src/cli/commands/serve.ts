import type { Command } from 'commander';
import type { Config } from '../../config.js';
import type { Context } from '../../context.js';
import { loadConfig } from '../../config.js';
import { exitCodeFor, reportError } from '../run.js';

const PRUNE_SESSIONS_MS = 10 * 60_000;

/**
 * Serves the API and runs the collection schedule until SIGINT or SIGTERM, then stops cleanly
 * (`alsoStop` runs last: the demo's simulator).
 */
export async function serveUntilStopped(ctx: Context, config: Config, alsoStop?: () => Promise<void>): Promise<void> {
  const [{ buildServer }, { createScheduler }] = await Promise.all([import('../../api/server.js'), import('../../collect/scheduler.js')]);
  const server = await buildServer(ctx);
  const scheduler = createScheduler({ db: ctx.db, clock: ctx.clock, log: ctx.log, integrations: ctx.integrations, collector: ctx.collector });
  const prune = setInterval(() => {
    ctx.auth.pruneSessions().catch((err: unknown) => ctx.log.warn({ err }, 'could not prune sessions'));
  }, PRUNE_SESSIONS_MS);
  prune.unref();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    ctx.log.info({ signal }, 'stopping');
    clearInterval(prune);
    scheduler.stop();
    void server
      .close()
      .then(() => ctx.close())
      .then(() => alsoStop?.())
      .finally(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await server.listen({ host: config.host, port: config.port });
  scheduler.start();
  ctx.log.info({ database: ctx.db.location, dataDir: config.dataDir }, 'idsight is serving');
}

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the API and run the collection schedule until stopped')
    .action(async () => {
      try {
        const config = loadConfig();
        const { openContext } = await import('../../context.js');
        await serveUntilStopped(await openContext(config), config);
      } catch (err) {
        reportError(err);
        process.exit(exitCodeFor(err));
      }
    });
}
