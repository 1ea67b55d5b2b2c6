// The secret vault: AES-256-GCM envelopes bound to their row, the key file, wrong and missing
// keys (clear errors, nothing changed), and rotation.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { manualClock } from '../src/clock.js';
import { VaultKeyError } from '../src/errors.js';
import type { Db } from '../src/store/db.js';
import { createRepositories, type Repositories } from '../src/store/repositories.js';
import { generateKeyText, KEY_FILE_NAME, parseKeys } from '../src/vault/keyring.js';
import { integrationSecretAad, openVault, rotateKeys } from '../src/vault/service.js';
import { createVault } from '../src/vault/vault.js';
import { DIALECTS, openMigrated, skipReason, type TestDatabase } from './helpers/databases.js';

const clock = manualClock(Date.parse('2026-11-27T09:00:00Z'));
const SECRET = 'Zx8Q~s3cr3t.value-from-entra_0123456789';

describe('vault envelopes', () => {
  const vault = createVault({ keys: parseKeys(generateKeyText(), 'test'), source: 'env' });

  it('round-trips and never repeats a ciphertext', () => {
    const a = vault.encrypt(SECRET, 'integrations/1/client_secret');
    const b = vault.encrypt(SECRET, 'integrations/1/client_secret');
    assert.notEqual(a, b, 'random IV per encryption');
    assert.ok(!a.includes(SECRET));
    assert.equal(vault.decrypt(a, 'integrations/1/client_secret'), SECRET);
    assert.match(a, /^v1\.[0-9a-f]{16}\./);
  });

  it('refuses a ciphertext moved to another row (additional authenticated data)', () => {
    const a = vault.encrypt(SECRET, 'integrations/1/client_secret');
    assert.throws(
      () => vault.decrypt(a, 'integrations/2/client_secret'),
      (e: unknown) => e instanceof VaultKeyError && /tampered with or moved/.test(e.message),
    );
  });

  it('refuses a tampered ciphertext', () => {
    const parts = vault.encrypt(SECRET, 'x').split('.');
    const ct = Buffer.from(parts[3]!, 'base64url');
    ct[0] = ct[0]! ^ 1;
    parts[3] = ct.toString('base64url');
    assert.throws(() => vault.decrypt(parts.join('.'), 'x'), VaultKeyError);
    assert.throws(() => vault.decrypt('not an envelope', 'x'), /not a vault envelope/);
  });

  it('refuses an envelope whose authentication tag was shortened', () => {
    const parts = vault.encrypt(SECRET, 'x').split('.');
    parts[4] = Buffer.from(parts[4]!, 'base64url').subarray(0, 4).toString('base64url');
    assert.throws(() => vault.decrypt(parts.join('.'), 'x'), VaultKeyError);
  });

  it('reads key files with comment lines', () => {
    const key = generateKeyText();
    const keys = parseKeys(
      `# rotated 2026-11-27 by ops\n${key}\n# old key below\n${generateKeyText()}\n`,
      'master.key',
    );
    assert.equal(keys.length, 2);
    assert.equal(keys[0]!.key.toString('base64'), key);
  });

  it('rejects malformed master keys with a precise message', () => {
    assert.throws(() => parseKeys('short', 'IDSIGHT_MASTER_KEY'), /IDSIGHT_MASTER_KEY: key 1 is not a 256-bit key/);
    assert.throws(() => parseKeys(`${generateKeyText()},nope`, 'IDSIGHT_MASTER_KEY'), /key 2 is not a 256-bit key/);
    assert.equal(parseKeys('a'.repeat(64), 'hex').length, 1, 'hex keys are accepted');
  });
});

