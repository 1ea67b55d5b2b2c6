import type { Command } from 'commander';
import { auditQuery, OUTCOMES } from '../../api/routes/audit/schema.js';
import { parseFlags, printJson, printTable, withContext } from '../run.js';

interface AuditFlags {
  limit: string;
  before?: string;
  actor?: string;
  action?: string;
  outcome?: string;
  since?: string;
  until?: string;
  json?: boolean;
}

export function registerAuditCommand(program: Command): void {
  program
    .command('audit')
    .description('the audit log, newest first: every change made through the API, the CLI or by idsight itself')
    .option('--limit <n>', 'how many entries (at most 500)', '50')
    .option('--before <id>', 'entries older than this entry id (the next page)')
    .option('--actor <id>', 'only what this dashboard user did (their id)')
    .option('--action <action>', 'only this action, e.g. integrations.create')
    .option('--outcome <outcome>', `only ${OUTCOMES.join(', ')}`)
    .option('--since <iso>', 'entries from this time on')
    .option('--until <iso>', 'entries before this time')
    .option('--json', 'machine-readable output')
    .action((flags: AuditFlags) =>
      withContext(async (ctx) => {
        const { json, ...query } = flags;
        const entries = await ctx.audit.list(parseFlags(auditQuery, query));
        if (json) return printJson(entries);
        printTable(
          entries.map((e) => ({
            id: String(e.id),
            at: e.at,
            actor: `${e.actor.type}${e.actor.label ? ` ${e.actor.label}` : ''}`,
            action: e.action,
            target: e.target ?? '',
            outcome: e.outcome,
            detail: e.detail ? JSON.stringify(e.detail) : '',
          })),
          ['id', 'at', 'actor', 'action', 'target', 'outcome', 'detail'],
        );
      }),
    );
}
