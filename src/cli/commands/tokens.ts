import type { Command } from 'commander';
import { SCOPES, tokenCreate } from '../../api/routes/tokens/schema.js';
import { cliActor, parseFlags, printJson, say, withContext } from '../run.js';

export function registerTokenCommands(program: Command): void {
  const tokens = program.command('tokens').description('personal API tokens for automation');
  tokens
    .command('create')
    .description('create an API token for a dashboard user; it is printed once')
    .requiredOption('--email <email>', 'the user the token acts as')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--expires-days <days>', 'lifetime in days, at most 365 (default: 90)')
    .option('--scopes <list>', `comma-separated, some of ${SCOPES.join(', ')} (default: read)`)
    .option('--json', 'machine-readable output')
    .action((opts: { email: string; name: string; expiresDays?: string; scopes?: string; json?: boolean }) =>
      withContext(async (ctx) => {
        const input = parseFlags(
          tokenCreate,
          {
            name: opts.name,
            expiresInDays: opts.expiresDays === undefined ? undefined : Number(opts.expiresDays),
            scopes: opts.scopes?.split(',').map((x) => x.trim()),
          },
          { expiresInDays: '--expires-days' },
        );
        const user = await ctx.auth.findUser(opts.email);
        const created = await ctx.auth.createApiToken(user.id, input, 'cli');
        await ctx.audit.record({
          actor: cliActor(),
          action: 'tokens.create',
          target: created.info.id,
          outcome: 'success',
          detail: {
            email: user.email,
            name: created.info.name,
            prefix: created.info.prefix,
            scopes: created.info.scopes,
          },
        });
        if (opts.json) return printJson(created);
        say(`token for ${user.email} (shown once): ${created.token}\n`);
      }),
    );
}
