// `idsight simulate` as a process: its start-up line, its certificate files, a clean stop on
// SIGTERM and SIGINT, and bad flags refused with exit code 2.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { fetch } from 'undici';
import { createEntraDispatcher } from '../../src/entra/network.js';
import type { SimulatorSummary } from '../../src/simulator/server.js';
import { tempDir } from '../helpers/databases.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

function simulate(args: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('IDSIGHT_') && k !== 'NODE_TEST_CONTEXT'),
  );
  return spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'simulate', ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const exited = (child: ReturnType<typeof simulate>) =>
  new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

describe('idsight simulate', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`prints one JSON line, serves HTTPS with its own CA, and stops cleanly on ${signal}`, async () => {
      const stateDir = tempDir('idsight-sim-cli-');
      const child = simulate([
        '--json',
        '--users',
        '40',
        '--seed',
        '3',
        '--state-dir',
        stateDir,
        '--scenario',
        'attacks',
      ]);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const line = await new Promise<string>((resolve) =>
        createInterface({ input: child.stdout! }).once('line', resolve),
      );
      const summary = JSON.parse(line) as SimulatorSummary;
      assert.match(summary.authorityHost, /^https:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(summary.graphUrl, summary.authorityHost);
      assert.equal(summary.caCertificate, path.join(stateDir, 'ca.pem'));
      assert.equal(statSync(path.join(stateDir, 'ca-key.pem')).mode & 0o777, 0o600);
      assert.deepEqual(
        summary.tenants.map((t) => t.licence),
        ['p2', 'p1', 'free'],
      );
      const states = summary.tenants[0]!.apps.map((a) => a.state);
      assert.deepEqual(states, ['readwrite', 'readonly', 'noconsent', 'noaudit', 'expired']);
      assert.ok(summary.tenants[0]!.apps[0]!.secrets.length > 1, 'more than one secret per app');
      const dispatcher = createEntraDispatcher({ ca: readFileSync(summary.caCertificate, 'utf8') });
      const res = await fetch(
        `${summary.authorityHost}/${summary.tenants[0]!.tenantId}/v2.0/.well-known/openid-configuration`,
        { dispatcher },
      );
      assert.equal(res.status, 200);
      await dispatcher.close();
      child.kill(signal);
      assert.equal(await exited(child), 0);
      assert.equal(stderr, '', 'nothing on stderr with --json');
    });
  }

  test('a restart answers where the last start did, with the same tenants and secrets, unless the port is taken or --fresh', async () => {
    const stateDir = tempDir('idsight-sim-cli-');
    const start = async (args: string[] = []) => {
      const child = simulate(['--json', '--users', '40', '--state-dir', stateDir, ...args]);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const summary = JSON.parse(
        await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
      ) as SimulatorSummary;
      return { summary, stop: async () => (child.kill('SIGTERM'), await exited(child), stderr) };
    };
    const credentials = (s: SimulatorSummary) =>
      s.tenants.map((t) => [t.tenantId, t.apps.map((a) => [a.clientId, a.secrets[0]!.value])]);
    const first = await start(['--seed', '7']);
    await first.stop();
    const again = await start();
    assert.equal(again.summary.graphUrl, first.summary.graphUrl, 'the same port');
    assert.deepEqual(
      credentials(again.summary),
      credentials(first.summary),
      'the seed of the last start: the same tenants, apps and secrets',
    );
    // the port is taken meanwhile (the simulator still runs): another port, the same tenants, and a line saying what breaks
    const crowded = await start();
    assert.notEqual(crowded.summary.graphUrl, first.summary.graphUrl);
    assert.deepEqual(credentials(crowded.summary), credentials(first.summary));
    assert.match(
      await crowded.stop(),
      new RegExp(
        `^Port ${new URL(first.summary.graphUrl).port} of the last start is taken: ` +
          '.*integrations set <integration> --authority-host <url> --graph-url <url>\\n$',
      ),
    );
    await again.stop();
    const fresh = await start(['--fresh']);
    assert.notDeepEqual(credentials(fresh.summary), credentials(first.summary), '--fresh: seed 1 again');
    await fresh.stop();
  });

  test('bad flags: exit code 2 and one line naming the flag', async () => {
    for (const [args, flag] of [
      [['--scenario', 'chaos'], '--scenario'],
      [['--faults', 'rate429=7'], 'rate429'],
      [['--clock', 'tomorrow'], '--clock'],
      [['--users', '3'], '--users'],
    ] as const) {
      const child = simulate([...args, '--state-dir', tempDir('idsight-sim-cli-')]);
      let stderr = '';
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      assert.equal(await exited(child), 2, args.join(' '));
      assert.ok(stderr.includes(flag), stderr);
      assert.equal(stderr.trim().split('\n').length, 1, stderr);
    }
  });
});
