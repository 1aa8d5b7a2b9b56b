import { randomUUID } from 'node:crypto';
import { SagaFailure, SagaInstance, SagaStatus } from '@sagaflow/engine';
import {
  DefinitionConflictError,
  DefinitionRepository,
  InboxRepository,
  OptimisticLockError,
  OutboxMessage,
  OutboxRepository,
  SagaInstanceRepository,
  Sql,
  withConnection,
  withTransaction,
} from '@sagaflow/persistence';
import {
  DefinitionRegistry,
  InvalidSagaInputError,
  StartSaga,
  UnknownSagaTypeError,
} from '@sagaflow/runtime';
import { CompiledSaga } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { countRows, createMigratedStore, orderInput, TestStore } from '../support/fixtures';

const TOPICS = { topicPrefix: 'store-test.', replyTopic: 'store-test.sagaflow.replies' };
const CAUSE: SagaFailure = {
  step: 'chargePayment',
  kind: 'forward',
  type: 'card-declined',
  message: 'the card was declined',
};

type InstanceIn<S extends SagaStatus> = Extract<SagaInstance, { status: S }>;

interface InstanceOptions {
  readonly version?: number;
  readonly businessKey?: string | null;
  /** Copy id, data and completed steps from this instance: the same saga after a transition. */
  readonly like?: SagaInstance;
}

/** An instance of any status, shaped as the engine would produce it (the CHECK constraints agree). */
function instanceIn<S extends SagaStatus>(status: S, options: InstanceOptions = {}): InstanceIn<S> {
  return build(status, options) as InstanceIn<S>;
}

function build(
  status: SagaStatus,
  { version = 1, businessKey, like }: InstanceOptions,
): SagaInstance {
  const base = {
    id: like?.id ?? randomUUID(),
    sagaType: 'order',
    sagaVersion: 1,
    version,
    businessKey: businessKey === undefined ? (like?.businessKey ?? `order-${status}`) : businessKey,
    data: like?.data ?? {
      ...orderInput(),
      creditReservationId: 'cr-1',
      nested: { list: [1, 'two', null], flag: true },
    },
    completed: like?.completed ?? [{ index: 0, log: { reservationId: 'cr-1' } }],
  };
  switch (status) {
    case 'running':
      return {
        ...base,
        status,
        stage: 1,
        pending: [{ step: 1, attempt: 2, waiting: 'reply' }],
        stageFailure: null,
      };
    case 'compensating':
      return {
        ...base,
        completed: [...base.completed, { index: 1, log: { reservationId: 'inv-1' } }],
        status,
        currentStep: 1,
        attempt: 1,
        waiting: 'reply',
        remaining: [0],
        cause: CAUSE,
      };
    case 'completed':
      return { ...base, status };
    case 'compensated':
      return { ...base, status, cause: CAUSE };
    case 'failed':
      return {
        ...base,
        status,
        failedStep: 3,
        cause: { ...CAUSE, step: 'confirmOrder', type: 'timeout' },
        resume: { kind: 'forward', stage: 3, pending: [{ step: 3, attempt: 2, waiting: 'reply' }] },
      };
  }
}

