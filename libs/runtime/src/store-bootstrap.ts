import { SagaflowConfig } from '@sagaflow/config';
import {
  Sql,
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
import { MissingDefinitionVersionError } from './runtime-errors';

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
  try {
    if (options.migrate) await runMigrations(dataSource);
    else await assertMigrated(dataSource);
    const definitions = new DefinitionRepository();
    await withTransaction(dataSource, async (sql) => {
      for (const definition of registry.all()) await definitions.register(sql, definition.compiled);
      if (options.migrate) await assertLiveVersionsDeployed(sql, registry);
    });
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
  return dataSource;
}

/**
 * An orchestrator must be able to finish every saga that is still alive: instances keep the
 * definition version they started with, so a build that dropped a version in use cannot start.
 */
async function assertLiveVersionsDeployed(sql: Sql, registry: DefinitionRegistry): Promise<void> {
  const live = await sql.rows<{ saga_type: string; saga_version: number; n: number }>(
    `SELECT saga_type, saga_version, count(*)::int AS n FROM saga_instance
      WHERE status IN ('running', 'compensating', 'failed') GROUP BY 1, 2 ORDER BY 1, 2`,
  );
  const missing = live.filter((v) => !registry.find(v.saga_type, v.saga_version));
  if (missing.length === 0) return;
  const list = missing.map((v) => `${v.saga_type} v${v.saga_version} (${v.n} live)`).join(', ');
  throw new MissingDefinitionVersionError(
    `this orchestrator cannot finish live sagas of ${list}: their definition version is not in this build. ` +
      'Keep every version that has live instances in the definitions you deploy (next to the new version) until they have finished, then remove it.',
  );
}
