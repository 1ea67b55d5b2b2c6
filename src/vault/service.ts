// The vault as the application uses it: opening it checks that the configured master key is the
// one the database was sealed with (before anything is written), and rotation re-encrypts every
// sealed value under a new key without a window where a crash loses access.
import type { Clock } from '../clock.js';
import { VaultKeyError } from '../errors.js';
import type { Db } from '../store/db.js';
import type { Repositories } from '../store/repositories.js';
import { syncToDisk } from '../store/tx.js';
import {
  generateKeyText,
  loadKeyring,
  parseKeys,
  readKeyFile,
  withKeyFileLock,
  writeKeyFile,
  type Keyring,
} from './keyring.js';
import { createVault, type Vault } from './vault.js';

const CHECK_TEXT = 'idsight vault key check';
const checkAad = (keyId: string) => `vault_keys/${keyId}/check`;
export const integrationSecretAad = (integrationId: string) => `integrations/${integrationId}/client_secret`;

export interface OpenVault extends Vault {
  keyring: Keyring;
}

export async function openVault(deps: {
  store: Pick<Repositories, 'vaultKeys'>;
  clock: Clock;
  masterKey?: string | undefined;
  dataDir: string;
}): Promise<OpenVault> {
  const keys = deps.store.vaultKeys;
  const registered = await keys.list();
  const keyring = loadKeyring({ masterKey: deps.masterKey, dataDir: deps.dataDir, mayCreate: registered.length === 0 });
  const vault = createVault(keyring);
  const configured = new Set(keyring.keys.map((k) => k.id));
  for (const row of registered) {
    if (!configured.has(row.keyId)) {
      throw new VaultKeyError(
        `${describeSource(keyring)} does not hold master key ${row.keyId}, with which this database's secrets are encrypted ` +
          `(configured: ${[...configured].join(', ')}); nothing was changed`,
      );
    }
    if (vault.decrypt(row.checkEnvelope, checkAad(row.keyId)) !== CHECK_TEXT) {
      throw new VaultKeyError(
        `the check value of master key ${row.keyId} does not match: the vault_keys table was altered`,
      );
    }
  }
  await keys.register(vault.currentKeyId, vault.encrypt(CHECK_TEXT, checkAad(vault.currentKeyId)), deps.clock.now());
  return Object.assign(vault, { keyring });
}

function describeSource(keyring: Keyring): string {
  return keyring.source === 'env' ? 'IDSIGHT_MASTER_KEY' : `the key file ${keyring.file ?? ''}`;
}

export interface RotationResult {
  keyId: string;
  previousKeyIds: string[];
  reencrypted: number;
  source: Keyring['source'];
}

/**
 * With a key file: adds a new key, re-encrypts everything under it, then drops the old keys.
 * With IDSIGHT_MASTER_KEY: the operator lists the new key first ("new,old"); everything is
 * re-encrypted under it and the old ones can then be removed from the variable.
 * Stop the server while rotating: it keeps the keyring it started with.
 */
interface RotationDeps {
  /** For the sync to disk after the re-encryption. */
  db: Db;
  store: Pick<Repositories, 'transaction'>;
  clock: Clock;
}

export async function rotateKeys(deps: RotationDeps & { vault: OpenVault }): Promise<RotationResult> {
  const { keyring } = deps.vault;
  if (keyring.source === 'file' && keyring.file) {
    const file = keyring.file;
    // Under the lock, start from the key file as it is now, not as it was when we opened it.
    return withKeyFileLock(file, () => rotate(deps, readKeyFile(file)));
  }
  return rotate(deps, keyring);
}

async function rotate(deps: RotationDeps, start: Keyring): Promise<RotationResult> {
  let keyring = start;
  const previousKeyIds = keyring.keys.map((k) => k.id);
  if (keyring.file) {
    const [fresh] = parseKeys(generateKeyText(), 'new key');
    // The new key is written (durably) next to the old ones first: a crash from here on leaves
    // a keyring that still opens every envelope.
    writeKeyFile(keyring.file, [fresh!, ...keyring.keys]);
    keyring = readKeyFile(keyring.file);
  }
  const vault = createVault(keyring);
  const now = deps.clock.now();
  let reencrypted = 0;
  await deps.store.transaction(async ({ integrations, vaultKeys: keys }) => {
    for (const row of await integrations.listSecretEnvelopes()) {
      if (vault.keyIdOf(row.secretEnvelope) === vault.currentKeyId) continue;
      const aad = integrationSecretAad(row.id);
      await integrations.setSecretEnvelope(row.id, vault.encrypt(vault.decrypt(row.secretEnvelope, aad), aad), now);
      reencrypted++;
    }
    await keys.register(vault.currentKeyId, vault.encrypt(CHECK_TEXT, checkAad(vault.currentKeyId)), now);
    await keys.retireAllBut(vault.currentKeyId);
  });
  // Old keys leave the key file only once the re-encryption is on disk, not merely committed.
  await syncToDisk(deps.db);
  if (keyring.file) writeKeyFile(keyring.file, [keyring.keys[0]!]);
  return {
    keyId: vault.currentKeyId,
    previousKeyIds: previousKeyIds.filter((id) => id !== vault.currentKeyId),
    reencrypted,
    source: keyring.source,
  };
}
