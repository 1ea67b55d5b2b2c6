import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import type { ConversionProgress } from '../../store/signins-conversion.js';
import { exitCodeFor, printJson, reportError, say } from '../run.js';

/** A conversion's progress on stderr: a line that rewrites itself at a terminal, JSON lines otherwise (at most twice a second). */
function conversionProgress(json: boolean): (p: ConversionProgress) => void {
  const tty = process.stderr.isTTY && !json;
  let last = 0;
  return (p) => {
    const now = performance.now();
    if (now - last < 500 && p.converted < p.total) return;
    last = now;
    const percent = p.total ? Math.floor((p.converted / p.total) * 100) : 100;
    if (tty)
      process.stderr.write(
        `\rconverting stored sign-ins to the compact store: ${percent}% (${p.converted} of ${p.total})${p.converted === p.total ? '\n' : ''}`,
      );
    else process.stderr.write(`${JSON.stringify({ converting: 'signIns', ...p, percent })}\n`);
  };
}

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
        const [{ openDb }, { migrate }] = await Promise.all([
          import('../../store/db.js'),
          import('../../store/migrate.js'),
        ]);
        const db = openDb({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath });
        try {
          const outcome = await migrate(db, { onConversion: conversionProgress(Boolean(opts.json)) });
          if (opts.json) printJson({ database: db.dialect, location: db.location, ...outcome });
          else {
            const converted =
              outcome.converted > 0 ? `; ${outcome.converted} sign-ins converted to the compact store` : '';
            say(
              `database ${db.location} (${db.dialect}): applied ${outcome.applied.length} of ${outcome.total} migrations${converted}; up to date\n`,
            );
          }
        } finally {
          await db.close();
        }
      } catch (err) {
        reportError(err);
        process.exitCode = exitCodeFor(err);
      }
    });
}
