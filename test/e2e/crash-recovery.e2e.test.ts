import { Client } from 'pg';
import request from 'supertest';
import { eventually } from '../support/infrastructure';
import { ProcessStack } from '../support/stack';

const LEDGERS = ['sample_credit', 'sample_inventory', 'sample_payment', 'sample_order'];
const DECLINED = '4000000000000002';
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

  /** Starts a batch over HTTP: every third order has the declined card and must be compensated. */
  async function startBatch(label: string): Promise<Map<string, 'completed' | 'compensated'>> {
    const expected = new Map<string, 'completed' | 'compensated'>();
    await Promise.all(
      Array.from({ length: BATCH }, async (_, i) => {
        const declined = i % 3 === 0;
        const input = {
          orderId: `${label}-${i}`,
          customerId: `${label}-c${i}`,
          sku: 'SKU-9',
          quantity: 1,
          amount: 10,
          card: declined ? DECLINED : '4242424242424242',
        };
        const res = await request(stack.apiUrl)
          .post('/sagas')
          .send({ sagaType: 'order', idempotencyKey: `${label}-${i}`, input })
          .expect(201);
        expected.set(res.body.id, declined ? 'compensated' : 'completed');
      }),
    );
    return expected;
  }

  async function statuses(ids: readonly string[]): Promise<Map<string, string>> {
    const { rows } = await db.query<{ id: string; status: string }>(
      `SELECT id, status FROM saga_instance WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    return new Map(rows.map((r) => [r.id, r.status]));
  }

  async function expectAllFinished(expected: Map<string, string>): Promise<void> {
    const ids = [...expected.keys()];
    const final = await eventually(
      `all ${ids.length} sagas to finish`,
      async () => {
        const now = await statuses(ids);
        return [...now.values()].every((s) => s === 'completed' || s === 'compensated')
          ? now
          : undefined;
      },
      90_000,
      250,
    );
    expect(Object.fromEntries(final)).toEqual(Object.fromEntries(expected));
  }

  /** Each (saga, step, kind) at most once in every ledger, and exactly the effects each outcome implies. */
  async function expectEffectsExactlyOnce(expected: Map<string, string>): Promise<void> {
    const ids = [...expected.keys()];
    const completed = [
      'chargePayment:forward',
      'confirmOrder:forward',
      'notifyCustomer:forward',
      'reserveCredit:forward',
      'reserveInventory:forward',
    ];
    const compensated = [
      'reserveCredit:compensate',
      'reserveCredit:forward',
      'reserveInventory:compensate',
      'reserveInventory:forward',
    ];
    // A completed saga's notification is sent as it completes and applied a little later.
    const effects = await eventually(
      'every completed saga to have notified its customer',
      async () => {
        const result = await db.query<{ saga_id: string; effects: string[] }>(
          `SELECT saga_id, array_agg(step || ':' || kind ORDER BY step, kind) AS effects FROM (
             ${LEDGERS.map((s) => `SELECT saga_id, step, kind FROM ${s}.effect_ledger`).join(' UNION ALL ')}
           ) e WHERE saga_id = ANY($1::uuid[]) GROUP BY saga_id`,
          [ids],
        );
        const notified = result.rows.every(
          (r) =>
            expected.get(r.saga_id) !== 'completed' || r.effects.includes('notifyCustomer:forward'),
        );
        return notified && result.rows.length === ids.length ? result : undefined;
      },
      60_000,
      250,
    );
    for (const schema of LEDGERS) {
      const dup = await db.query(
        `SELECT saga_id, step, kind, count(*)::int AS n FROM ${schema}.effect_ledger WHERE saga_id = ANY($1::uuid[]) GROUP BY 1, 2, 3 HAVING count(*) > 1`,
        [ids],
      );
      expect({ schema, duplicates: dup.rows }).toEqual({ schema, duplicates: [] });
    }
    for (const row of effects.rows) {
      expect({ saga: row.saga_id, effects: row.effects }).toEqual({
        saga: row.saga_id,
        effects: expected.get(row.saga_id) === 'completed' ? completed : compensated,
      });
    }
    expect(effects.rows).toHaveLength(ids.length);
  }

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
    await expectAllFinished(expected);
    await expectEffectsExactlyOnce(expected);
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
    await expectAllFinished(expected);
    await expectEffectsExactlyOnce(expected);
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
    await expectAllFinished(expected);
    await expectEffectsExactlyOnce(expected);
    const retried = await db.query(
      `SELECT count(DISTINCT saga_id)::int AS n FROM saga_journal WHERE type = 'step.retrying' AND step = 'confirmOrder' AND saga_id = ANY($1::uuid[])`,
      [[...expected.keys()]],
    );
    expect(retried.rows[0].n).toBe([...expected.values()].filter((s) => s === 'completed').length);
  });
});
