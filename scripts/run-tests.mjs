// Runs every test file under test/ with node's test runner (Node 20 does not expand globs).
import { readdirSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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
  console.log('# IDSIGHT_TEST_PG_URL is unset: the PostgreSQL variants of the repository tests are skipped (SQLite runs)');
}
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
