import type { Command } from 'commander';
import type { Progress } from '../../collect/runner.js';
import { cliActor, printJson, printTable, withContext } from '../run.js';

/** Progress: a line that rewrites itself at a terminal, JSON lines otherwise. */
function progressPrinter(json: boolean): (p: Progress) => void {
  const tty = process.stderr.isTTY && !json;
  let last = 0;
  return (p) => {
    const s = p.stats;
    if (!tty) {
      process.stderr.write(`${JSON.stringify({ progress: p.dataType, run: p.runId, ...s })}\n`);
      return;
    }
    const now = Date.now();
    if (now - last < 200 && s.slicesDone < s.slices) return;
    last = now;
    const width = 24;
    const filled = s.slices > 0 ? Math.round((s.slicesDone / s.slices) * width) : 0;
    process.stderr.write(`\r${p.dataType} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] slices ${s.slicesDone}/${s.slices}  fetched ${s.fetched}  new ${s.inserted}  updated ${s.updated}   `);
  };
}

export function registerCollectCommands(program: Command): void {
  program
    .command('collect <id>')
    .description('collect now: sign-ins (first run: the whole retention window), then only what is new')
    .option('--types <list>', 'comma-separated data types (default: those turned on)')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { types?: string; json?: boolean }) =>
      withContext(async (ctx) => {
        const types = opts.types?.split(',').map((t) => t.trim()).filter(Boolean);
        const outcomes = await ctx.collector.run(id, { ...(types ? { types } : {}), trigger: 'manual', onProgress: progressPrinter(Boolean(opts.json)) });
        if (process.stderr.isTTY && !opts.json) process.stderr.write('\n');
        await ctx.audit.record({ actor: cliActor(), action: 'integrations.collect', target: id, outcome: outcomes.some((o) => o.status === 'failed') ? 'failure' : 'success', detail: { types: types ?? 'enabled' } });
        if (opts.json) printJson(outcomes);
        else {
          printTable(
            outcomes.map((o) => ({ 'data type': o.dataType, status: o.status, fetched: String(o.stats.fetched ?? ''), new: String(o.stats.inserted ?? ''), updated: String(o.stats.updated ?? ''), note: o.error ? `${o.error}${o.guidance ? ` — ${o.guidance}` : ''}` : '' })),
            ['data type', 'status', 'fetched', 'new', 'updated', 'note'],
          );
        }
        if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
      }),
    );

  program
    .command('runs <id>')
    .description('the collection run history of an integration, newest first')
    .option('--limit <n>', 'how many', '20')
    .option('--json', 'machine-readable output')
    .action((id: string, opts: { limit: string; json?: boolean }) =>
      withContext(async (ctx) => {
        const runs = await ctx.collector.runs(id, Math.max(1, Math.min(500, Number(opts.limit) || 20)));
        if (opts.json) return printJson(runs);
        printTable(
          runs.map((r) => ({
            started: r.startedAt,
            'data type': r.dataType,
            status: r.status,
            fetched: String(r.stats.fetched ?? ''),
            new: String(r.stats.inserted ?? ''),
            ended: r.endedAt ?? '',
            error: r.error ?? '',
          })),
          ['started', 'data type', 'status', 'fetched', 'new', 'ended', 'error'],
        );
      }),
    );
}
