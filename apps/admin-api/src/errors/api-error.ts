import { ApiErrorCode, FieldProblem } from './api-error-codes';

/**
 * An error the API raises itself (not the runtime): a code from the one mapping and a message
 * that says how to fix the request. The filter turns it into `{ statusCode, code, message }`
 * and sets `headers` on the response (`WWW-Authenticate` on a 401, `Retry-After` on a 429).
 *
 * @example
 * throw new ApiError('NOT_FOUND', `no parked message with id ${id}`);
 */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly errors?: readonly FieldProblem[],
    readonly headers?: Readonly<Record<string, string>>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
