import { Client } from 'pg';
import { eventually } from '../support/infrastructure';
import {
  expectAllFinished,
  expectEffectsExactlyOnce,
  ProcessStack,
  sagaStatuses,
  startOrders,
} from '../support/stack';

const BATCH = 40;

/**
 * The orchestrator dies in the middle of a batch of sagas — SIGKILLed from outside, or killing
 * itself at a named crash point — and is started again. Every saga must finish with the right
 * outcome, and no participant may apply any effect twice.
 */
describe('orchestrator crash recovery', () => {
  let stack: ProcessStack;
  let db: Client;

  beforeAll(async () => {
    stack = await ProcessStack.create();
    db = new Client({ connectionString: stack.env.DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  const startBatch = (label: string) => startOrders(stack, label, BATCH);
  const statuses = (ids: readonly string[]) => sagaStatuses(db, ids);

  it('recovers from a SIGKILL in the middle of a batch', async () => {
    const expected = await startBatch('kill');
    const ids = [...expected.keys()];
    await eventually(
      'some progress before the kill',
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM saga_instance WHERE id = ANY($1::uuid[]) AND version >= 3`,
          [ids],
        );
        return rows[0]!.n >= 3 ? true : undefined;
      },
      30_000,
      10,
    );
    await stack.app('orchestrator').kill();
    const unfinished = [...(await statuses(ids)).values()].filter(
      (s) => s === 'running' || s === 'compensating',
    ).length;
    expect(unfinished).toBeGreaterThan(0);
    await stack.start('orchestrator');
    await expectAllFinished(db, expected);
    await expectEffectsExactlyOnce(db, expected);
  });

  it.each([
    ['relay.afterPublish', 'commands published, outbox rows not yet deleted'],
    ['reply.beforeCommit', 'replies applied, transaction not yet committed'],
    ['reply.afterCommitBeforeOffset', 'transaction committed, Kafka offsets not yet committed'],
  ])('recovers from a crash at %s (%s)', async (point) => {
    await stack.app('orchestrator').stop();
    const crashing = stack.start('orchestrator', {
      SAGAFLOW_CRASH_POINT: point,
      SAGAFLOW_CRASH_AFTER: '3',
    });
    await crashing;
    const expected = await startBatch(point);
    await eventually(
      `the orchestrator to die at ${point}`,
      async () => (stack.app('orchestrator').child.signalCode === 'SIGKILL' ? true : undefined),
      60_000,
      50,
    );
    expect(stack.app('orchestrator').output).toContain(`crash point "${point}" reached`);
    await stack.start('orchestrator');
    await expectAllFinished(db, expected);
    await expectEffectsExactlyOnce(db, expected);
  });

  it('recovers from a crash at timer.beforeCommit (a retry timer fired, its transition not committed)', async () => {
    // confirmOrder's first attempt fails transiently, so every completed order goes through a
    // retry timer (500 ms backoff); the orchestrator dies while firing the first of them.
    await stack.app('sample-participants').stop();
    await stack.start('sample-participants', { TRANSIENT_FAILURES: 'order.confirm' });
    await stack.app('orchestrator').stop();
    await stack.start('orchestrator', {
      SAGAFLOW_CRASH_POINT: 'timer.beforeCommit',
      // The first firing pass: the sweep may fire many due timers in one transaction, after
      // which their BullMQ wake-ups find nothing left to fire, so later passes are not certain.
      SAGAFLOW_CRASH_AFTER: '1',
    });
    const expected = await startBatch('timer');
    await eventually(
      'the orchestrator to die at timer.beforeCommit',
      async () => (stack.app('orchestrator').child.signalCode === 'SIGKILL' ? true : undefined),
      60_000,
      50,
    );
    expect(stack.app('orchestrator').output).toContain('crash point "timer.beforeCommit" reached');
    await stack.start('orchestrator');
    await expectAllFinished(db, expected);
    await expectEffectsExactlyOnce(db, expected);
    const retried = await db.query(
      `SELECT count(DISTINCT saga_id)::int AS n FROM saga_journal WHERE type = 'step.retrying' AND step = 'confirmOrder' AND saga_id = ANY($1::uuid[])`,
      [[...expected.keys()]],
    );
    expect(retried.rows[0].n).toBe([...expected.values()].filter((s) => s === 'completed').length);
  });
});
