import { SagaflowConfig } from '@sagaflow/config';
import {
  assertMigrated,
  createDataSource,
  DefinitionRepository,
  describeUnreachable,
  ensureDatabase,
  runMigrations,
  withTransaction,
} from '@sagaflow/persistence';
import { DataSource } from 'typeorm';
import { DefinitionRegistry } from './definition-registry';

export interface StoreBootstrapOptions {
  /** The orchestrator migrates (under an advisory lock); the admin API only checks. */
  readonly migrate: boolean;
  readonly applicationName: string;
}

/**
 * Connects to PostgreSQL, brings the schema up to date (or checks it is), and registers the
 * definitions this process runs. Fails with a message that names the fix.
 */
export async function bootstrapStore(
  config: SagaflowConfig,
  registry: DefinitionRegistry,
  options: StoreBootstrapOptions,
): Promise<DataSource> {
  if (options.migrate) await ensureDatabase(config.databaseUrl);
  const dataSource = createDataSource({
    url: config.databaseUrl,
    poolSize: config.dbPoolSize,
    applicationName: options.applicationName,
  });
  await dataSource.initialize().catch((error: unknown) => {
    throw new Error(describeUnreachable(config.databaseUrl, error));
  });
  if (options.migrate) await runMigrations(dataSource);
  else await assertMigrated(dataSource);
  const definitions = new DefinitionRepository();
  await withTransaction(dataSource, async (sql) => {
    for (const definition of registry.all()) await definitions.register(sql, definition.compiled);
  });
  return dataSource;
}
