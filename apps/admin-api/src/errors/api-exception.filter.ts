import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { OptimisticLockError } from '@sagaflow/persistence';
import { InvalidSagaInputError, SagaRuntimeError } from '@sagaflow/runtime';
import { Request, Response } from 'express';
import { ApiError } from './api-error';
import { ApiErrorBody, ApiErrorCode, HTTP_STATUS_BY_CODE } from './api-error-codes';
import { ValidationFailedException } from './validation-failed.exception';

/** Records how a mutating request ended in an error (the audit log implements it). */
export interface ErrorAuditor {
  recordFailure(req: Request, body: ApiErrorBody): Promise<void>;
}

/** Codes for the statuses Nest and Express raise themselves (unknown route, refused by a guard…). */
const CODE_BY_HTTP_STATUS: Readonly<Record<number, ApiErrorCode>> = {
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  429: 'RATE_LIMITED',
};

/**
 * Turns every error into `{ statusCode, code, message, errors? }`; unknown errors are logged,
 * never echoed. Before answering a mutating request it waits for the audit record, so the
 * record exists when the caller sees the response.
 */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  constructor(private readonly auditor?: ErrorAuditor) {}

  catch(exception: unknown, host: ArgumentsHost): Promise<void> {
    return this.answer(exception, host).catch((error: unknown) =>
      this.logger.error(`could not answer an error: ${describe(error)}`),
    );
  }

  private async answer(exception: unknown, host: ArgumentsHost): Promise<void> {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const body = this.toBody(exception);
    if (this.auditor) {
      await this.auditor
        .recordFailure(req, body)
        .catch((error: unknown) =>
          this.logger.error(`audit record of ${req.method} ${req.path} failed: ${describe(error)}`),
        );
    }
    if (res.headersSent) return;
    if (exception instanceof ApiError && exception.headers) res.set(exception.headers);
    if (body.code === 'STORE_UNAVAILABLE') res.set({ 'Retry-After': '1' });
    res.status(body.statusCode).json(body);
  }

  private toBody(exception: unknown): ApiErrorBody {
    if (exception instanceof ValidationFailedException) {
      return {
        statusCode: 400,
        code: 'VALIDATION_FAILED',
        message: exception.message,
        errors: exception.problems,
      };
    }
    if (exception instanceof InvalidSagaInputError) {
      const errors = exception.errors.map((e) => ({
        field: e.path ? `input.${e.path}` : 'input',
        messages: [e.message],
      }));
      return { statusCode: 400, code: exception.code, message: exception.message, errors };
    }
    if (exception instanceof ApiError) {
      return {
        statusCode: HTTP_STATUS_BY_CODE[exception.code],
        code: exception.code,
        message: exception.message,
        ...(exception.errors ? { errors: exception.errors } : {}),
      };
    }
    if (exception instanceof SagaRuntimeError) {
      return {
        statusCode: HTTP_STATUS_BY_CODE[exception.code],
        code: exception.code,
        message: exception.message,
      };
    }
    if (exception instanceof OptimisticLockError) {
      return { statusCode: 409, code: 'OPTIMISTIC_LOCK_CONFLICT', message: exception.message };
    }
    if (exception instanceof HttpException) {
      const statusCode = exception.getStatus();
      return {
        statusCode,
        code: CODE_BY_HTTP_STATUS[statusCode] ?? 'HTTP_ERROR',
        message: exception.message,
      };
    }
    const clientError = asClientError(exception);
    if (clientError) return clientError;
    if (isStoreUnavailable(exception)) {
      this.logger.warn(`the store is unavailable: ${describe(exception)}`);
      return {
        statusCode: 503,
        code: 'STORE_UNAVAILABLE',
        message: 'the database is unavailable; nothing was changed — retry shortly',
      };
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return {
      statusCode: 500,
      code: 'INTERNAL',
      message: 'internal error; the server log has the details',
    };
  }
}

/**
 * Errors Express middleware raises about the request (body too large, unsupported charset…),
 * in the `http-errors` shape: a 4xx `status` and `expose: true` mean the message is safe to show.
 */
function asClientError(exception: unknown): ApiErrorBody | null {
  const e = exception as { status?: unknown; expose?: unknown; message?: unknown } | null;
  if (!e || typeof e.status !== 'number' || e.status < 400 || e.status > 499 || e.expose !== true) {
    return null;
  }
  return {
    statusCode: e.status,
    code: CODE_BY_HTTP_STATUS[e.status] ?? 'HTTP_ERROR',
    message: typeof e.message === 'string' ? e.message : 'the request was refused',
  };
}

/**
 * PostgreSQL is down, restarting or refusing connections (the error, or the one it wraps):
 * a 503 the caller can retry, not a 500. Codes: 57P01–57P03 (shutdown, crash, cannot connect
 * now), 55000 with "not currently accepting connections", 08xxx connection exceptions.
 */
export function isStoreUnavailable(exception: unknown): boolean {
  const e = exception as { code?: unknown; message?: unknown; driverError?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  const code = typeof e.code === 'string' ? e.code : '';
  const message = typeof e.message === 'string' ? e.message : '';
  if (/^57P0[123]$/.test(code) || code.startsWith('08')) return true;
  if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'].includes(code)) return true;
  if (
    /not currently accepting connections|Connection terminated|timeout exceeded when trying to connect/i.test(
      message,
    )
  )
    return true;
  return e.driverError !== undefined && e.driverError !== exception
    ? isStoreUnavailable(e.driverError)
    : false;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
