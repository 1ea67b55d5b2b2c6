// Password hashing with argon2id (OWASP's minimum profile: 19 MiB, 2 passes, 1 lane).
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { ValidationError } from '../errors.js';

// The library's default algorithm is argon2id (its Algorithm enum is a const enum that
// verbatimModuleSyntax cannot import; a test checks the hashes say $argon2id$).
const PARAMS = { memoryCost: 19456, timeCost: 2, parallelism: 1 };
export const MIN_PASSWORD_LENGTH = 12;
const MAX_PASSWORD_LENGTH = 1024;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

export async function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    return false;
  }
}

/** Throws ValidationError naming what is wrong with a new password. */
export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new ValidationError(`password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new ValidationError(`password is too long: use at most ${MAX_PASSWORD_LENGTH} characters`);
  if (password.trim().length === 0) throw new ValidationError('password must not be only white space');
}

/** A random 24-character password (144 bits) for accounts created without one. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
