import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { exitCodeFor, printJson, reportError } from '../run.js';

export function registerDbCommands(program: Command): void {
  program
    .command('db')
    .description('database maintenance')
    .command('migrate')
    .description('apply pending migrations (start-up does this too; safe to run again, and from two processes at once)')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }) => {
      try {
        const config = loadConfig();
        const [{ openDb }, { migrate }] = await Promise.all([import('../../store/db.js'), import('../../store/migrate.js')]);
        const db = openDb({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath });
        try {
          const outcome = await migrate(db);
          if (opts.json) printJson({ database: db.dialect, location: db.location, ...outcome });
          else process.stdout.write(`database ${db.location} (${db.dialect}): applied ${outcome.applied.length} of ${outcome.total} migrations; up to date\n`);
        } finally {
          await db.close();
        }
      } catch (err) {
        reportError(err);
        process.exitCode = exitCodeFor(err);
      }
    });
}
