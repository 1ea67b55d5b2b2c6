import type { Command } from 'commander';
import { printJson, printTable, UsageError, withContext } from '../run.js';

const OUTCOMES = ['success', 'failure', 'denied'] as const;
type Outcome = (typeof OUTCOMES)[number];

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

/** An ISO 8601 date-time flag as epoch ms, or a usage error naming the flag. */
function time(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d\d-\d\d(T[\d:.]+(Z|[+-]\d\d:\d\d))?$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms))
    throw new UsageError(
      `${flag} wants an ISO 8601 date or date-time, e.g. 2026-11-27 or 2026-11-27T09:00:00Z, not "${value}"`,
    );
  return ms;
}

function whole(flag: string, value: string, max: number): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max)
    throw new UsageError(`${flag} wants a whole number from 1 to ${max}, not "${value}"`);
  return Number(value);
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
        if (flags.outcome !== undefined && !(OUTCOMES as readonly string[]).includes(flags.outcome))
          throw new UsageError(`--outcome wants ${OUTCOMES.join(', ')}, not "${flags.outcome}"`);
        const entries = await ctx.audit.list({
          limit: whole('--limit', flags.limit, 500),
          beforeId: flags.before === undefined ? undefined : whole('--before', flags.before, Number.MAX_SAFE_INTEGER),
          actorId: flags.actor,
          action: flags.action,
          outcome: flags.outcome as Outcome | undefined,
          since: time('--since', flags.since),
          until: time('--until', flags.until),
        });
        if (flags.json) return printJson(entries);
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
