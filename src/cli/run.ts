// Shared plumbing for CLI commands: settings, the application context, output and exit codes
// (0 ok, 1 failure, 2 bad usage or configuration).
import { hostname, userInfo } from 'node:os';
import pino from 'pino';
import type { z } from 'zod';
import type { Actor, AuditEvent } from '../audit/log.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import type { Context } from '../context.js';
import { AppError, ValidationError, VaultKeyError } from '../errors.js';
import { createLogger } from '../log.js';
import { UnsafeFileError } from '../private-files.js';
import { parseInput, visible } from '../validation.js';

export class UsageError extends Error {}

/**
 * Flags read through a resource's contract (the schema its route takes): a mistake names the flag
 * that was typed (`--limit: must be …`), not the API field behind it. A field is read from the flag
 * of its name in kebab case (`includeDeleted` from `--include-deleted`) unless `renamed` says otherwise.
 */
export function parseFlags<T extends z.ZodType>(
  schema: T,
  input: object,
  renamed: Record<string, string> = {},
): z.infer<T> {
  try {
    return parseInput(schema, input);
  } catch (err) {
    const field = err instanceof ValidationError ? (err.details as { field?: string } | undefined)?.field : undefined;
    const key = field?.split('.')[0]; // scopes.1: the flag is --scopes
    if (field === undefined || key === undefined || !(key in input)) throw err;
    const flag = renamed[key] ?? `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(`${flag}: ${(err as Error).message.slice(field.length + 2)}`);
  }
}

export function exitCodeFor(err: unknown): number {
  if (
    err instanceof ConfigError ||
    err instanceof UsageError ||
    err instanceof ValidationError ||
    err instanceof VaultKeyError ||
    err instanceof UnsafeFileError
  )
    return 2;
  return 1;
}

export function reportError(err: unknown): void {
  const message =
    err instanceof AppError || err instanceof ConfigError || err instanceof UsageError
      ? err.message
      : err instanceof Error
        ? err.message
        : String(err);
  process.stderr.write(`idsight: ${visible(message)}\n`);
}

/** Runs a command body with a context; maps errors to a message on stderr and an exit code. */
export async function withContext(fn: (ctx: Context) => Promise<void>, config?: Config): Promise<void> {
  let ctx: Context | undefined;
  try {
    const cfg = config ?? loadConfig();
    // Commands other than serve keep stdout for their output; logs go to stderr.
    const log = createLogger(
      { ...cfg, logLevel: cfg.logLevel === 'info' ? 'warn' : cfg.logLevel },
      pino.destination(2),
    );
    // Loaded on use: commands that need no database (simulate, version) stay light.
    const { openContext } = await import('../context.js');
    ctx = await openContext(cfg, { log });
    await fn(ctx);
  } catch (err) {
    reportError(err);
    process.exitCode = exitCodeFor(err);
  } finally {
    await ctx?.close();
  }
}

/** withContext for a command about one integration, which the user names by id or by its unique name. */
export const withIntegration = (ref: string, fn: (ctx: Context, id: string) => Promise<void>): Promise<void> =>
  withContext(async (ctx) => fn(ctx, await ctx.integrations.idOf(ref)));

export function cliActor(): Actor {
  let who = 'unknown';
  try {
    who = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return { type: 'cli', id: null, label: `${who}@${hostname()}` };
}

/**
 * Runs a change and records it in the audit log as the CLI's, with its outcome (and, when it fails,
 * the kind of error: its message may quote what was typed). `input`: values as typed (see AuditEvent).
 */
export async function audited<T>(
  ctx: Context,
  action: string,
  target: string | null,
  detail: Record<string, unknown>,
  fn: () => Promise<T>,
  input?: AuditEvent['input'],
): Promise<T> {
  try {
    const result = await fn();
    await ctx.audit.record({ actor: cliActor(), action, target, outcome: 'success', detail, input });
    return result;
  } catch (err) {
    await ctx.audit.record({
      actor: cliActor(),
      action,
      target,
      outcome: 'failure',
      detail: { ...detail, error: errorKind(err) },
      input,
    });
    throw err;
  }
}

/** What kind of error it was, without its message. */
export const errorKind = (err: unknown): string =>
  err instanceof AppError ? err.code : err instanceof Error ? err.name : 'error';

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Text for people, on standard output: Graph's text among it shows its control characters as escapes. */
export function say(text: string): void {
  process.stdout.write(visible(text));
}

export function printTable(records: Array<Record<string, string>>, columns: string[]): void {
  const rows = records.map((r) => Object.fromEntries(columns.map((c) => [c, visible(r[c] ?? '')])));
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${line(columns.map((c) => c.toUpperCase()))}\n`);
  for (const r of rows) process.stdout.write(`${line(columns.map((c) => r[c]!))}\n`);
}

/**
 * Reads a password or secret: the first line of standard input when it is piped, or typed at a
 * terminal without echo. Never from arguments, which other users can see in the process list.
 */
export async function readStdinLine(what: string): Promise<string> {
  const line = process.stdin.isTTY ? await readHidden(what) : await readFirstLine();
  if (line.length === 0) throw new UsageError(`no ${what} on standard input`);
  return line;
}

async function readFirstLine(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) {
    chunks.push(chunk as Buffer);
    if ((chunk as Buffer).includes(10)) break;
  }
  return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
}

function readHidden(what: string): Promise<string> {
  process.stderr.write(`${what}: `);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err?: Error) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else typed += ch;
      }
    };
    stdin.on('data', onData);
  });
}

export const iso = (ms: number | null): string => (ms === null ? '-' : new Date(ms).toISOString());
