import { INestApplication, ValidationPipe } from '@nestjs/common';
import { ApiExceptionFilter } from './errors/api-exception.filter';
import { ValidationFailedException } from './errors/validation-failed.exception';

/** Shared by main.ts and the end-to-end tests, so both run the same pipes and filters. */
export function configureApp(app: INestApplication): INestApplication {
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
