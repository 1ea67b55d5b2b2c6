// Runs every test file under test/ with node's test runner (Node 20 does not expand globs).
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    return statSync(p).isDirectory() ? find(p) : name.endsWith('.test.ts') ? [p] : [];
  });
}

const only = process.argv.slice(2);
const files = only.length > 0 ? only : find('test').sort();
if (!process.env.IDSIGHT_TEST_PG_URL) {
  console.log(
    '# IDSIGHT_TEST_PG_URL is unset: the PostgreSQL variants of the repository tests are skipped (SQLite runs)',
  );
}
// The spec reporter's summary counts skipped tests, not skipped suites (the PostgreSQL ones
// without a server): a TAP copy of the run says what was skipped, suites included, and why.
const scratch = mkdtempSync(path.join(tmpdir(), 'idsight-tests-'));
const tap = path.join(scratch, 'run.tap');
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { stdio: 'inherit' },
);
const skipped = readFileSync(tap, 'utf8')
  .split('\n')
  .map((line) => /^\s*ok \d+ - (.*) # SKIP ?(.*)$/.exec(line))
  .filter(Boolean);
rmSync(scratch, { recursive: true, force: true });
const reasons = new Map();
for (const [, , reason] of skipped)
  reasons.set(reason || 'no reason given', (reasons.get(reason || 'no reason given') ?? 0) + 1);
console.log(
  `# skipped, suites included: ${skipped.length}${[...reasons].map(([reason, n]) => `\n#   ${n} × ${reason}`).join('')}`,
);
process.exit(r.status ?? 1);
