import { Client } from 'pg';
import request from 'supertest';
import { eventually } from '../support/infrastructure';
import { EFFECT_LEDGERS, expectContiguousVersions, freePort, ProcessStack } from '../support/stack';

/**
 * The operator-action crash points: an admin API process SIGKILLed just before its action
 * commits, and just after (before it answers). The operator repeats the call with the same
 * Idempotency-Key on another admin API: the action takes effect exactly once either way, and
 * every saga finishes with no duplicate effect.
 */
describe('operator actions survive a crash of the admin API', () => {
  let stack: ProcessStack;
  let db: Client;

  beforeAll(async () => {
    // Confirmations fail, so every saga stops as `failed` past its pivot: the operator skips it.
    stack = await ProcessStack.create({ FAIL_COMMANDS: 'order.confirm' });
    db = new Client({ connectionString: stack.env.DATABASE_URL });
    await db.connect();
  });

  afterAll(async () => {
    await db?.end();
    await stack?.stop();
  });

  async function failedSaga(n: string): Promise<string> {
    const res = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({
        sagaType: 'order',
        idempotencyKey: `crash-${n}`,
        input: {
          orderId: `crash-${n}`,
          customerId: `crash-c${n}`,
          sku: 'SKU-1',
          quantity: 1,
          amount: 5,
          card: '4242424242424242',
        },
      })
      .expect(201);
    const id = res.body.id as string;
    await eventually(`saga ${id} to fail at confirmOrder`, async () => {
      const r = await db.query(`SELECT status FROM saga_instance WHERE id = $1`, [id]);
      return r.rows[0]?.status === 'failed' ? true : undefined;
    });
    return id;
  }

  const skip = (url: string, id: string, key: string) =>
    request(url)
      .post(`/sagas/${id}/skip`)
      .set({ ...stack.auth, 'Idempotency-Key': key })
      .send({
        reason: 'confirmation service retired this order type',
        step: 'confirmOrder',
        reply: { confirmedAt: '2026-11-26T12:00:00Z' },
      });

  const operatorLines = async (id: string) =>
    Number(
      (
        await db.query(
          `SELECT count(*) AS n FROM saga_journal WHERE saga_id = $1 AND type = 'operator.action'`,
          [id],
        )
      ).rows[0].n,
    );

  it.each(['operator.beforeCommit', 'operator.afterCommit'])(
    'a kill at %s: the repeated call applies the action exactly once',
    async (point) => {
      const ids = [await failedSaga(`${point}-1`), await failedSaga(`${point}-2`)];
      for (const id of ids) {
        const port = await freePort();
        const crashy = await stack.start(
          'admin-api',
          { ADMIN_API_PORT: String(port), SAGAFLOW_CRASH_POINT: point },
          'admin-api-crashy',
        );
        const key = `skip-${id}`;
        await expect(skip(`http://127.0.0.1:${port}`, id, key)).rejects.toThrow();
        await crashy.kill();
        expect(crashy.output).toContain(`crash point "${point}" reached`);
        expect(await operatorLines(id)).toBe(point === 'operator.beforeCommit' ? 0 : 1);

        const again = await skip(stack.apiUrl, id, key).expect(200);
        expect(again.body).toMatchObject({ sagaId: id, action: 'skip' });
        expect(again.headers['idempotent-replayed']).toBe(
          point === 'operator.afterCommit' ? 'true' : undefined,
        );
      }
      for (const id of ids) {
        await eventually(`saga ${id} to complete`, async () => {
          const r = await db.query(`SELECT status FROM saga_instance WHERE id = $1`, [id]);
          return r.rows[0]?.status === 'completed' ? true : undefined;
        });
        expect(await operatorLines(id)).toBe(1);
      }
      const duplicates = await db.query(
        `SELECT saga_id, step, kind, count(*)::int AS n FROM (
           ${EFFECT_LEDGERS.map((s) => `SELECT saga_id, step, kind FROM ${s}.effect_ledger`).join(' UNION ALL ')}
         ) e WHERE saga_id = ANY($1::uuid[]) GROUP BY 1, 2, 3 HAVING count(*) > 1`,
        [ids],
      );
      expect(duplicates.rows).toEqual([]);
      await expectContiguousVersions(db, ids);
    },
  );
});
