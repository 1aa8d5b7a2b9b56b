import { HttpStatus } from '@nestjs/common';
import { RuntimeErrorCode } from '@sagaflow/runtime';

/** Every `code` the API can answer with. */
export type ApiErrorCode =
  | RuntimeErrorCode
  | 'VALIDATION_FAILED'
  | 'OPTIMISTIC_LOCK_CONFLICT'
  | 'UNAUTHENTICATED'
  | 'AUTHENTICATION_UNAVAILABLE'
  | 'STORE_UNAVAILABLE'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'NOT_FOUND'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'HTTP_ERROR'
  | 'INTERNAL';

/** The one mapping from codes to statuses; a new code without an entry fails to compile. */
export const HTTP_STATUS_BY_CODE: Record<ApiErrorCode, HttpStatus> = {
  UNKNOWN_SAGA_TYPE: HttpStatus.BAD_REQUEST,
  INVALID_SAGA_INPUT: HttpStatus.BAD_REQUEST,
  VALIDATION_FAILED: HttpStatus.BAD_REQUEST,
  SAGA_NOT_FOUND: HttpStatus.NOT_FOUND,
  DUPLICATE_DEFINITION: HttpStatus.INTERNAL_SERVER_ERROR,
  INVALID_DEFINITION_MODULE: HttpStatus.INTERNAL_SERVER_ERROR,
  MISSING_DEFINITION_VERSION: HttpStatus.INTERNAL_SERVER_ERROR,
  OPTIMISTIC_LOCK_CONFLICT: HttpStatus.CONFLICT,
  ILLEGAL_ACTION: HttpStatus.CONFLICT,
  VERSION_MISMATCH: HttpStatus.CONFLICT,
  INVALID_OPERATOR_REPLY: HttpStatus.BAD_REQUEST,
  ACTION_FORBIDDEN: HttpStatus.FORBIDDEN,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  AUTHENTICATION_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  STORE_UNAVAILABLE: HttpStatus.SERVICE_UNAVAILABLE,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  NOT_FOUND: HttpStatus.NOT_FOUND,
  IDEMPOTENCY_KEY_REUSED: HttpStatus.CONFLICT,
  HTTP_ERROR: HttpStatus.BAD_REQUEST,
  INTERNAL: HttpStatus.INTERNAL_SERVER_ERROR,
};

export interface FieldProblem {
  readonly field: string;
  readonly messages: readonly string[];
}

/** The JSON body of every error response. */
export interface ApiErrorBody {
  readonly statusCode: number;
  readonly code: ApiErrorCode;
  readonly message: string;
  readonly errors?: readonly FieldProblem[];
}
