// Microsoft Graph's error envelope and the errors the simulator answers with, with Microsoft's
// codes and messages (reference/graph-facts.md §7).
import { randomUUID } from 'node:crypto';

export class GraphError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    /** Extra innerError members (the 429 body carries code, message and status there). */
    readonly inner: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Graph's innerError date: UTC without a zone designator or fraction. */
export const innerErrorDate = (now: number): string => new Date(now).toISOString().slice(0, 19);

export function graphErrorBody(err: GraphError, now: number, requestId: string, clientRequestId: string): object {
  return {
    error: {
      code: err.code,
      message: err.message,
      innerError: {
        ...err.inner,
        date: innerErrorDate(now),
        'request-id': requestId,
        'client-request-id': clientRequestId,
      },
    },
  };
}

export const newRequestId = (): string => randomUUID();

export const invalidToken = (message: string) =>
  new GraphError(401, 'InvalidAuthenticationToken', message, {
    'WWW-Authenticate':
      'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"',
  });

export const insufficientPrivileges = () =>
  new GraphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');

export const auditPermissionMissing = () =>
  new GraphError(
    403,
    'Authentication_MSGraphPermissionMissing',
    'Calling principal does not have required MSGraph permissions AuditLog.Read.All',
  );

export const nonPremiumTenant = () =>
  new GraphError(
    403,
    'Authentication_RequestFromNonPremiumTenantOrB2CTenant',
    "Neither tenant is B2C or tenant doesn't have premium license",
  );

export const invalidFilter = () => new GraphError(400, 'BadRequest', 'Invalid filter clause');

export const unsupportedQuery = (message = 'Unsupported Query.') =>
  new GraphError(400, 'Request_UnsupportedQuery', message);

export const notFound = (id: string) =>
  new GraphError(
    404,
    'Request_ResourceNotFound',
    `Resource '${id}' does not exist or one of its queried reference-property objects are not present.`,
  );

export const tooManyRequests = (retryAfter: string | null) =>
  new GraphError(
    429,
    'TooManyRequests',
    'Please retry again later.',
    retryAfter === null ? {} : { 'Retry-After': retryAfter },
    {
      code: '429',
      message: 'Please retry after',
      status: '429',
    },
  );
