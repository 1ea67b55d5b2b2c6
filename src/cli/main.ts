#!/usr/bin/env node
// idsight command line: `idsight --help` lists the commands.
import { Command, CommanderError } from 'commander';
import { NAME, VERSION } from '../version.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerCollectCommands } from './commands/collect.js';
import { registerDbCommands } from './commands/db.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerExportCommand } from './commands/export.js';
import { registerIntegrationCommands } from './commands/integrations.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerServeCommand } from './commands/serve.js';
import { registerSimulateCommand } from './commands/simulate.js';
import { registerTokenCommands } from './commands/tokens.js';
import { registerUserCommands } from './commands/users.js';
import { printJson } from './run.js';

const program = new Command()
  .name('idsight')
  .description('Identity security for Microsoft Entra ID')
  .version(VERSION, '-V, --version')
  .showHelpAfterError()
  .exitOverride();

registerServeCommand(program);
registerDemoCommand(program);
registerSimulateCommand(program);
registerDbCommands(program);
registerUserCommands(program);
registerTokenCommands(program);
registerIntegrationCommands(program);
registerCollectCommands(program);
registerExportCommand(program);
registerKeyCommands(program);
registerAuditCommand(program);
program
  .command('version')
  .description('print the version')
  .option('--json', 'machine-readable output')
  .action((opts: { json?: boolean }) => {
    if (opts.json) printJson({ name: NAME, version: VERSION, node: process.versions.node });
    else process.stdout.write(`${NAME} ${VERSION}\n`);
  });

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and --version exit 0; everything else commander rejects is bad usage
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    process.stderr.write(`idsight: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
