import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { DataSource } from 'typeorm';
import { AdminApiModule } from './admin-api.module';
import { AUTH_CONFIG, AuthConfig } from './auth/auth-config';
import { configureApp } from './configure-app';

async function bootstrap(): Promise<void> {
  const app = configureApp(
    await NestFactory.create<NestExpressApplication>(AdminApiModule, {
      logger: ['log', 'warn', 'error'],
      // A provider that cannot start (bad configuration, a bad definitions module) rejects here
      // and is reported in one line below, instead of Nest's stack dump.
      abortOnError: false,
    }),
  );
  const port = Number(process.env.ADMIN_API_PORT ?? 3000);
  const host = process.env.ADMIN_API_HOST ?? '127.0.0.1';
  await app.listen(port, host);
  await describeSecurity(app);
  process.stdout.write(`admin API listening on ${host}:${port}\n`);
}

/** Says how callers authenticate, and how to get a first key when there is none. */
async function describeSecurity(app: NestExpressApplication): Promise<void> {
  const logger = new Logger('Security');
  const config = app.get<AuthConfig>(AUTH_CONFIG);
  logger.log(
    `API keys${config.jwt ? ` and JWTs from ${config.jwt.issuer}` : ''}; ` +
      `${config.readsPerMinute} reads and ${config.writesPerMinute} writes a minute per caller; ` +
      `docs at /docs for ${config.docsPublic ? 'anyone' : 'viewers'}`,
  );
  const [row] = await app
    .get(DataSource)
    .query(`SELECT count(*)::int AS n FROM api_key WHERE revoked_at IS NULL`);
  if (row.n === 0 && !config.jwt) {
    logger.warn(
      'no API key exists yet, so every protected route answers 401: create one with ' +
        '`npm run admin-key -- create --name <you> --role admin`',
    );
  }
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `admin API failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
