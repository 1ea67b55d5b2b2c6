// idsight processes for benchmarks (not a *.bench.ts: run-bench skips it): the simulated tenant
// and the CLI run from the build (`npm run bench` builds first), so the figures are the shipped code's.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { SimulatorSummary } from '../src/simulator/server.js';

/** `node <this> …` runs idsight: the build, or the sources when there is none (or BENCH_SIM_SOURCES=1). */
export const IDSIGHT = existsSync('dist/src/cli/main.js') && process.env.BENCH_SIM_SOURCES !== '1' ? ['dist/src/cli/main.js'] : ['--import', 'tsx', 'src/cli/main.ts'];

/** Starts `idsight simulate --json` with these flags (and a fresh state dir); resolves once it has printed its summary. */
export async function startSimulatorProcess(flags: string[]): Promise<{ child: ChildProcess; summary: SimulatorSummary }> {
  const child = spawn(process.execPath, [...IDSIGHT, 'simulate', '--json', ...flags, '--state-dir', mkdtempSync(path.join(tmpdir(), 'idsight-bench-sim-'))], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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
