// idsight's files are its owner's alone: the data folder 0700 and every file 0600 whatever the
// umask, and a database or key file that others may read is refused at start, by name.
import assert from 'node:assert/strict';
import { chmodSync, existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { manualClock } from '../src/clock.js';
import { openDb } from '../src/store/db.js';
import { migrate } from '../src/store/migrate.js';
import { createRepositories } from '../src/store/repositories.js';
import { KEY_FILE_NAME } from '../src/vault/keyring.js';
import { openVault } from '../src/vault/service.js';
import { T0 } from './helpers/app.js';
import { runIdsight } from './helpers/cli.js';
import { tempDir } from './helpers/databases.js';

const mode = (file: string) => statSync(file).mode & 0o777;

describe('data files are private', () => {
  const dir = path.join(tempDir(), 'nested', 'data');
  const dbFile = path.join(dir, 'idsight.db');

  it('a new data folder is 0700, and the database, its WAL and SHM and the key file 0600, under umask 000', async () => {
    const umask = process.umask(0);
    try {
      const db = openDb({ sqlitePath: dbFile });
      try {
        await migrate(db);
        const store = createRepositories(db);
        await openVault({ store, clock: manualClock(T0), dataDir: dir });
        await store.users.insert({ id: 'u', email: 'a@example.com', passwordHash: 'x', role: 'admin', now: T0 });
        assert.equal(mode(dir), 0o700);
        for (const file of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`, path.join(dir, KEY_FILE_NAME)]) {
          assert.ok(existsSync(file), file);
          assert.equal(mode(file), 0o600, file);
        }
      } finally {
        await db.close();
      }
    } finally {
      process.umask(umask);
    }
  });

  it('a database, WAL or key file that others may read stops the start, named, with exit code 2', async () => {
    const env = { IDSIGHT_DATA_DIR: dir, IDSIGHT_LOG_LEVEL: 'warn' };
    assert.equal((await runIdsight(['users', 'list'], env)).code, 0, 'private files start');
    const key = path.join(dir, KEY_FILE_NAME);
    writeFileSync(`${dbFile}-wal`, '', { mode: 0o600 }); // as a crash leaves it
    for (const [file, what] of [
      [dbFile, 'the database file'],
      [`${dbFile}-wal`, 'the database file'],
      [key, 'the master key file'],
    ] as const) {
      chmodSync(file, 0o644);
      const refused = await runIdsight(['users', 'list'], env);
      assert.equal(refused.code, 2, refused.stderr);
      assert.equal(
        refused.stderr,
        `idsight: ${what} ${file} is readable by other users (mode 644): run chmod 600 on it ` +
          '(and chmod 700 on its folder) before starting idsight\n',
      );
      chmodSync(file, 0o600);
    }
    assert.equal((await runIdsight(['users', 'list'], env)).code, 0);
  });
});
