import type { Command } from 'commander';
import { userCreate } from '../../api/routes/users/schema.js';
import { generatePassword } from '../../auth/passwords.js';
import { parseInput } from '../../validation.js';
import { audited, cliActor, iso, printJson, printTable, readStdinLine, say, withContext } from '../run.js';

export function registerUserCommands(program: Command): void {
  const users = program.command('users').description('manage dashboard users (admin, helpdesk, analyst)');

  users
    .command('add')
    .description('add a dashboard user; the password comes from stdin, or one is generated and printed once')
    .requiredOption('--email <email>', 'sign-in email')
    .requiredOption('--role <role>', 'admin, helpdesk or analyst')
    .option('--password-stdin', 'read the password from the first line of standard input')
    .option('--json', 'machine-readable output')
    .action((opts: { email: string; role: string; passwordStdin?: boolean; json?: boolean }) =>
      withContext(async (ctx) => {
        const password = opts.passwordStdin ? await readStdinLine('password') : undefined;
        // the flags go through the API's own contract: the same checks, the same messages
        const created = await ctx.auth.createUser(
          parseInput(userCreate, { email: opts.email, role: opts.role, password }),
        );
        await ctx.audit.record({
          actor: cliActor(),
          action: 'users.create',
          target: created.user.id,
          outcome: 'success',
          detail: { email: created.user.email, role: created.user.role },
        });
        if (opts.json) return printJson(created);
        say(`added ${created.user.email} (${created.user.role}), id ${created.user.id}\n`);
        if (created.generatedPassword) say(`password (shown once): ${created.generatedPassword}\n`);
      }),
    );

  users
    .command('list')
    .description('list dashboard users')
    .option('--json', 'machine-readable output')
    .action((opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const list = await ctx.auth.listUsers();
        if (opts.json) return printJson(list);
        printTable(
          list.map((u) => ({ email: u.email, role: u.role, id: u.id, 'last login': iso(u.lastLoginAt) })),
          ['email', 'role', 'id', 'last login'],
        );
      }),
    );

  users
    .command('remove <user>')
    .description('remove a dashboard user (by email or id); their sessions and API tokens end')
    .option('--json', 'machine-readable output')
    .action((who: string, opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        await ctx.auth.removeUser(user.id);
        await ctx.audit.record({
          actor: cliActor(),
          action: 'users.remove',
          target: user.id,
          outcome: 'success',
          detail: { email: user.email },
        });
        if (opts.json) return printJson({ removed: user });
        say(`removed ${user.email}\n`);
      }),
    );

  users
    .command('set-role <user> <role>')
    .description('change the role of a dashboard user (by email or id); their sessions end')
    .option('--json', 'machine-readable output')
    .action((who: string, role: string, opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        const updated = await ctx.auth.setRole(user.id, role);
        await ctx.audit.record({
          actor: cliActor(),
          action: 'users.set_role',
          target: user.id,
          outcome: 'success',
          detail: { email: user.email, role: updated.role },
        });
        if (opts.json) return printJson(updated);
        say(`${updated.email} is now ${updated.role}\n`);
      }),
    );

  users
    .command('set-password <user>')
    .description(
      'set a new password from the first line of standard input; the user’s sessions end and their API tokens are revoked',
    )
    .action((who: string) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        const { tokensRevoked } = await ctx.auth.setPassword(user.id, await readStdinLine('new password'));
        await ctx.audit.record({
          actor: cliActor(),
          action: 'users.set_password',
          target: user.id,
          outcome: 'success',
          detail: { email: user.email, tokensRevoked },
        });
        say(`password changed for ${user.email}; sessions ended, ${tokensRevoked} API token(s) revoked\n`);
      }),
    );

  users
    .command('reset-password <user>')
    .description(
      'the way back from a lost password: a new one is generated and printed once; the user’s sessions end and their API tokens are revoked',
    )
    .option('--json', 'machine-readable output')
    .action((who: string, opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        const password = generatePassword();
        const { tokensRevoked } = await ctx.auth.setPassword(user.id, password);
        await ctx.audit.record({
          actor: cliActor(),
          action: 'users.reset_password',
          target: user.id,
          outcome: 'success',
          detail: { email: user.email, tokensRevoked },
        });
        if (opts.json) return printJson({ email: user.email, password, tokensRevoked });
        say(
          `new password for ${user.email} (shown once): ${password}\nsessions ended, ${tokensRevoked} API token(s) revoked\n`,
        );
      }),
    );

  users
    .command('sessions <user>')
    .description('the user’s dashboard sessions: when the password was typed, last seen, from where')
    .option('--json', 'machine-readable output')
    .action((who: string, opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        const sessions = await ctx.auth.listSessions(user.id);
        if (opts.json) return printJson(sessions);
        printTable(
          sessions.map((x) => ({
            'signed in': iso(x.createdAt),
            'last seen': iso(x.lastSeenAt),
            ip: x.ip ?? '',
            'user agent': x.userAgent ?? '',
          })),
          ['signed in', 'last seen', 'ip', 'user agent'],
        );
      }),
    );

  users
    .command('sign-out <user>')
    .description('ends every dashboard session of the user (their API tokens stay: see revoke-token)')
    .action((who: string) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        const ended = await audited(ctx, 'users.end_sessions', user.id, { email: user.email }, () =>
          ctx.auth.endSessions(user.id),
        );
        say(`${ended} session(s) of ${user.email} ended\n`);
      }),
    );

  users
    .command('tokens <user>')
    .description('the user’s API tokens (never the tokens themselves: their names, prefixes and dates)')
    .option('--json', 'machine-readable output')
    .action((who: string, opts: { json?: boolean }) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        const tokens = await ctx.auth.listApiTokens(user.id);
        if (opts.json) return printJson(tokens);
        printTable(
          tokens.map((t) => ({
            id: t.id,
            name: t.name,
            prefix: t.prefix,
            created: iso(t.createdAt),
            'last used': iso(t.lastUsedAt),
            expires: iso(t.expiresAt),
          })),
          ['id', 'name', 'prefix', 'created', 'last used', 'expires'],
        );
      }),
    );

  users
    .command('revoke-token <user> <token-id>')
    .description('revokes one of the user’s API tokens at once')
    .action((who: string, tokenId: string) =>
      withContext(async (ctx) => {
        const user = await ctx.auth.findUser(who);
        await audited(ctx, 'tokens.revoke', tokenId, { userId: user.id, email: user.email }, () =>
          ctx.auth.revokeApiToken(user.id, tokenId),
        );
        say(`API token ${tokenId} of ${user.email} revoked\n`);
      }),
    );
}