for (const dialect of DIALECTS) {
  describe(`vault with a database (${dialect})`, { skip: skipReason(dialect) }, () => {
    let database: TestDatabase;
    let db: Db;
    let dispose: () => Promise<void>;
    let store: Repositories;
    before(async () => {
      ({ database, db, dispose } = await openMigrated(dialect));
      store = createRepositories(db);
    });
    after(() => dispose());

    async function storeSecret(vaultDataDir: string, id: string, masterKey?: string): Promise<void> {
      const vault = await openVault({ store: store, clock, dataDir: vaultDataDir, masterKey });
      await store.integrations.insert({
        id,
        name: `tenant ${id}`,
        tenantId: `tenant-${id}.onmicrosoft.com`,
        clientId: '11111111-2222-3333-4444-555555555555',
        cloud: 'global',
        secretEnvelope: vault.encrypt(SECRET, integrationSecretAad(id)),
        settings: {},
        now: clock.now(),
      });
    }

    async function readSecret(vaultDataDir: string, id: string, masterKey?: string): Promise<string> {
      const vault = await openVault({ store: store, clock, dataDir: vaultDataDir, masterKey });
      const row = await store.integrations.get(id);
      return vault.decrypt(row!.secretEnvelope, integrationSecretAad(id));
    }

    it('creates a 0600 key file on first start, reuses it, and rotates every secret under a new key', async () => {
      const dir = database.dataDir;
      await storeSecret(dir, 'a');
      await storeSecret(dir, 'b');
      const keyFile = path.join(dir, KEY_FILE_NAME);
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      const oldKeyText = readFileSync(keyFile, 'utf8');
      assert.equal(await readSecret(dir, 'a'), SECRET);

      const vault = await openVault({ store: store, clock, dataDir: dir });
      const before = await store.integrations.listSecretEnvelopes();
      const result = await rotateKeys({ db, store: store, clock, vault });
      assert.equal(result.reencrypted, 2);
      assert.deepEqual(result.previousKeyIds, [vault.currentKeyId]);
      const after = await store.integrations.listSecretEnvelopes();
      for (const row of after) {
        assert.ok(row.secretEnvelope.includes(`.${result.keyId}.`), 'sealed under the new key');
        assert.notEqual(row.secretEnvelope, before.find((b) => b.id === row.id)?.secretEnvelope);
      }
      const newKeyText = readFileSync(keyFile, 'utf8');
      assert.notEqual(newKeyText, oldKeyText);
      assert.equal(newKeyText.trim().split('\n').length, 1, 'the old key is dropped once nothing uses it');
      assert.equal(statSync(keyFile).mode & 0o777, 0o600);
      assert.equal(await readSecret(dir, 'a'), SECRET);
      assert.equal(await readSecret(dir, 'b'), SECRET);
      const keys = await db.kysely.selectFrom('vault_keys').select('key_id').execute();
      assert.deepEqual(
        keys.map((k) => k.key_id),
        [result.keyId],
      );

      // the old key alone no longer opens this database, and says so
      writeFileSync(keyFile, oldKeyText, { mode: 0o600 });
      await assert.rejects(
        openVault({ store: store, clock, dataDir: dir }),
        (e: unknown) => e instanceof VaultKeyError && e.message.includes(result.keyId),
      );
      writeFileSync(keyFile, newKeyText, { mode: 0o600 });
    });

    it('refuses a second rotation while one holds the key-file lock, changing nothing', async () => {
      const keyFile = path.join(database.dataDir, KEY_FILE_NAME);
      const before = readFileSync(keyFile, 'utf8');
      const envelopes = await store.integrations.listSecretEnvelopes();
      writeFileSync(`${keyFile}.lock`, '');
      try {
        await assert.rejects(
          rotateKeys({
            db,
            store: store,
            clock,
            vault: await openVault({ store: store, clock, dataDir: database.dataDir }),
          }),
          /another key rotation holds/,
        );
      } finally {
        const { unlinkSync } = await import('node:fs');
        unlinkSync(`${keyFile}.lock`);
      }
      assert.equal(readFileSync(keyFile, 'utf8'), before);
      assert.deepEqual(await store.integrations.listSecretEnvelopes(), envelopes);
    });

    it('refuses a wrong IDSIGHT_MASTER_KEY without changing anything', async () => {
      const envelopes = await store.integrations.listSecretEnvelopes();
      const keysBefore = await db.kysely.selectFrom('vault_keys').selectAll().execute();
      await assert.rejects(
        openVault({ store: store, clock, dataDir: database.dataDir, masterKey: generateKeyText() }),
        (e: unknown) => e instanceof VaultKeyError && /IDSIGHT_MASTER_KEY does not hold master key/.test(e.message),
      );
      assert.deepEqual(await store.integrations.listSecretEnvelopes(), envelopes);
      assert.deepEqual(await db.kysely.selectFrom('vault_keys').selectAll().execute(), keysBefore);
    });

    it('refuses to start when the key file is missing but secrets exist, and creates no new key', async () => {
      const elsewhere = path.join(database.dataDir, 'moved');
      await assert.rejects(
        openVault({ store: store, clock, dataDir: elsewhere }),
        (e: unknown) => e instanceof VaultKeyError && /missing/.test(e.message),
      );
      assert.equal(existsSync(path.join(elsewhere, KEY_FILE_NAME)), false);
    });

    it('refuses a key file others can read', async () => {
      const keyFile = path.join(database.dataDir, KEY_FILE_NAME);
      const text = readFileSync(keyFile, 'utf8');
      writeFileSync(keyFile, text, { mode: 0o644 });
      const { chmodSync } = await import('node:fs');
      chmodSync(keyFile, 0o644);
      await assert.rejects(openVault({ store: store, clock, dataDir: database.dataDir }), /readable by other users/);
      chmodSync(keyFile, 0o600);
    });

    it('rotates a key kept in IDSIGHT_MASTER_KEY when the new key is listed first', async () => {
      const current = readFileSync(path.join(database.dataDir, KEY_FILE_NAME), 'utf8').trim();
      const fresh = generateKeyText();
      // nothing to do while only the current key is configured
      const same = await rotateKeys({
        db,
        store,
        clock,
        vault: await openVault({ store: store, clock, dataDir: database.dataDir, masterKey: current }),
      });
      assert.equal(same.reencrypted, 0);
      const both = `${fresh},${current}`;
      const vault = await openVault({ store: store, clock, dataDir: database.dataDir, masterKey: both });
      const result = await rotateKeys({ db, store: store, clock, vault });
      assert.equal(result.source, 'env');
      assert.equal(result.reencrypted, 2);
      assert.equal(await readSecret(database.dataDir, 'a', fresh), SECRET, 'the new key alone now suffices');
      await assert.rejects(
        openVault({ store: store, clock, dataDir: database.dataDir, masterKey: current }),
        VaultKeyError,
      );
    });

    it('still opens everything after a rotation interrupted between the key file and the database', async () => {
      const dir = path.join(database.dataDir, 'crash');
      const { mkdirSync } = await import('node:fs');
      mkdirSync(dir);
      const crash = await openMigrated(dialect);
      const cdb = crash.db;
      const cstore = createRepositories(cdb);
      try {
        const first = await openVault({ store: cstore, clock, dataDir: dir });
        const repo = cstore.integrations;
        await repo.insert({
          id: 'c',
          name: 'c',
          tenantId: 't',
          clientId: 'x',
          cloud: 'global',
          secretEnvelope: first.encrypt(SECRET, integrationSecretAad('c')),
          settings: {},
          now: clock.now(),
        });
        // The crash window: the key file already lists a new key first, the rows are still old.
        const keyFile = path.join(dir, KEY_FILE_NAME);
        writeFileSync(keyFile, `${generateKeyText()}\n${readFileSync(keyFile, 'utf8')}`, { mode: 0o600 });
        const reopened = await openVault({ store: cstore, clock, dataDir: dir });
        assert.notEqual(reopened.currentKeyId, first.currentKeyId);
        assert.equal(reopened.decrypt((await repo.get('c'))!.secretEnvelope, integrationSecretAad('c')), SECRET);
        // and a new rotation finishes the job
        const result = await rotateKeys({ db: cdb, store: cstore, clock, vault: reopened });
        assert.equal(result.reencrypted, 1);
        const last = await openVault({ store: cstore, clock, dataDir: dir });
        assert.equal(last.decrypt((await repo.get('c'))!.secretEnvelope, integrationSecretAad('c')), SECRET);
      } finally {
        await crash.dispose();
      }
    });
  });
}
