import { ValidationPipe } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { ValidationFailedException } from './errors/validation-failed.exception';

/** Shared by main.ts and the end-to-end tests, so both run the same pipes and filters. */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  // PostgreSQL cannot store U+0000 in text or jsonb: refuse it while parsing (a 400), not at
  // the INSERT (which would be a 500).
  app.useBodyParser('json', { limit: '256kb', reviver: rejectNul });
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      exceptionFactory: (errors) => ValidationFailedException.fromValidationErrors(errors),
    }),
  );
  app.useGlobalFilters(new ApiExceptionFilter());
  app.enableShutdownHooks();
  return app;
}

function rejectNul(key: string, value: unknown): unknown {
  if ((typeof value === 'string' && value.includes('\u0000')) || key.includes('\u0000')) {
    throw new SyntaxError('strings may not contain the NUL character (\\u0000)');
  }
  return value;
}
