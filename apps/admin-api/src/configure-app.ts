import { ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { NextFunction, Request, Response } from 'express';
import { AuditLog } from './audit';
import { setupOpenApi } from './auth';
import { ApiExceptionFilter, ValidationFailedException } from './errors';

/**
 * Shared by main.ts and the tests, so both run the same pipes, filters and docs. Call it
 * before `init()`/`listen()`: the docs middleware must sit in front of Swagger's routes.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  app.disable('x-powered-by'); // no need to tell strangers what serves the API
  // PostgreSQL cannot store U+0000 in text or jsonb: refuse it while parsing (a 400), not at
  // the INSERT (which would be a 500).
  app.useBodyParser('json', { limit: '256kb', reviver: rejectNul });
  // No body reads as an empty one: DTOs then report their required fields (a 400) instead of
  // handlers meeting `undefined` (a 500), and optional-only DTOs get an object.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (req.body === undefined) req.body = {};
    next();
  });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      exceptionFactory: (errors) => ValidationFailedException.fromValidationErrors(errors),
    }),
  );
  // The filter audits every mutating request that ends in an error (denied, invalid, failed).
  app.useGlobalFilters(new ApiExceptionFilter(app.get(AuditLog)));
  setupOpenApi(app);
  app.enableShutdownHooks();
  return app;
}

function rejectNul(key: string, value: unknown): unknown {
  if ((typeof value === 'string' && value.includes('\u0000')) || key.includes('\u0000')) {
    throw new SyntaxError('strings may not contain the NUL character (\\u0000)');
  }
  return value;
}
