import { randomUUID } from 'node:crypto';
import { assertMigrated, createDataSource, runMigrations } from '@sagaflow/persistence';
import { DataSource } from 'typeorm';
import { createTestDatabase } from '../support/infrastructure';

/** A valid `running` saga_instance row (raw columns). */
const VALID_INSTANCE = {
  id: '',
  saga_type: 'order',
  saga_version: 1,
  status: 'running',
  current_step: 0,
  attempt: 1,
  data: '{}',
  state: '{"completed":[]}',
  last_error: null as string | null,
  idempotency_key: null as string | null,
  version: 1,
};

const CORE_TABLES = [
  'saga_definition',
  'saga_instance',
  'saga_journal',
  'outbox_message',
  'inbox_message',
  'parked_message',
  'saga_timer',
  'api_key',
  'audit_record',
];
const MIGRATION_NAMES = [
  'CoreStore1764100000000',
  'SagaTimers1764200000000',
  'AdminSecurity1764300000000',
  'AdminSearch1764400000000',
];
/** The tables each migration creates, in order (the search migration only adds indexes). */
const TABLES_BY_MIGRATION: readonly (readonly string[])[] = [
  CORE_TABLES.slice(0, 6),
  ['saga_timer'],
  ['api_key', 'audit_record'],
  [],
];

/**
 * The migrations on a real PostgreSQL: up on a fresh database, idempotent, down, up again,
 * and the CHECK / FK constraints that keep rows the engine could not produce out of the store.
 * The tests run in order on one database; each leaves it fully migrated.
 */
