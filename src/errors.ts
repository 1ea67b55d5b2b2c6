// The few typed errors the whole application speaks. The API maps them to HTTP in one place
// (api/error-handler.ts); the CLI maps them to exit codes.

export type ErrorCode =
  | 'validation_failed'
  | 'unauthenticated'
  | 'forbidden'
  | 'csrf_invalid'
  | 'not_found'
  | 'conflict'
  | 'rate_limited'
  | 'vault_key_error'
  | 'unavailable'
  | 'upstream'
  | 'internal';

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly status: number,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends AppError {
  constructor(message: string, details?: unknown) {
    super('validation_failed', message, 400, details);
  }
}

export class UnauthenticatedError extends AppError {
  constructor(message = 'Sign in first: this endpoint needs a session or an API token.') {
    super('unauthenticated', message, 401);
  }
}

export class ForbiddenError extends AppError {
  constructor(message: string) {
    super('forbidden', message, 403);
  }
}

export class NotFoundError extends AppError {
  constructor(message: string) {
    super('not_found', message, 404);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, details?: unknown) {
    super('conflict', message, 409, details);
  }
}

/** The process cannot take this work now (it is stopping); asking again later, or elsewhere, can succeed. */
export class UnavailableError extends AppError {
  constructor(message: string) {
    super('unavailable', message, 503);
  }
}

/** Microsoft (its token service or Graph) failed us: 502, with what it said in `details`. */
export class UpstreamError extends AppError {
  constructor(message: string, details: Record<string, unknown>) {
    super('upstream', message, 502, details);
  }
}

/** The vault cannot decrypt or encrypt: wrong or missing master key, or a tampered ciphertext. */
export class VaultKeyError extends AppError {
  constructor(message: string) {
    super('vault_key_error', message, 500);
  }
}
