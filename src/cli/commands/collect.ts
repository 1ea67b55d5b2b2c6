import type { Command } from 'commander';
import { etaSeconds, percentDone, type Progress } from '../../collect/runner.js';
import { collectInput, runsQuery } from '../../api/routes/integrations/schema.js';
import { cliActor, parseFlags, printJson, printTable, withIntegration } from '../run.js';
import { onStopSignals, SIGNAL_EXIT_CODES, type StopSignal } from '../signals.js';

const formatEta = (seconds: number): string =>
  seconds < 90
    ? `${seconds} s`
    : seconds < 5400
      ? `${Math.round(seconds / 60)} min`
      : `${(seconds / 3600).toFixed(1)} h`;

/**
 * Progress: at a terminal, one line that rewrites itself with every run in progress (the event
 * logs are read at once), and a line of its own for each run as it ends; JSON lines otherwise.
 */
export function progressPrinter(json: boolean): (p: Progress) => void {
  const tty = process.stderr.isTTY && !json;
  const active = new Map<string, Progress>();
  let last = 0;
  return (p) => {
    const s = p.stats;
    if (!tty) {
      process.stderr.write(
        `${JSON.stringify({ progress: p.dataType, run: p.runId, ...(p.ended ? { ended: true } : {}), ...s })}\n`,
      );
      return;
    }
    const now = Date.now();
    if (p.ended) {
      active.delete(p.runId);
      process.stderr.write(
        `\r\x1b[K${p.dataType}: fetched ${s.fetched ?? 0}  new ${s.inserted ?? 0}  updated ${s.updated ?? 0}\n`,
      );
    } else {
      active.set(p.runId, p);
      if (now - last < 200) return;
    }
    last = now;
    const runs = [...active.values()];
    if (runs.length === 0) return;
    const parts = runs.map((r) => {
      const percent = percentDone(r.stats);
      return percent === null ? `${r.dataType} ${r.stats.fetched ?? 0}` : `${r.dataType} ${percent}%`;
    });
    const etas = runs.map((r) => etaSeconds(r, now)).filter((e) => e !== null);
    const fetched = runs.reduce((n, r) => n + (r.stats.fetched ?? 0), 0);
    const eta = etas.length > 0 ? `  ETA ${formatEta(Math.max(...etas))}` : '';
    process.stderr.write(`\r\x1b[K${parts.join(' · ')}  fetched ${fetched}${eta}`);
  };
}

export function registerCollectCommands(program: Command): void {
  program
    .command('collect <integration>')
    .description(
      'collect now: every data type turned on (sign-ins and audits: first the whole retention window, ' +
        'then only what is new); Ctrl+C interrupts it cleanly, resumable',
    )
    .option('--types <list>', 'comma-separated data types (default: those turned on)')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { types?: string; json?: boolean }) =>
      withIntegration(ref, async (ctx, id) => {
        const { types } = parseFlags(collectInput, {
          types: opts.types
            ?.split(',')
            .map((t) => t.trim())
            .filter(Boolean),
        });
        // Ctrl+C (or SIGTERM) interrupts the runs at a page boundary and records them as
        // interrupted, leases released; the table below still shows where each stopped.
        let stoppedBy: StopSignal | undefined;
        const supervisor = ctx.supervisor;
        onStopSignals((signal) => {
          stoppedBy = signal;
          void supervisor.stop(`idsight received ${signal}`);
        });
        const outcomes = await ctx.supervisor.run(id, {
          ...(types ? { types } : {}),
          trigger: 'manual',
          onProgress: progressPrinter(Boolean(opts.json)),
        });
        // a run that failed or was interrupted did not do what was asked
        const incomplete = outcomes
          .filter((o) => o.status === 'failed' || o.status === 'interrupted')
          .map((o) => `${o.dataType} ${o.status}`);
        await ctx.audit.record({
          actor: cliActor(),
          action: 'integrations.collect',
          target: id,
          outcome: incomplete.length > 0 ? 'failure' : 'success',
          detail: { types: types ?? 'enabled', ...(incomplete.length > 0 ? { incomplete } : {}) },
        });
        if (opts.json) printJson(outcomes);
        else {
          printTable(
            outcomes.map((o) => ({
              'data type': o.dataType,
              status: o.status,
              fetched: String(o.stats.fetched ?? ''),
              new: String(o.stats.inserted ?? ''),
              updated: String(o.stats.updated ?? ''),
              note: o.error ? `${o.error}${o.guidance ? ` — ${o.guidance}` : ''}` : '',
            })),
            ['data type', 'status', 'fetched', 'new', 'updated', 'note'],
          );
        }
        if (outcomes.some((o) => o.status === 'failed')) process.exitCode = 1;
        if (stoppedBy) process.exitCode = SIGNAL_EXIT_CODES[stoppedBy];
      }),
    );

  program
    .command('runs <integration>')
    .description('the collection run history of an integration, newest first')
    .option('--limit <n>', 'how many (at most 500)', '20')
    .option('--json', 'machine-readable output')
    .action((ref: string, opts: { limit: string; json?: boolean }) =>
      withIntegration(ref, async (ctx, id) => {
        const runs = await ctx.collector.runs(id, parseFlags(runsQuery, { limit: opts.limit }).limit);
        if (opts.json) return printJson(runs);
        printTable(
          runs.map((r) => ({
            started: r.startedAt,
            'data type': r.dataType,
            status: r.status,
            fetched: String(r.stats.fetched ?? ''),
            new: String(r.stats.inserted ?? ''),
            updated: String(r.stats.updated ?? ''),
            deleted: String(r.stats.deleted ?? ''),
            requests: String(r.stats.requests ?? ''),
            '429s': String(r.stats.throttled ?? ''),
            retries: String(r.stats.retries ?? ''),
            ended:
              r.endedAt ??
              (r.progress
                ? `running${r.progress.percent === null ? '' : ` ${r.progress.percent}%`}` +
                  `${r.progress.etaSeconds === null ? '' : `, ETA ${formatEta(r.progress.etaSeconds)}`}`
                : ''),
            error: r.error ? `${r.error}${r.guidance ? ` — ${r.guidance}` : ''}` : '',
          })),
          [
            'started',
            'data type',
            'status',
            'fetched',
            'new',
            'updated',
            'deleted',
            'requests',
            '429s',
            'retries',
            'ended',
            'error',
          ],
        );
      }),
    );
}