describe('migrations', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let dataSource: DataSource;
  const extra: DataSource[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sagaflow_migrations');
    dataSource = await connect();
  });

  afterAll(async () => {
    for (const ds of [dataSource, ...extra]) if (ds?.isInitialized) await ds.destroy();
    await db?.drop();
  });

  async function connect(): Promise<DataSource> {
    const ds = createDataSource({
      url: db.url,
      poolSize: 4,
      applicationName: 'sagaflow-migrations-test',
    });
    await ds.initialize();
    return ds;
  }

  async function coreTablesPresent(): Promise<string[]> {
    const rows: Array<{ table_name: string }> = await dataSource.query(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name = ANY($1) ORDER BY table_name`,
      [CORE_TABLES],
    );
    return rows.map((r) => r.table_name);
  }

  it('creates every table on a fresh database, then applies nothing when run again', async () => {
    expect(await coreTablesPresent()).toEqual([]);
    await expect(assertMigrated(dataSource)).rejects.toThrow(/npm run migrate/);

    expect(await runMigrations(dataSource)).toEqual(MIGRATION_NAMES);
    expect(await coreTablesPresent()).toEqual([...CORE_TABLES].sort());
    await expect(assertMigrated(dataSource)).resolves.toBeUndefined();

    expect(await runMigrations(dataSource)).toEqual([]);
    const recorded: Array<{ name: string }> = await dataSource.query(
      `SELECT name FROM sagaflow_migrations ORDER BY id`,
    );
    expect(recorded.map((r) => r.name)).toEqual(MIGRATION_NAMES);
  });

  it('drops every table on undo, and two processes migrating at once re-create them exactly once', async () => {
    // Undo runs one migration at a time, latest first; each takes exactly its own tables away.
    for (let undone = MIGRATION_NAMES.length - 1; undone >= 0; undone--) {
      await dataSource.undoLastMigration({ transaction: 'each' });
      const left = TABLES_BY_MIGRATION.slice(0, undone).flat();
      expect(await coreTablesPresent()).toEqual([...left].sort());
      await expect(assertMigrated(dataSource)).rejects.toThrow(/npm run migrate/);
    }
    expect(await coreTablesPresent()).toEqual([]);
    await expect(assertMigrated(dataSource)).rejects.toThrow(
      /pending Sagaflow migrations: run `npm run migrate`/,
    );

    // A second "process" (its own DataSource and pool) races the first: the advisory lock serialises them.
    const other = await connect();
    extra.push(other);
    const results = await Promise.all([runMigrations(dataSource), runMigrations(other)]);
    expect(results.map((r) => r.length).sort()).toEqual([0, MIGRATION_NAMES.length]);
    expect(results.flat()).toEqual(MIGRATION_NAMES);
    expect(await coreTablesPresent()).toEqual([...CORE_TABLES].sort());
    await expect(assertMigrated(other)).resolves.toBeUndefined();
  });

  describe('constraints', () => {
    const sagaId = randomUUID();
    const cause = JSON.stringify({
      step: 'reserveCredit',
      kind: 'forward',
      type: 'insufficient-credit',
      message: 'no credit left',
    });

    beforeAll(async () => {
      await dataSource.query(
        `INSERT INTO saga_definition (name, version, hash, compiled) VALUES ('order', 1, 'h', '{}')`,
      );
      // A valid baseline row of each table proves the rejected rows differ only in the broken rule.
      await insertInstance({ id: sagaId });
    });

    /** Inserts a saga_instance row: a valid `running` row unless overridden. */
    function insertInstance(
      overrides: Partial<Record<keyof typeof VALID_INSTANCE, unknown>> = {},
    ): Promise<unknown> {
      const row = { ...VALID_INSTANCE, id: randomUUID(), ...overrides };
      const columns = Object.keys(row);
      return dataSource.query(
        `INSERT INTO saga_instance (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})`,
        Object.values(row),
      );
    }

    function insertJournal(kind: string | null): Promise<unknown> {
      return dataSource.query(
        `INSERT INTO saga_journal (saga_id, instance_version, type, kind, actor) VALUES ($1, 1, 'command.sent', $2, 'test')`,
        [sagaId, kind],
      );
    }

    function insertTimer(
      event: unknown = { type: 'deadlineReached' },
      key = `${sagaId}:${randomUUID()}`,
      saga = sagaId,
    ): Promise<unknown> {
      return dataSource.query(
        `INSERT INTO saga_timer (timer_key, saga_id, due_at, event) VALUES ($1, $2, now(), $3)`,
        [key, saga, JSON.stringify(event)],
      );
    }

    function insertParked(reasonCode: string, status = 'parked'): Promise<unknown> {
      return dataSource.query(
        `INSERT INTO parked_message (topic, reason_code, reason, status) VALUES ('t', $1, 'why', $2)`,
        [reasonCode, status],
      );
    }

    it('accepts rows the engine can produce', async () => {
      await expect(
        insertInstance({ status: 'compensating', last_error: cause }),
      ).resolves.toBeDefined();
      await expect(
        insertInstance({ status: 'completed', current_step: null, attempt: null }),
      ).resolves.toBeDefined();
      await expect(
        insertInstance({ status: 'failed', current_step: null, attempt: null, last_error: cause }),
      ).resolves.toBeDefined();
      await expect(insertJournal('compensate')).resolves.toBeDefined();
      await expect(insertJournal(null)).resolves.toBeDefined();
      await expect(insertParked('invalid-reply')).resolves.toBeDefined();
      for (const event of [
        { type: 'timedOut', step: 'reserveCredit', kind: 'forward', attempt: 1 },
        { type: 'retryDue', step: 'reserveCredit', kind: 'compensate', attempt: 2 },
        { type: 'deadlineReached' },
      ]) {
        await expect(insertTimer(event)).resolves.toBeDefined();
      }
    });

    it.each<[string, string, () => Promise<unknown>]>([
      [
        'an unknown status',
        'saga_instance_status_check',
        () => insertInstance({ status: 'paused', current_step: null, attempt: null }),
      ],
      [
        'running without a current step',
        'saga_instance_active_step_check',
        () => insertInstance({ current_step: null }),
      ],
      [
        'running without an attempt',
        'saga_instance_active_step_check',
        () => insertInstance({ attempt: null }),
      ],
      [
        'completed with a current step',
        'saga_instance_active_step_check',
        () => insertInstance({ status: 'completed' }),
      ],
      [
        'completed with a last error',
        'saga_instance_cause_check',
        () =>
          insertInstance({
            status: 'completed',
            current_step: null,
            attempt: null,
            last_error: cause,
          }),
      ],
      [
        'compensated without a cause',
        'saga_instance_cause_check',
        () => insertInstance({ status: 'compensated', current_step: null, attempt: null }),
      ],
      [
        'running with a last error',
        'saga_instance_cause_check',
        () => insertInstance({ last_error: cause }),
      ],
      ['version 0', 'saga_instance_version_check', () => insertInstance({ version: 0 })],
      [
        'a journal line of an unknown kind',
        'saga_journal_kind_check',
        () => insertJournal('sideways'),
      ],
      [
        'a parked reason code that is not kebab-case',
        'parked_message_reason_code_check',
        () => insertParked('Bad Reason'),
      ],
      [
        'a parked message with an unknown status',
        'parked_message_status_check',
        () => insertParked('malformed', 'lost'),
      ],
      [
        'a timer with an event the engine does not know',
        'saga_timer_event_check',
        () => insertTimer({ type: 'wakeUp' }),
      ],
    ])('rejects %s (23514 %s)', async (_what, constraint, insert) => {
      await expect(insert()).rejects.toMatchObject({ code: '23514', constraint });
    });

    it('rejects a definition version below 1', async () => {
      await expect(
        dataSource.query(
          `INSERT INTO saga_definition (name, version, hash, compiled) VALUES ('order', 0, 'h', '{}')`,
        ),
      ).rejects.toMatchObject({
        code: '23514',
        constraint: 'saga_definition_version_check',
      });
    });

    it('rejects an instance of an unregistered saga type or version (FK to saga_definition)', async () => {
      await expect(insertInstance({ saga_type: 'not-registered' })).rejects.toMatchObject({
        code: '23503',
        constraint: 'saga_instance_definition_fk',
      });
      await expect(insertInstance({ saga_version: 2 })).rejects.toMatchObject({
        code: '23503',
        constraint: 'saga_instance_definition_fk',
      });
    });

    it('keeps one timer per key, refuses a timer for no saga, and drops the timers with their saga', async () => {
      const owner = randomUUID();
      await insertInstance({ id: owner });
      await insertTimer({ type: 'deadlineReached' }, `${owner}:deadline`, owner);
      await expect(
        insertTimer({ type: 'deadlineReached' }, `${owner}:deadline`, owner),
      ).rejects.toMatchObject({ code: '23505', constraint: 'saga_timer_pkey' });
      await expect(
        insertTimer({ type: 'deadlineReached' }, `${randomUUID()}:deadline`, randomUUID()),
      ).rejects.toMatchObject({ code: '23503', constraint: 'saga_timer_saga_id_fkey' });

      await dataSource.query(`DELETE FROM saga_instance WHERE id = $1`, [owner]);
      const [left] = await dataSource.query(
        `SELECT count(*)::int AS n FROM saga_timer WHERE saga_id = $1`,
        [owner],
      );
      expect(left.n).toBe(0);
    });

    it('keeps the idempotency key unique per saga type (and allows any number of null keys)', async () => {
      await insertInstance({ idempotency_key: 'k-1' });
      await expect(insertInstance({ idempotency_key: 'k-1' })).rejects.toMatchObject({
        code: '23505',
        constraint: 'saga_instance_idempotency_key',
      });
      await insertInstance({ idempotency_key: null });
      await expect(insertInstance({ idempotency_key: null })).resolves.toBeDefined();
    });
  });
});
