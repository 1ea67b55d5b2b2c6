// `idsight export ID --type T`: stored records to standard output or a file, streamed (see
// export/export.ts for the formats). A file holds personal data: it is created with mode 0600,
// and written as FILE.partial then renamed, so a failed export never leaves a file that looks
// complete.
import { open, rename, unlink } from 'node:fs/promises';
import type { Command } from 'commander';
import { EXPORT_TYPES, exportQuery } from '../../api/routes/export/schema.js';
import { exportDetail, openExport, type OpenExport } from '../../export/export.js';
import { visible } from '../../validation.js';
import { cliActor, errorKind, parseFlags, withIntegration } from '../run.js';

interface ExportFlags {
  type: string;
  since?: string;
  until?: string;
  format: string;
  output?: string;
  includeDeleted?: boolean;
}

/** Writes the export to standard output, waiting when the pipe is full; stops quietly when it closes. */
async function toStdout(exp: OpenExport): Promise<number> {
  const out = process.stdout;
  let bytes = 0;
  let closed = false; // the reader went away (`| head`): not a failure of the export
  let failure: Error | undefined;
  const onError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') closed = true;
    else failure = err;
  };
  out.on('error', onError);
  // A terminal shows the tenant's text, not its control characters: an escape sequence in a
  // display name must not steer it. A pipe or a file gets the export exactly.
  const shown = out.isTTY ? visible : (chunk: string) => chunk;
  const writable = () =>
    new Promise<void>((resolve) => {
      const done = () => {
        out.off('drain', done).off('close', done).off('error', done);
        resolve();
      };
      out.on('drain', done).on('close', done).on('error', done);
    });
  try {
    for await (const chunk of exp.chunks) {
      if (failure) throw failure;
      if (closed) break;
      const text = shown(chunk);
      bytes += Buffer.byteLength(text);
      if (!out.write(text)) await writable();
    }
    if (failure) throw failure;
  } finally {
    // After EPIPE the listener stays: later writes fail the same way and must not crash the process.
    if (!closed) out.off('error', onError);
  }
  return bytes;
}

/** Writes the export to FILE.partial (0600), syncs it, then renames it to FILE. */
async function toFile(exp: OpenExport, file: string): Promise<number> {
  const partial = `${file}.partial`;
  await unlink(partial).catch(() => undefined); // left by an interrupted export
  let bytes = 0;
  try {
    // wx: never through a symlink or into a file someone else opened; 0600: personal data.
    const fh = await open(partial, 'wx', 0o600);
    try {
      await fh.chmod(0o600); // whatever the umask
      for await (const chunk of exp.chunks) {
        const buf = Buffer.from(chunk, 'utf8');
        for (let off = 0; off < buf.length;) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
        bytes += buf.length;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(partial, file);
  } catch (err) {
    await unlink(partial).catch(() => undefined);
    throw err;
  }
  return bytes;
}

export function registerExportCommand(program: Command): void {
  program
    .command('export <integration>')
    .description('stream stored records: jsonl (the Graph records exactly as collected) or csv (the typed columns)')
    .requiredOption('--type <type>', `what to export: ${EXPORT_TYPES.join(', ')}`)
    .option('--since <iso>', 'records from this time on (ISO 8601; types with a time only)')
    .option('--until <iso>', 'records before this time (ISO 8601; types with a time only)')
    .option('--format <format>', 'jsonl or csv', 'jsonl')
    .option('--output <file>', 'write this file (mode 0600) instead of standard output')
    .option('--include-deleted', 'also records that have left the tenant')
    .action((ref: string, flags: ExportFlags) =>
      withIntegration(ref, async (ctx, id) => {
        const { output, includeDeleted, ...typed } = flags;
        // as typed until the flags are read through the contract (see AuditEvent.input)
        let input: Record<string, string | undefined> | undefined = typed;
        let detail: Record<string, unknown> = { includeDeleted: Boolean(includeDeleted), output: output ?? 'stdout' };
        let exp: OpenExport | undefined;
        try {
          const query = parseFlags(exportQuery, flags.includeDeleted ? { ...typed, includeDeleted } : typed);
          input = undefined;
          detail = { ...exportDetail(query), output: output ?? 'stdout' };
          exp = await openExport(ctx, id, query);
          const bytes = flags.output ? await toFile(exp, flags.output) : await toStdout(exp);
          await ctx.audit.record({
            actor: cliActor(),
            action: 'integrations.export',
            target: id,
            outcome: 'success',
            detail: { ...detail, records: exp.stats.records, bytes },
          });
          if (flags.output)
            process.stderr.write(
              `exported ${exp.stats.records} ${exp.plan.type} records (${bytes} bytes, ${exp.plan.format}) to ${flags.output}\n`,
            );
        } catch (err) {
          const failure = { ...detail, ...(exp ? { records: exp.stats.records } : {}), error: errorKind(err) };
          await ctx.audit
            .record({
              actor: cliActor(),
              action: 'integrations.export',
              target: id,
              outcome: 'failure',
              detail: failure,
              input,
            })
            .catch(() => undefined);
          throw err;
        }
      }),
    );
}
