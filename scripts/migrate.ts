import { loadConfig } from '@sagaflow/config';
import {
  createDataSource,
  describeUnreachable,
  ensureDatabase,
  runMigrations,
} from '@sagaflow/persistence';

/** `npm run migrate`: creates the database if needed and applies pending migrations. */
async function main(): Promise<void> {
  const { databaseUrl } = loadConfig();
  await ensureDatabase(databaseUrl);
  const dataSource = createDataSource({ url: databaseUrl, applicationName: 'sagaflow-migrate' });
  await dataSource.initialize().catch((error: unknown) => {
    throw new Error(describeUnreachable(databaseUrl, error));
  });
  try {
    const applied = await runMigrations(dataSource);
    process.stdout.write(
      applied.length ? `migrations applied: ${applied.join(', ')}\n` : 'migrations: up to date\n',
    );
  } finally {
    await dataSource.destroy();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `migrate failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
