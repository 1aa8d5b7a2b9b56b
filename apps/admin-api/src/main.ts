import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { NestExpressApplication } from '@nestjs/platform-express';
import { AdminApiModule } from './admin-api.module';
import { configureApp } from './configure-app';

async function bootstrap(): Promise<void> {
  const app = configureApp(
    await NestFactory.create<NestExpressApplication>(AdminApiModule, {
      logger: ['log', 'warn', 'error'],
    }),
  );
  const port = Number(process.env.ADMIN_API_PORT ?? 3000);
  await app.listen(port, process.env.ADMIN_API_HOST ?? '127.0.0.1');
  process.stdout.write(
    `admin API listening on ${process.env.ADMIN_API_HOST ?? '127.0.0.1'}:${port}\n`,
  );
}

bootstrap().catch((error: unknown) => {
  process.stderr.write(
    `admin API failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
