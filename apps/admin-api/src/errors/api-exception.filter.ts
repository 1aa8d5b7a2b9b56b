import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { OptimisticLockError } from '@sagaflow/persistence';
import { InvalidSagaInputError, SagaRuntimeError } from '@sagaflow/runtime';
import { Response } from 'express';
import { ApiError } from './api-error';
import { ApiErrorBody, HTTP_STATUS_BY_CODE } from './api-error-codes';
import { ValidationFailedException } from './validation-failed.exception';

/** Turns every error into `{ statusCode, code, message, errors? }`; unknown errors are logged, never echoed. */
@Catch()
export class ApiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AdminApi');

  catch(exception: unknown, host: ArgumentsHost): void {
    const body = this.toBody(exception);
    host.switchToHttp().getResponse<Response>().status(body.statusCode).json(body);
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
      return { statusCode: exception.getStatus(), code: 'HTTP_ERROR', message: exception.message };
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    return {
      statusCode: 500,
      code: 'INTERNAL',
      message: 'internal error; the server log has the details',
    };
  }
}
