import { CallHandler, ExecutionContext, Injectable, Logger, NestInterceptor } from '@nestjs/common';
import { Request, Response } from 'express';
import { concatMap, Observable } from 'rxjs';
import { isMutating } from '../auth/policy';
import { AuditLog } from './audit-log';

/**
 * Safety net for handlers that do not record themselves: after a mutating handler succeeded,
 * writes its `applied` record before the response goes out. Errors are the filter's job.
 */
@Injectable()
export class AuditInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Audit');

  constructor(private readonly audit: AuditLog) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<Request>();
    if (context.getType() !== 'http' || !isMutating(req.method)) return next.handle();
    const res = context.switchToHttp().getResponse<Response>();
    return next.handle().pipe(
      concatMap(async (body: unknown) => {
        // The change is made: a failed audit write is logged, never turned into an error
        // that would make the caller retry something already applied.
        await this.audit
          .recordSuccess(req, res.statusCode, body)
          .catch((error: unknown) =>
            this.logger.error(
              `audit record of ${req.method} ${req.path} failed: ${error instanceof Error ? error.message : String(error)}`,
            ),
          );
        return body;
      }),
    );
  }
}
