import type { Command } from 'commander';
import { generateKeyText } from '../../vault/keyring.js';
import { cliActor, printJson, say, withContext } from '../run.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('the master key that encrypts client secrets at rest');
  keys
    .command('rotate')
    .description('re-encrypt every stored secret under a new master key')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const { rotateKeys } = await import('../../vault/service.js');
        const result = await rotateKeys({ db: ctx.db, store: ctx.store, clock: ctx.clock, vault: ctx.vault });
        await ctx.audit.record({
          actor: cliActor(),
          action: 'keys.rotate',
          target: result.keyId,
          outcome: 'success',
          detail: { ...result },
        });
        if (opts.json) return printJson(result);
        if (result.source === 'env' && result.previousKeyIds.length === 0 && result.reencrypted === 0) {
          say(
            `nothing to rotate: everything is already under key ${result.keyId}. To rotate a key kept in IDSIGHT_MASTER_KEY, ` +
              'put a new key first (IDSIGHT_MASTER_KEY=<new>,<old>; `idsight keys generate` prints one) and run this again.\n',
          );
          return;
        }
        say(`re-encrypted ${result.reencrypted} secret(s) under master key ${result.keyId}\n`);
        if (result.source === 'env' && result.previousKeyIds.length > 0) {
          say(`the old key(s) ${result.previousKeyIds.join(', ')} can now be removed from IDSIGHT_MASTER_KEY\n`);
        }
      }),
    );
  keys
    .command('generate')
    .description('print a new random master key (for IDSIGHT_MASTER_KEY); changes nothing')
    .action(() => {
      say(`${generateKeyText()}\n`);
    });
}
