// idsight processes for benchmarks (not a *.bench.ts: run-bench skips it): the simulated tenant
// and the CLI run from the build (`npm run bench` builds first), so the figures are the shipped code's.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { SimulatorSummary } from '../src/simulator/server.js';

/** `node <this> …` runs idsight: the build, or the sources when there is none (or BENCH_SIM_SOURCES=1). */
export const IDSIGHT =
  existsSync('dist/src/cli/main.js') && process.env.BENCH_SIM_SOURCES !== '1'
    ? ['dist/src/cli/main.js']
    : ['--import', 'tsx', 'src/cli/main.ts'];

/** Node flags for the idsight processes a benchmark starts, from BENCH_NODE_FLAGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). */
export const NODE_FLAGS = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);

/** Starts `idsight simulate --json` with these flags (and a fresh state dir); resolves once it has printed its summary. */
export async function startSimulatorProcess(
  flags: string[],
): Promise<{ child: ChildProcess; summary: SimulatorSummary }> {
  const child = spawn(
    process.execPath,
    [
      ...NODE_FLAGS,
      ...IDSIGHT,
      'simulate',
      '--json',
      ...flags,
      '--state-dir',
      mkdtempSync(path.join(tmpdir(), 'idsight-bench-sim-')),
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`simulate exited with ${code}`)));
  });
  return { child, summary: JSON.parse(line) as SimulatorSummary };
}

/** A running process's peak resident set (VmHWM), MiB. */
export function peakRssMb(pid: number): number {
  const kb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
  return Math.round(kb / 1024);
}

/** CPU seconds (user + system) a running process has used so far. */
export function cpuSeconds(pid: number): number {
  // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /s, '')
    .split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ is 100 on Linux
}

/**
 * Polls a process's peak resident set (VmHWM) and CPU time until it exits (every 25 ms); the
 * returned function gives the last readings, which are its totals once it has exited.
 */
export function watchUsage(child: ChildProcess): () => { peakRssMb: number; cpuSeconds: number } {
  let peak = 0;
  let cpu = 0;
  const timer = setInterval(() => {
    try {
      const mb = peakRssMb(child.pid!);
      if (Number.isFinite(mb)) peak = Math.max(peak, mb); // a zombie's status has no VmHWM
      cpu = Math.max(cpu, cpuSeconds(child.pid!));
    } catch {
      // exited between two readings
    }
  }, 25);
  child.once('exit', () => clearInterval(timer));
  return () => ({ peakRssMb: peak, cpuSeconds: cpu });
}

/** The built CLI, run to its end with `env`; its standard output, or an error with its standard error. */
export function idsightCli(env: NodeJS.ProcessEnv): (args: string[], input?: string) => string {
  return (args, input) => {
    const r = spawnSync(process.execPath, [...IDSIGHT, ...args], { env, input, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`idsight ${args[0]} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
}

/** Adds an integration for one of the simulator's apps (its first secret), as a user does; its id. */
export function addSimulatedIntegration(
  cli: (args: string[], input?: string) => string,
  summary: SimulatorSummary,
  tenantId: string,
  app: { clientId: string; secrets: Array<{ value: string }> },
): string {
  const args = ['integrations', 'add', '--name', 'bench', '--tenant-id', tenantId, '--client-id', app.clientId];
  const cloud = ['--cloud', 'custom', '--authority-host', summary.authorityHost, '--graph-url', summary.graphUrl];
  const out = cli(
    [...args, ...cloud, '--ca-file', summary.caCertificate, '--secret-stdin', '--json'],
    `${app.secrets[0]!.value}\n`,
  );
  return (JSON.parse(out) as { integration: { id: string } }).integration.id;
}
