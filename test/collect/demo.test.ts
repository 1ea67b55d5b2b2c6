// `idsight demo` as a new user runs it: a simulated tenant, an admin, an integration, the first
// collection, then the API; a second start reuses the data dir and collects only what is new.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { tempDir } from '../helpers/databases.js';
import { freePort } from '../helpers/net.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts the demo and resolves with its output once the API is up. */
function demo(env: Record<string, string>, simPort: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'demo', '--users', '40', '--sim-port', String(simPort)],
    {
      cwd: ROOT,
      env: {
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) => !k.startsWith('IDSIGHT_') && k !== 'NODE_TEST_CONTEXT'),
        ),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  const ready = new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      if (stdout.includes('idsight is serving')) resolve(stdout);
    });
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}: ${stdout}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, ready, exited };
}

describe('idsight demo', () => {
  test('first start: admin, integration, first collection, API; second start: incremental', async () => {
    const dataDir = tempDir('idsight-demo-');
    const env = { IDSIGHT_DATA_DIR: dataDir, IDSIGHT_PORT: String(await freePort()) };
    const simPort = await freePort();

    const first = demo(env, simPort);
    const out = await first.ready;
    assert.match(out, /Dashboard administrator: admin@idsight\.demo {2}password \(shown once\): \S{16,}/);
    assert.match(out, /Integration "Contoso \(simulated\)" \(\S+\): Connected!/);
    const backfilled = Number(/signIns\s+succeeded\s+(\d+)\s+(\d+)/.exec(out)?.[2]);
    assert.ok(backfilled > 1000, `${backfilled} sign-ins collected`);
    const health = await fetch(`http://127.0.0.1:${env.IDSIGHT_PORT}/healthz`);
    assert.equal(health.status, 200);
    first.child.kill('SIGTERM');
    assert.equal(await first.exited, 0);

    // another simulator port: the integration follows it
    const second = demo(env, await freePort());
    const again = await second.ready;
    assert.doesNotMatch(again, /Dashboard administrator/, 'the admin exists already');
    assert.match(again, /exists: collecting what is new/);
    const fetched = Number(/signIns\s+succeeded\s+(\d+)/.exec(again)?.[1]);
    assert.ok(fetched < backfilled / 10, `incremental: ${fetched} fetched`);
    second.child.kill('SIGINT');
    assert.equal(await second.exited, 0);

    // what the demo changed is in the audit log, as the CLI's
    const audit = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'audit', '--json'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let json = '';
    audit.stdout.setEncoding('utf8').on('data', (d: string) => (json += d));
    await new Promise((resolve) => audit.once('exit', resolve));
    const entries = (
      JSON.parse(json) as Array<{
        action: string;
        outcome: string;
        actor: { type: string };
        detail: { by?: string } | null;
      }>
    ).reverse();
    assert.deepEqual(
      entries.map((e) => [e.action, e.outcome, e.actor.type, e.detail?.by]),
      [
        ['users.create', 'success', 'cli', 'demo'],
        ['integrations.create', 'success', 'cli', 'demo'],
        ['integrations.collect', 'success', 'cli', 'demo'],
        ['integrations.set_endpoints', 'success', 'cli', 'demo'],
        ['integrations.collect', 'success', 'cli', 'demo'],
      ],
    );
  });
});
