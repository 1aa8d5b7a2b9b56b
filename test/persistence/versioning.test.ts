import { loadConfig } from '@sagaflow/config';
import { SagaInstanceRepository, withConnection } from '@sagaflow/persistence';
import {
  bootstrapStore,
  DefinitionRegistry,
  MissingDefinitionVersionError,
  ReplyBatchProcessor,
  StartSaga,
} from '@sagaflow/runtime';
import { defineSaga } from '@sagaflow/saga-dsl';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../support/infrastructure';
import { HarnessInput, ok, rawReply, TOPICS, undo, work } from '../support/saga-harness';

/** v1 has one step; v2 adds a second. */
const v1 = defineSaga({ name: 'versioned', version: 1, input: HarnessInput })
  .step('a', { ...work, compensate: undo })
  .build();
const v2 = defineSaga({ name: 'versioned', version: 2, input: HarnessInput })
  .step('a', { ...work, compensate: undo })
  .step('b', { ...work, compensate: undo })
  .build();

/**
 * Instances keep the version they started with: v1 and v2 run side by side, a v1 instance
 * finishes on v1 after v2 is deployed, and an orchestrator without a version that still has
 * live instances refuses to start, saying what to do.
 */
describe('definition versions', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  const open: DataSource[] = [];
  const config = () => ({ ...loadConfig({}), databaseUrl: db.url, dbPoolSize: 3 });
  const boot = async (definitions: ConstructorParameters<typeof DefinitionRegistry>[0]) => {
    const registry = new DefinitionRegistry(definitions);
    const dataSource = await bootstrapStore(config(), registry, {
      migrate: true,
      applicationName: 'versioning-test',
    });
    open.push(dataSource);
    return { registry, dataSource };
  };
  const statusOf = (dataSource: DataSource, id: string) =>
    withConnection(dataSource, (sql) => new SagaInstanceRepository().findById(sql, id));

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    for (const ds of open) if (ds.isInitialized) await ds.destroy();
    await db?.drop();
  });

  it('runs v1 and v2 side by side; a v1 instance finishes on v1 after v2 is deployed', async () => {
    const before = await boot([v1]);
    const old = (
      await new StartSaga(before.dataSource, before.registry, TOPICS).execute({
        sagaType: 'versioned',
        input: { n: 1 },
        idempotencyKey: 'old',
        actor: 'test',
      })
    ).instance;
    expect(old.sagaVersion).toBe(1);

    const after = await boot([v1, v2]); // the deployment of v2 keeps v1 for its live instances
    const fresh = (
      await new StartSaga(after.dataSource, after.registry, TOPICS).execute({
        sagaType: 'versioned',
        input: { n: 2 },
        idempotencyKey: 'new',
        actor: 'test',
      })
    ).instance;
    expect(fresh.sagaVersion).toBe(2);

    const replies = new ReplyBatchProcessor(after.dataSource, after.registry, TOPICS);
    await replies.process([rawReply(old.id, 'a', 1, ok())]);
    expect((await statusOf(after.dataSource, old.id))!.instance).toMatchObject({
      status: 'completed',
      sagaVersion: 1,
    });

    await replies.process([rawReply(fresh.id, 'a', 1, ok())]);
    expect((await statusOf(after.dataSource, fresh.id))!.instance).toMatchObject({
      status: 'running',
      sagaVersion: 2,
    });
  });

  it('refuses to start without a version that still has live instances, and says how to fix it', async () => {
    // The v2 instance above is still running; a build with only v1 cannot finish it.
    await expect(boot([v1])).rejects.toThrow(MissingDefinitionVersionError);
    await expect(boot([v1])).rejects.toThrow(
      /versioned v2 \(1 live\).*Keep every version that has live instances/,
    );
  });

  it('starts without an old version once its instances have finished', async () => {
    await expect(boot([v2])).resolves.toBeDefined(); // v1's only instance completed above
  });
});
