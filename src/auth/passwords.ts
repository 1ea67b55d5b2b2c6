// Password hashing with argon2id (OWASP's minimum profile: 19 MiB, 2 passes, 1 lane).
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { ValidationError } from '../errors.js';
import { hasControlCharacters } from '../validation.js';

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

// How guessable a password is, by zxcvbn's estimate against its lists of common passwords and
// names, keyboard walks, repeats and sequences (NIST SP 800-63B asks for such a check).
const strength = new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
/** zxcvbn's score 3: safely unguessable, about 10^8 guesses or more. */
const MIN_SCORE = 3;

/** Throws ValidationError naming what is wrong with a new password. */
export function checkPasswordPolicy(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw new ValidationError(`password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  if (password.length > MAX_PASSWORD_LENGTH)
    throw new ValidationError(`password is too long: use at most ${MAX_PASSWORD_LENGTH} characters`);
  if (password.trim().length === 0) throw new ValidationError('password must not be only white space');
  if (hasControlCharacters(password)) throw new ValidationError('password must not contain control characters');
  if (strength.check(password).score < MIN_SCORE)
    throw new ValidationError(
      'password is too easy to guess (a common password, or close to one, a keyboard pattern, a repeat or a ' +
        'sequence): choose another, e.g. four or more unrelated words',
    );
}

/** A random 24-character password (144 bits) for accounts created without one. */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}
