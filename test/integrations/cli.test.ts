// The README's walk-through, as a new user does it: start the simulator, add an integration
// from its printed credentials with the CLI, see Connected! and the capability table; then
// test, set, reset credentials and remove — and never see the secret echoed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { SimulatorSummary } from '../../src/simulator/server.js';
import { childEnv, ROOT, runIdsight } from '../helpers/cli.js';
import { tempDir } from '../helpers/databases.js';

const idsight = runIdsight;

describe('idsight integrations (CLI against a running simulator)', () => {
  let summary: SimulatorSummary;
  const dataDir = tempDir('idsight-cli-int-');
  const outputs: string[] = [];
  const run = async (args: string[], stdin?: string) => {
    const r = await idsight(args, { IDSIGHT_DATA_DIR: dataDir, IDSIGHT_GRAPH_PACING: 'off' }, stdin);
    outputs.push(r.stdout, r.stderr);
    return r;
  };

  const simState = tempDir('idsight-cli-sim-');
  const simulators: Array<ReturnType<typeof spawn>> = [];
  /** A simulator from the one state folder (one CA, one seed: the same tenants wherever it listens). */
  const startSimulator = async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'simulate',
        '--json',
        '--users',
        '60',
        '--throttle',
        'off',
        '--port',
        '0',
        '--state-dir',
        simState,
      ],
      {
        cwd: ROOT,
        env: childEnv({}),
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    simulators.push(child);
    return {
      child,
      summary: JSON.parse(
        await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve)),
      ) as SimulatorSummary,
    };
  };

  before(async () => {
    ({ summary } = await startSimulator());
  });
  after(() => {
    for (const child of simulators) child.kill('SIGTERM');
  });

  const contoso = () => summary.tenants[0]!;
  const app = (state: string) => contoso().apps.find((a) => a.state === state)!;
  const addArgs = (name: string, state: string) => [
    'integrations',
    'add',
    '--name',
    name,
    '--tenant-id',
    contoso().tenantId,
    '--client-id',
    app(state).clientId,
    '--secret-stdin',
    '--cloud',
    'custom',
    '--authority-host',
    summary.authorityHost,
    '--graph-url',
    summary.graphUrl,
    '--ca-file',
    summary.caCertificate,
  ];
  let id = '';

  test('add prints Connected! and the capability table, and saves', async () => {
    const r = await run(addArgs('Contoso', 'readwrite'), `${app('readwrite').secrets[0]!.value}\n`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^Connected!\n/);
    assert.match(r.stdout, /Mode: read-write/);
    assert.match(r.stdout, /Interactive sign-ins\s+yes/);
    assert.match(r.stdout, /Reset MFA\s+yes/i);
    assert.match(r.stdout, /Client secret \S+… expires \d{4}-\d\d-\d\d \(\d+ days left\)/);
    id = /Saved as "Contoso" \((\S+)\)\./.exec(r.stdout)![1]!;
    assert.match(r.stdout, new RegExp(`Next: collect now .*\\n  idsight collect ${id}\\n`));
    const list = await run(['integrations', 'list', '--json']);
    assert.deepEqual(
      JSON.parse(list.stdout).map((i: any) => i.id),
      [id],
    );
  });

  test('adding the same app again names the integration that has it and what to do', async () => {
    const r = await run(addArgs('Contoso again', 'readwrite'), `${app('readwrite').secrets[0]!.value}\n`);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `^idsight: app ${app('readwrite').clientId} in tenant \\S+ is already connected as integration "Contoso" \\(${id}\\): ` +
          `see it with \`idsight integrations show ${id}\`.*integrations remove.*another app registration\\n$`,
      ),
    );
  });

  test('an integration is named by its id or its unique name; an unknown or shared name is refused, naming the ids', async () => {
    const byName = await run(['integrations', 'show', 'Contoso', '--json']);
    assert.equal(byName.code, 0, byName.stderr);
    assert.equal(JSON.parse(byName.stdout).id, id);
    const unknown = await run(['runs', 'Northwind']);
    assert.equal(unknown.code, 1);
    assert.match(
      unknown.stderr,
      /^idsight: no integration is named "Northwind" \(`idsight integrations list` shows their names and ids\)\n$/,
    );
    const other = await run([...addArgs('Contoso', 'readonly'), '--json'], `${app('readonly').secrets[0]!.value}\n`);
    assert.equal(other.code, 0, other.stderr);
    const otherId = JSON.parse(other.stdout).integration.id as string;
    const shared = await run(['integrations', 'test', 'Contoso']);
    assert.equal(shared.code, 2);
    assert.ok(
      shared.stderr.includes(`2 integrations are named "Contoso": name one by its id (`) &&
        shared.stderr.includes(id) &&
        shared.stderr.includes(otherId),
      shared.stderr,
    );
    const removed = await run(['integrations', 'remove', otherId]);
    assert.equal(removed.code, 0, removed.stderr);
  });

  test('a failing add explains, saves nothing and exits 1', async () => {
    const r = await run(addArgs('Contoso read-only', 'readonly'), 'Xyz8Q~thisisnotthesecretthisisnotthesecret\n');
    assert.equal(r.code, 1);
    assert.match(r.stdout, /secret/i);
    assert.match(r.stdout, /Not saved/);
    assert.equal(JSON.parse((await run(['integrations', 'list', '--json'])).stdout).length, 1);
  });

  test('test, set and show', async () => {
    const tested = await run(['integrations', 'test', id]);
    assert.equal(tested.code, 0, tested.stderr);
    assert.match(tested.stdout, /^Connected!/);
    const set = await run([
      'integrations',
      'set',
      id,
      '--data-type',
      'managedDevices=off',
      '--schedule',
      'users=120',
      '--json',
    ]);
    assert.equal(set.code, 0, set.stderr);
    const shown = JSON.parse(set.stdout);
    assert.equal(shown.settings.dataTypes.managedDevices, false);
    assert.equal(shown.settings.schedule.users, 120);
    const bad = await run(['integrations', 'set', id, '--data-type', 'managedDevices=maybe']);
    assert.equal(bad.code, 2);
    // the API's contract, bounds and messages included
    const late = await run(['integrations', 'set', id, '--lag-minutes', '241']);
    assert.equal(late.code, 2);
    assert.equal(late.stderr, 'idsight: lagMinutes: must be a whole number of minutes from 0 to 240\n');
    const unknown = await run(['integrations', 'set', id, '--data-type', 'bogus=on']);
    assert.match(unknown.stderr, /^idsight: dataTypes\.bogus: unknown data type; known: signIns, /);
  });

  test('collect backfills sign-ins with progress as JSON lines; runs lists the run', async () => {
    const r = await run(['integrations', 'set', id, '--data-type', 'managedDevices=on']);
    assert.equal(r.code, 0, r.stderr);
    const collected = await run(['collect', id, '--types', 'signIns']);
    assert.equal(collected.code, 0, collected.stderr);
    // every record is new; a chain split off reads up to a page twice, so fetched may exceed new
    const [, fetched, fresh] = /signIns\s+succeeded\s+(\d+)\s+(\d+)/.exec(collected.stdout) ?? [];
    assert.ok(
      Number(fresh) > 0 && Number(fetched) >= Number(fresh) && Number(fetched) - Number(fresh) < 1000,
      collected.stdout,
    );
    const progress = collected.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { progress: string; coveredMs: number; spanMs: number });
    assert.ok(progress.length > 1 && progress.every((p) => p.progress === 'signIns'));
    assert.equal(progress.at(-1)!.coveredMs, progress.at(-1)!.spanMs);
    const runs = await run(['runs', 'Contoso', '--json']);
    const list = JSON.parse(runs.stdout) as Array<{ dataType: string; status: string }>;
    assert.deepEqual(
      list.map((x) => [x.dataType, x.status]),
      [['signIns', 'succeeded']],
    );
    // the run history's bounds are the API's (runsQuery), named by the flag
    const tooMany = await run(['runs', 'Contoso', '--limit', '501']);
    assert.equal(tooMany.code, 2);
    assert.equal(tooMany.stderr, 'idsight: --limit: must be a whole number from 1 to 500\n');
    const badTypes = await run(['collect', id, '--types', Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')]);
    assert.equal(badTypes.code, 2);
    assert.match(badTypes.stderr, /^idsight: --types: /);
    const again = JSON.parse((await run(['collect', id, '--types', 'signIns', '--json'])).stdout)[0];
    // the second run is incremental: one chain from the cursor (the real clock moved a few seconds)
    assert.equal(again.status, 'succeeded');
    assert.equal(again.stats.chains, 1);
  });

  test('a custom cloud that moved: set tests the new endpoints and keeps them only if they connect', async () => {
    const moved = await startSimulator();
    assert.notEqual(moved.summary.graphUrl, summary.graphUrl);
    const set = await run([
      'integrations',
      'set',
      'Contoso',
      '--authority-host',
      moved.summary.authorityHost,
      '--graph-url',
      moved.summary.graphUrl,
    ]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^Connected!/);
    assert.ok(
      set.stdout.includes(
        `cloud custom (authority ${moved.summary.authorityHost}, Graph ${moved.summary.graphUrl}, own CA)`,
      ),
      set.stdout,
    );
    moved.child.kill('SIGTERM');
    await new Promise((resolve) => moved.child.once('exit', resolve));
    // back to the first simulator; a place where nothing answers is refused and changes nothing
    const closed = new URL(moved.summary.graphUrl).origin;
    const refused = await run(['integrations', 'set', 'Contoso', '--authority-host', closed, '--graph-url', closed]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /keeps its old endpoints/);
    const back = await run([
      'integrations',
      'set',
      id,
      '--authority-host',
      summary.authorityHost,
      '--graph-url',
      summary.graphUrl,
      '--json',
    ]);
    assert.equal(back.code, 0, back.stderr);
    assert.deepEqual(JSON.parse(back.stdout).customCloud, {
      authorityHost: summary.authorityHost,
      graphUrl: summary.graphUrl,
      hasCaCertificate: true,
    });
    const caOnly = await run(['integrations', 'set', id, '--ca-file', summary.caCertificate]);
    assert.equal(caOnly.code, 0, caOnly.stderr);
  });

  test('bad --ca-file and --cloud custom without its endpoints name the flag and exit 2', async () => {
    const missing = await run(
      [...addArgs('X', 'readonly').slice(0, -2), '--ca-file', '/nonexistent/ca.pem'],
      'secret\n',
    );
    assert.equal(missing.code, 2);
    assert.equal(
      missing.stderr,
      'idsight: --ca-file /nonexistent/ca.pem: no such file; give the PEM file of the CA certificate(s) to trust\n',
    );
    const dir = await run(['integrations', 'set', id, '--ca-file', ROOT]);
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /--ca-file .*: a directory, not a file/);
    const custom = await run(
      [
        'integrations',
        'add',
        '--name',
        'X',
        '--tenant-id',
        contoso().tenantId,
        '--client-id',
        app('readonly').clientId,
        '--secret-stdin',
        '--cloud',
        'custom',
      ],
      'secret\n',
    );
    assert.equal(custom.code, 2);
    assert.match(custom.stderr, /^idsight: --cloud custom needs --authority-host and --graph-url/);
  });

  test('reset-credentials keeps the old secret when the new one fails', async () => {
    const bad = await run(
      ['integrations', 'reset-credentials', id, '--secret-stdin'],
      'Bad8Q~nonononononononononononononononono\n',
    );
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /old secret stays in use/);
    const good = await run(
      ['integrations', 'reset-credentials', id, '--secret-stdin'],
      `${app('readwrite').secrets[1]!.value}\n`,
    );
    assert.equal(good.code, 0, good.stderr);
    assert.match(good.stdout, /new secret is in use/);
  });

  test('remove, and the secret never appeared in any output', async () => {
    const r = await run(['integrations', 'remove', id, '--purge']);
    assert.equal(r.code, 0, r.stderr);
    const deleted = Number(/removed; deleted (\d+) collected sign-ins/.exec(r.stdout)?.[1]);
    assert.ok(deleted > 0, r.stdout);
    for (const secret of app('readwrite').secrets.map((s) => s.value)) {
      for (const out of outputs) assert.ok(!out.includes(secret), 'a secret was printed');
    }
  });
});
