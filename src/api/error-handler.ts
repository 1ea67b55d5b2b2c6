// One place maps every error to {"error":{"code","message"}} with the right status.
import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError } from '../errors.js';

export interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** Fastify's own error codes that are the caller's fault, with what to tell them. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'invalid_json', message: 'the request body is not valid JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'invalid_json',
    message: 'the request body is empty but its content-type says JSON',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'unsupported_media_type',
    message: 'send the request body as application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    status: 400,
    code: 'invalid_request',
    message: 'the content-length header does not match the body',
  },
  FST_CSRF_MISSING_SECRET: {
    status: 403,
    code: 'csrf_invalid',
    message: 'missing CSRF token: send the X-CSRF-Token header given at sign-in (GET /api/auth/me gives a new one)',
  },
  FST_CSRF_INVALID_TOKEN: {
    status: 403,
    code: 'csrf_invalid',
    message:
      'missing or invalid CSRF token: send the X-CSRF-Token header given at sign-in (GET /api/auth/me gives a new one)',
  },
};

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let status = 500;
    let body: ErrorBody = { error: { code: 'internal', message: 'internal error; the server log has the details' } };
    if (err instanceof AppError) {
      status = err.status;
      body = {
        error: { code: err.code, message: err.message, ...(err.details !== undefined ? { details: err.details } : {}) },
      };
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      const issues = err.validation.map((v) => ({
        path: [err.validationContext ?? 'request', ...v.instancePath.split('/').filter(Boolean)].join('.'),
        message: v.message ?? 'invalid',
      }));
      status = 400;
      body = {
        error: {
          code: 'validation_failed',
          message: issues.map((i) => `${i.path}: ${i.message}`).join('; '),
          details: issues,
        },
      };
    } else if (isResponseSerializationError(err)) {
      request.log.error({ err }, 'response did not match its schema');
    } else if (err.code && FASTIFY_CODES[err.code]) {
      const known = FASTIFY_CODES[err.code]!;
      status = known.status;
      body = { error: { code: known.code, message: known.message ?? err.message } };
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      body = { error: { code: 'invalid_request', message: err.message } };
    }
    if (status >= 500) request.log.error({ err }, 'request failed');
    void reply.status(status).send(body);
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({
      error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    } satisfies ErrorBody);
  });
}