describe('saga store (PostgreSQL)', () => {
  let store: TestStore;
  const instances = new SagaInstanceRepository();
  const inbox = new InboxRepository();
  const outbox = new OutboxRepository();
  const definitions = new DefinitionRepository();

  beforeAll(async () => {
    store = await createMigratedStore({ prefix: 'sagaflow_store', register: [orderSaga] });
  });

  afterAll(async () => {
    await store?.close();
  });

  const tx = <T>(work: (sql: Sql) => Promise<T>) => withTransaction(store.dataSource, work);
  const read = <T>(work: (sql: Sql) => Promise<T>) => withConnection(store.dataSource, work);
  const find = (id: string) => read((sql) => instances.findById(sql, id));
  const insert = (instance: SagaInstance, key: string | null = null) =>
    tx((sql) => instances.insert(sql, instance, key));

  describe('SagaInstanceRepository', () => {
    it.each<SagaStatus>(['running', 'compensating', 'completed', 'compensated', 'failed'])(
      'round-trips a %s instance through a real row',
      async (status) => {
        const instance = instanceIn(status, { version: 3 });
        expect(await insert(instance, `key-${instance.id}`)).toBe(true);

        const stored = await find(instance.id);
        expect(stored).not.toBeNull();
        expect(stored!.instance).toEqual(instance);
        expect(stored!.idempotencyKey).toBe(`key-${instance.id}`);
        expect(stored!.createdAt).toBeInstanceOf(Date);
        expect(await read((sql) => instances.findMany(sql, [instance.id, randomUUID()]))).toEqual(
          new Map([[instance.id, instance]]),
        );
      },
    );

    it('round-trips the state of a parallel stage: several pending steps, a retry wait, a stage failure and an unknown outcome', async () => {
      const base = instanceIn('running');
      const parallel: SagaInstance = {
        ...base,
        completed: [...base.completed, { index: 2, log: undefined, unknown: true }],
        stage: 1,
        pending: [
          { step: 1, attempt: 3, waiting: 'retry' },
          { step: 3, attempt: 1, waiting: 'reply' },
        ],
        stageFailure: { ...CAUSE, step: 'reserveInventory', type: 'timeout' },
      };
      await insert(parallel);
      expect((await find(parallel.id))!.instance).toEqual(parallel);
      // The query columns show the first outstanding step of the stage.
      const [row] = await store.dataSource.query(
        `SELECT current_step, attempt, last_error FROM saga_instance WHERE id = $1`,
        [parallel.id],
      );
      expect(row).toEqual({ current_step: 1, attempt: 3, last_error: null });

      const waitingRetry: SagaInstance = {
        ...instanceIn('compensating'),
        waiting: 'retry',
        attempt: 2,
      };
      await insert(waitingRetry);
      expect((await find(waitingRetry.id))!.instance).toEqual(waitingRetry);
    });

    it('round-trips a null business key and a failed step 0', async () => {
      const atFirstStep: SagaInstance = {
        ...instanceIn('failed', { businessKey: null }),
        failedStep: 0,
      };
      await insert(atFirstStep);
      expect((await find(atFirstStep.id))!.instance).toEqual(atFirstStep);
    });

    it('refuses a second instance with the same (type, idempotency key), but not null keys', async () => {
      const first = instanceIn('running');
      const second = instanceIn('running');
      expect(await insert(first, 'same-key')).toBe(true);
      expect(await insert(second, 'same-key')).toBe(false);
      expect(await find(second.id)).toBeNull();
      expect(
        (await read((sql) => instances.findByIdempotencyKey(sql, 'order', 'same-key')))!.id,
      ).toBe(first.id);

      expect(await insert(instanceIn('running'), null)).toBe(true);
      expect(await insert(instanceIn('running'), null)).toBe(true);
    });

    it('updates on the expected version, and throws OptimisticLockError naming the saga on a stale one', async () => {
      const running = instanceIn('running');
      await insert(running);
      const completed = instanceIn('completed', { like: running, version: 2 });
      await tx((sql) => instances.updateMany(sql, [{ next: completed, expectedVersion: 1 }]));
      expect((await find(running.id))!.instance).toEqual(completed);

      const stale: SagaInstance = {
        ...running,
        pending: [{ step: 1, attempt: 9, waiting: 'reply' }],
        version: 2,
      };
      const error = await tx((sql) =>
        instances.updateMany(sql, [{ next: stale, expectedVersion: 1 }]),
      ).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(OptimisticLockError);
      expect((error as OptimisticLockError).sagaIds).toEqual([running.id]);
      expect((error as OptimisticLockError).message).toContain(running.id);
      expect((await find(running.id))!.instance).toEqual(completed);
    });

    it('rolls back the whole batch when one instance of it is stale', async () => {
      const fresh = instanceIn('running');
      const moved = instanceIn('running', { version: 4 });
      const atStage2 = { stage: 2, pending: [{ step: 2, attempt: 1, waiting: 'reply' as const }] };
      await insert(fresh);
      await insert(moved);

      const error = await tx((sql) =>
        instances.updateMany(sql, [
          { next: { ...fresh, ...atStage2, version: 2 }, expectedVersion: 1 },
          { next: { ...moved, ...atStage2, version: 2 }, expectedVersion: 1 },
        ]),
      ).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(OptimisticLockError);
      expect((error as OptimisticLockError).sagaIds).toEqual([moved.id]);
      expect((await find(fresh.id))!.instance).toEqual(fresh);
      expect((await find(moved.id))!.instance).toEqual(moved);
    });

    it('lets exactly one of two concurrent transactions update an instance from the same version', async () => {
      const running = instanceIn('running');
      await insert(running);
      const bothRead = barrier(2);

      const writer = (next: SagaInstance) =>
        tx(async (sql) => {
          const current = (await instances.findById(sql, running.id))!.instance;
          await bothRead();
          await instances.updateMany(sql, [{ next, expectedVersion: current.version }]);
          return next;
        });
      const completed = instanceIn('completed', { like: running, version: 2 });
      const compensated = instanceIn('compensated', { like: running, version: 2 });
      const results = await Promise.allSettled([writer(completed), writer(compensated)]);

      const won = results.filter(
        (r): r is PromiseFulfilledResult<SagaInstance> => r.status === 'fulfilled',
      );
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toBeInstanceOf(OptimisticLockError);
      expect(lost[0]!.reason.sagaIds).toEqual([running.id]);
      expect((await find(running.id))!.instance).toEqual(won[0]!.value);
    });
  });

  describe('InboxRepository', () => {
    it('returns only ids never seen by this consumer, duplicates within one call included', async () => {
      const [a, b, c] = [randomUUID(), randomUUID(), randomUUID()];
      expect(await tx((sql) => inbox.recordNew(sql, 'test-consumer', [a, b, a]))).toEqual(
        new Set([a, b]),
      );
      expect(await tx((sql) => inbox.recordNew(sql, 'test-consumer', [b, c, c, a]))).toEqual(
        new Set([c]),
      );
      expect(await tx((sql) => inbox.recordNew(sql, 'test-consumer', []))).toEqual(new Set());
      // Another consumer keeps its own record.
      expect(await tx((sql) => inbox.recordNew(sql, 'other-consumer', [a]))).toEqual(new Set([a]));
    });

    it('forgets ids of one consumer, so they count as new again (a parked reply may come back)', async () => {
      const [a, b] = [randomUUID(), randomUUID()];
      await tx((sql) => inbox.recordNew(sql, 'forget-consumer', [a, b]));
      await tx((sql) => inbox.recordNew(sql, 'other-forget-consumer', [a]));
      await tx((sql) => inbox.forget(sql, 'forget-consumer', [a, randomUUID()]));
      await tx((sql) => inbox.forget(sql, 'forget-consumer', []));
      expect(await tx((sql) => inbox.recordNew(sql, 'forget-consumer', [a, b]))).toEqual(
        new Set([a]),
      );
      // The other consumer's record is untouched.
      expect(await tx((sql) => inbox.recordNew(sql, 'other-forget-consumer', [a]))).toEqual(
        new Set(),
      );
    });
  });

  describe('OutboxRepository', () => {
    it('gives two open transactions disjoint rows (FOR UPDATE SKIP LOCKED)', async () => {
      await tx((sql) => sql.exec('DELETE FROM outbox_message'));
      const messages: OutboxMessage[] = Array.from({ length: 6 }, (_, i) => ({
        messageId: `claim-${i}-${randomUUID()}`,
        topic: 'claims',
        key: `k${i}`,
        headers: { n: String(i) },
        body: { n: i },
      }));
      await tx((sql) => outbox.enqueue(sql, messages));

      const [first, second] = await tx(async (sqlA) => {
        const claimedA = await outbox.claim(sqlA, 4);
        // While A still holds its rows, B claims: it must skip them, not wait (a wait fails fast here).
        const claimedB = await tx(async (sqlB) => {
          await sqlB.exec(`SET LOCAL lock_timeout = '2s'`);
          return outbox.claim(sqlB, 10);
        });
        return [claimedA, claimedB];
      });

      const ids = (claimed: typeof first) => claimed.map((m) => m.messageId);
      expect(ids(first)).toEqual(messages.slice(0, 4).map((m) => m.messageId));
      expect(ids(second)).toEqual(messages.slice(4).map((m) => m.messageId));
      expect(first[0]).toMatchObject({
        topic: 'claims',
        key: 'k0',
        headers: { n: '0' },
        body: { n: 0 },
      });
      expect(await read((sql) => outbox.backlog(sql))).toBe(6);
    });
  });

  describe('DefinitionRepository', () => {
    const changed = (compiled: CompiledSaga): CompiledSaga => ({
      ...compiled,
      steps: compiled.steps.map((s) =>
        s.index === 3 ? { ...s, retry: { ...s.retry, maxAttempts: s.retry.maxAttempts + 1 } } : s,
      ),
    });

    it('registers a definition idempotently', async () => {
      await tx((sql) => definitions.register(sql, orderSaga.compiled));
      await tx((sql) =>
        definitions.register(sql, JSON.parse(JSON.stringify(orderSaga.compiled)) as CompiledSaga),
      );
      expect(
        await countRows(store.dataSource, `SELECT 1 FROM saga_definition WHERE name = 'order'`),
      ).toBe(1);
    });

    it('refuses a changed step graph under the same name and version, and keeps the stored one', async () => {
      const before: Array<{ hash: string }> = await store.dataSource.query(
        `SELECT hash FROM saga_definition WHERE name = 'order' AND version = 1`,
      );
      await expect(
        tx((sql) => definitions.register(sql, changed(orderSaga.compiled))),
      ).rejects.toThrow(DefinitionConflictError);
      await expect(
        tx((sql) => definitions.register(sql, changed(orderSaga.compiled))),
      ).rejects.toThrow(/bump "version"/);
      expect(
        await store.dataSource.query(
          `SELECT hash FROM saga_definition WHERE name = 'order' AND version = 1`,
        ),
      ).toEqual(before);

      // The same change under a new version is a new definition.
      await tx((sql) => definitions.register(sql, { ...changed(orderSaga.compiled), version: 2 }));
      expect(
        await countRows(store.dataSource, `SELECT 1 FROM saga_definition WHERE name = 'order'`),
      ).toBe(2);
    });
  });

  describe('StartSaga', () => {
    const startSaga = () =>
      new StartSaga(store.dataSource, new DefinitionRegistry([orderSaga]), TOPICS);
    const rowsOf = async (sagaId: string) => ({
      instances: await countRows(store.dataSource, 'SELECT 1 FROM saga_instance WHERE id = $1', [
        sagaId,
      ]),
      journal: await countRows(store.dataSource, 'SELECT 1 FROM saga_journal WHERE saga_id = $1', [
        sagaId,
      ]),
      outbox: await countRows(
        store.dataSource,
        'SELECT 1 FROM outbox_message WHERE message_key = $1',
        [sagaId],
      ),
      timers: await countRows(store.dataSource, 'SELECT 1 FROM saga_timer WHERE saga_id = $1', [
        sagaId,
      ]),
    });

    it('starts once per idempotency key: the repeat returns the same instance and writes nothing', async () => {
      const input = orderInput();
      const command = {
        sagaType: 'order',
        input,
        idempotencyKey: `start-${input.orderId}`,
        businessKey: input.orderId,
        actor: 'test',
      };

      const first = await startSaga().execute(command);
      expect(first.created).toBe(true);
      expect(first.instance).toMatchObject({
        status: 'running',
        stage: 0,
        pending: [{ step: 0, attempt: 1, waiting: 'reply' }],
        stageFailure: null,
        version: 1,
        businessKey: input.orderId,
        data: input,
      });
      const afterFirst = await rowsOf(first.instance.id);
      // The deadline (5m) and reserveCredit's timeout (30s) are armed with the first command.
      expect(afterFirst).toEqual({ instances: 1, journal: 2, outbox: 1, timers: 2 });

      const again = await startSaga().execute({ ...command, input: orderInput() });
      expect(again.created).toBe(false);
      expect(again.instance).toEqual(first.instance);
      expect(await rowsOf(first.instance.id)).toEqual(afterFirst);
      expect(
        await countRows(
          store.dataSource,
          `SELECT 1 FROM saga_instance WHERE idempotency_key = $1`,
          [command.idempotencyKey],
        ),
      ).toBe(1);

      const [journal, outboxRows] = await Promise.all([
        store.dataSource.query(
          `SELECT type, step, kind, attempt, actor FROM saga_journal WHERE saga_id = $1 ORDER BY id`,
          [first.instance.id],
        ),
        store.dataSource.query(
          `SELECT topic, headers, body FROM outbox_message WHERE message_key = $1`,
          [first.instance.id],
        ),
      ]);
      expect(journal).toEqual([
        { type: 'saga.started', step: null, kind: null, attempt: null, actor: 'test' },
        { type: 'command.sent', step: 'reserveCredit', kind: 'forward', attempt: 1, actor: 'test' },
      ]);
      expect(outboxRows[0]).toMatchObject({
        topic: 'store-test.credit.commands',
        headers: { 'sagaflow-saga-id': first.instance.id, 'sagaflow-step': 'reserveCredit' },
        body: {
          sagaId: first.instance.id,
          commandType: 'credit.reserve',
          replyTopic: TOPICS.replyTopic,
          expectsReply: true,
          payload: { orderId: input.orderId, customerId: input.customerId, amount: input.amount },
        },
      });
      const timers = await store.dataSource.query(
        `SELECT timer_key, event, extract(epoch FROM due_at - created_at) * 1000 AS delay_ms
           FROM saga_timer WHERE saga_id = $1 ORDER BY timer_key`,
        [first.instance.id],
      );
      expect(
        timers.map((t: { delay_ms: string }) => ({ ...t, delay_ms: Number(t.delay_ms) })),
      ).toEqual([
        {
          timer_key: `${first.instance.id}:deadline`,
          event: { type: 'deadlineReached' },
          delay_ms: 5 * 60_000,
        },
        {
          timer_key: `${first.instance.id}:reserveCredit:forward:1:timeout`,
          event: { type: 'timedOut', step: 'reserveCredit', kind: 'forward', attempt: 1 },
          delay_ms: 30_000,
        },
      ]);
    });

    it('starts once when the same key arrives concurrently', async () => {
      const input = orderInput();
      const command = {
        sagaType: 'order',
        input,
        idempotencyKey: `race-${input.orderId}`,
        actor: 'test',
      };
      const results = await Promise.all([
        startSaga().execute(command),
        startSaga().execute(command),
        startSaga().execute(command),
      ]);
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.instance.id)).size).toBe(1);
      expect(await rowsOf(results[0]!.instance.id)).toEqual({
        instances: 1,
        journal: 2,
        outbox: 1,
        timers: 2,
      });
    });

    it('rejects invalid input with field errors, and writes nothing', async () => {
      const before = await countRows(store.dataSource, 'SELECT 1 FROM saga_instance');
      const error = await startSaga()
        .execute({
          sagaType: 'order',
          input: { ...orderInput(), card: 'abc', quantity: 0 },
          idempotencyKey: `bad-${randomUUID()}`,
          actor: 'test',
        })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidSagaInputError);
      const invalid = error as InvalidSagaInputError;
      expect(invalid.code).toBe('INVALID_SAGA_INPUT');
      expect(invalid.errors).toEqual(
        expect.arrayContaining([
          { path: 'card', message: 'card must be 12 to 19 digits' },
          expect.objectContaining({ path: 'quantity' }),
        ]),
      );
      expect(await countRows(store.dataSource, 'SELECT 1 FROM saga_instance')).toBe(before);
    });

    it('rejects an unknown saga type', async () => {
      const error = await startSaga()
        .execute({ sagaType: 'shipment', input: {}, idempotencyKey: 'x', actor: 'test' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnknownSagaTypeError);
      expect((error as UnknownSagaTypeError).code).toBe('UNKNOWN_SAGA_TYPE');
      expect((error as Error).message).toMatch(/"shipment".*known types: order/);
    });
  });
});

/** Resolves every caller once `parties` callers are waiting. */
function barrier(parties: number): () => Promise<void> {
  let waiting = 0;
  let release!: () => void;
  const all = new Promise<void>((resolve) => (release = resolve));
  return () => {
    waiting += 1;
    if (waiting === parties) release();
    return all;
  };
}
