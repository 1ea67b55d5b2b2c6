import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { exitCodeFor, reportError } from '../run.js';

const PRUNE_SESSIONS_MS = 10 * 60_000;

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the API (and later the dashboard) until stopped')
    .action(async () => {
      try {
        const config = loadConfig();
        const [{ buildServer }, { openContext }] = await Promise.all([import('../../api/server.js'), import('../../context.js')]);
        const ctx = await openContext(config);
        const server = await buildServer(ctx);
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
          void server
            .close()
            .then(() => ctx.close())
            .finally(() => process.exit(0));
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
        await server.listen({ host: config.host, port: config.port });
        ctx.log.info({ database: ctx.db.location, dataDir: config.dataDir }, 'idsight is serving');
      } catch (err) {
        reportError(err);
        process.exit(exitCodeFor(err));
      }
    });
}
