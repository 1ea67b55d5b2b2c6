// Secrets at rest: AES-256-GCM with a random 96-bit IV per encryption. The additional
// authenticated data names the row and field a ciphertext belongs to, so a ciphertext copied to
// another row does not decrypt. Envelope: v1.<key id>.<iv>.<ciphertext>.<tag> (base64url).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { VaultKeyError } from '../errors.js';
import type { Keyring, MasterKey } from './keyring.js';

export interface Vault {
  readonly currentKeyId: string;
  encrypt(plaintext: string, aad: string): string;
  decrypt(envelope: string, aad: string): string;
  /** The key id an envelope was sealed with. */
  keyIdOf(envelope: string): string;
  /** A 256-bit key for another purpose (e.g. CSRF tokens), derived from the current master key. */
  deriveKey(purpose: string): Buffer;
}

const VERSION = 'v1';

export function createVault(keyring: Keyring): Vault {
  const current = keyring.keys[0];
  if (!current) throw new VaultKeyError('the keyring holds no key');
  const byId = new Map(keyring.keys.map((k) => [k.id, k]));
  return {
    currentKeyId: current.id,
    encrypt: (plaintext, aad) => seal(current, plaintext, aad),
    decrypt(envelope, aad) {
      const parts = parse(envelope);
      const key = byId.get(parts.keyId);
      if (!key) {
        throw new VaultKeyError(
          `a secret was encrypted with master key ${parts.keyId}, which is not configured ` +
            `(configured: ${[...byId.keys()].join(', ')}); set IDSIGHT_MASTER_KEY or restore the key file`,
        );
      }
      return open(key, parts, aad);
    },
    keyIdOf: (envelope) => parse(envelope).keyId,
    deriveKey: (purpose) => Buffer.from(hkdfSync('sha256', current.key, Buffer.alloc(0), `idsight:${purpose}`, 32)),
  };
}

function seal(key: MasterKey, plaintext: string, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    VERSION,
    key.id,
    iv.toString('base64url'),
    ct.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
  ].join('.');
}

interface EnvelopeParts {
  keyId: string;
  iv: Buffer;
  ct: Buffer;
  tag: Buffer;
}

function parse(envelope: string): EnvelopeParts {
  const parts = envelope.split('.');
  if (parts.length !== 5 || parts[0] !== VERSION)
    throw new VaultKeyError('a stored secret is not a vault envelope (corrupted or written by something else)');
  const [, keyId, iv, ct, tag] = parts as [string, string, string, string, string];
  return {
    keyId,
    iv: Buffer.from(iv, 'base64url'),
    ct: Buffer.from(ct, 'base64url'),
    tag: Buffer.from(tag, 'base64url'),
  };
}

function open(key: MasterKey, parts: EnvelopeParts, aad: string): string {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, parts.iv, { authTagLength: 16 });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(parts.tag);
    return Buffer.concat([decipher.update(parts.ct), decipher.final()]).toString('utf8');
  } catch {
    throw new VaultKeyError(
      `a stored secret failed authentication under master key ${key.id}: it was tampered with or moved to another row`,
    );
  }
}
