// The master keys behind the vault. They come from IDSIGHT_MASTER_KEY or from a key file in the
// data directory (created 0600 on first start). Several keys may be listed, newest first: the
// first encrypts, the others only decrypt, which is what makes rotation safe to interrupt.
import { createHash, randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  existsSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import { VaultKeyError } from '../errors.js';
import { assertPrivate, ensurePrivateDir } from '../private-files.js';

export interface MasterKey {
  id: string;
  key: Buffer;
}

export interface Keyring {
  /** Newest first; keys[0] encrypts. */
  keys: MasterKey[];
  source: 'env' | 'file';
  /** The key file, when the keys come from one. */
  file?: string;
}

export const KEY_FILE_NAME = 'master.key';

export function keyId(key: Buffer): string {
  return createHash('sha256').update('idsight-master-key-id\0').update(key).digest('hex').slice(0, 16);
}

/** A fresh 256-bit key, written as base64. */
export function generateKeyText(): string {
  return randomBytes(32).toString('base64');
}

/** Parses "key[,key…]" (or one key per line) where each key is 32 bytes as base64 or hex. */
export function parseKeys(text: string, origin: string): MasterKey[] {
  const parts = text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(/[\s,]+/))
    .filter((s) => s.length > 0);
  if (parts.length === 0) throw new VaultKeyError(`${origin} holds no key`);
  return parts.map((part, i) => {
    let key: Buffer | undefined;
    if (/^[0-9a-fA-F]{64}$/.test(part)) key = Buffer.from(part, 'hex');
    else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(part)) key = Buffer.from(part, 'base64');
    if (!key || key.length !== 32) {
      throw new VaultKeyError(
        `${origin}: key ${i + 1} is not a 256-bit key (expected 32 bytes as 44 base64 or 64 hex characters; \`idsight keys generate\` prints one)`,
      );
    }
    return { id: keyId(key), key };
  });
}

/**
 * Loads the keyring. When neither IDSIGHT_MASTER_KEY nor the key file exists, a key file is
 * created only if `mayCreate` (the database holds nothing encrypted yet): creating a new key
 * next to data sealed with a lost one would only hide the loss.
 */
export function loadKeyring(options: { masterKey?: string | undefined; dataDir: string; mayCreate: boolean }): Keyring {
  if (options.masterKey) return { keys: parseKeys(options.masterKey, 'IDSIGHT_MASTER_KEY'), source: 'env' };
  const file = path.join(options.dataDir, KEY_FILE_NAME);
  ensurePrivateDir(options.dataDir);
  if (!existsSync(file)) {
    if (!options.mayCreate) {
      throw new VaultKeyError(
        `the master key file ${file} is missing, but the database holds secrets encrypted with a master key: ` +
          'restore the key file from your backup or set IDSIGHT_MASTER_KEY',
      );
    }
    createKeyFile(file, generateKeyText());
  }
  return readKeyFile(file);
}

export function readKeyFile(file: string): Keyring {
  assertPrivate(file, 'the master key file');
  return { keys: parseKeys(readFileSync(file, 'utf8'), file), source: 'file', file };
}

/**
 * Creates the key file whole and exclusively: written to a private temporary name, then linked
 * into place (link fails if the name exists), so a second process starting at the same moment
 * reads either no file or the complete one, and then uses the first process's key.
 */
function createKeyFile(file: string, keyText: string): void {
  const tmp = `${file}.${process.pid}.new`;
  writeDurably(tmp, `${keyText}\n`);
  try {
    linkSync(tmp, file);
    syncDir(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    unlinkSync(tmp);
  }
}

/**
 * Replaces the key file atomically and durably with these keys, newest first: the content is on
 * disk before the rename, and the rename is on disk before this returns (a key that exists only
 * in the page cache when the power fails is a key lost).
 */
export function writeKeyFile(file: string, keys: MasterKey[]): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeDurably(tmp, keys.map((k) => k.key.toString('base64')).join('\n') + '\n');
  renameSync(tmp, file);
  syncDir(file);
}

function writeDurably(file: string, text: string): void {
  const fd = openSync(file, 'w', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(file, 0o600);
}

function syncDir(file: string): void {
  const fd = openSync(path.dirname(file), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Holds an exclusive lock file next to the key file while `fn` runs: two rotations at once
 * would each rewrite the key file from their own view of it.
 */
export async function withKeyFileLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new VaultKeyError(
        `another key rotation holds ${lock}; if none is running (a crash), remove that file and run the rotation again`,
      );
    }
    throw err;
  }
  try {
    return await fn();
  } finally {
    closeSync(fd);
    unlinkSync(lock);
  }
}
