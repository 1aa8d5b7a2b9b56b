import { randomUUID } from 'node:crypto';
import { SagaInstance } from '@sagaflow/engine';
import { SagaInstanceRepository, withTransaction } from '@sagaflow/persistence';
import { orderSaga } from '@sagaflow/sample-order';
import { Client } from 'pg';
import { AdminApp, startAdminApi } from '../support/admin-app';
import { createMigratedStore, orderInput, refundSaga, TestStore } from '../support/fixtures';
import { uniqueTopicPrefix } from '../support/infrastructure';

/**
 * Bulk operations that mix sagas a scoped credential may act on with sagas it may not: each
 * item is authorized on its own, the forbidden ones are reported `forbidden`, left untouched
 * and audited as denials, and the allowed ones go ahead in the same request.
 */
describe('bulk operations mixing allowed and forbidden items', () => {
  let store: TestStore;
  let db: Client;
  let admin: AdminApp;
  let orderOnly: { Authorization: string };
  const refunds: string[] = [];

  beforeAll(async () => {
    store = await createMigratedStore({ register: [orderSaga, refundSaga] });
    db = new Client({ connectionString: store.url });
    await db.connect();
    admin = await startAdminApi({ databaseUrl: store.url, topicPrefix: uniqueTopicPrefix() });
    const key = await admin
      .http()
      .post('/api-keys')
      .set('X-API-Key', admin.keys.admin)
      .send({ name: 'orders-only', role: 'operator', sagaTypes: ['order'], reason: 'scope test' })
      .expect(201);
    orderOnly = { Authorization: `Bearer ${key.body.key}` };
    // Sagas of a second type, which the scoped key must never touch.
    await withTransaction(store.dataSource, async (sql) => {
      for (let i = 0; i < 2; i++) {
        const id = randomUUID();
        refunds.push(id);
        await new SagaInstanceRepository().insert(sql, refund(id), `refund-${i}`);
      }
    });
  });

  afterAll(async () => {
    await admin?.close();
    await db?.end();
    await store?.close();
  });

  const startOrder = async (): Promise<string> => {
    const res = await admin
      .http()
      .post('/sagas')
      .set(orderOnly)
      .send({ sagaType: 'order', input: orderInput(), idempotencyKey: randomUUID() })
      .expect(201);
    return res.body.id as string;
  };

  const snapshot = async (ids: string[]) =>
    (
      await db.query(
        `SELECT id, status, version FROM saga_instance WHERE id = ANY($1::uuid[]) ORDER BY id`,
        [ids],
      )
    ).rows;

  const audits = async (ids: string[], action: string) =>
    (
      await db.query<{ saga_id: string; outcome: string; principal_name: string }>(
        `SELECT saga_id, outcome, principal_name FROM audit_record
          WHERE saga_id = ANY($1::uuid[]) AND action = $2 ORDER BY id`,
        [ids, action],
      )
    ).rows;

  it('by ids: allowed items are applied, the others reported forbidden, untouched and audited', async () => {
    const orders = [await startOrder(), await startOrder()];
    const refundsBefore = await snapshot(refunds);
    const ids = [orders[0]!, refunds[0]!, orders[1]!, refunds[1]!];
    const res = await admin
      .http()
      .post('/sagas/bulk/cancel')
      .set(orderOnly)
      .set('Idempotency-Key', randomUUID())
      .send({ reason: 'mixed bulk by ids', ids })
      .expect(200);
    expect(res.body.results.map((r: { id: string; outcome: string }) => [r.id, r.outcome])).toEqual(
      [
        [orders[0], 'applied'],
        [refunds[0], 'forbidden'],
        [orders[1], 'applied'],
        [refunds[1], 'forbidden'],
      ],
    );
    expect(res.body.summary).toMatchObject({ applied: 2, forbidden: 2, error: 0 });
    expect(res.body.results[1]).toMatchObject({
      code: 'ACTION_FORBIDDEN',
      message: expect.stringContaining('refund'),
    });
    expect(await snapshot(refunds)).toEqual(refundsBefore);
    for (const id of orders) expect((await snapshot([id]))[0].status).not.toBe('running');

    // One audit record per item, with the outcome it had.
    const records = await audits(ids, 'bulk-cancel');
    const outcomeOf = (id: string) => records.filter((r) => r.saga_id === id).map((r) => r.outcome);
    expect(outcomeOf(orders[0]!)).toEqual(['applied']);
    expect(outcomeOf(orders[1]!)).toEqual(['applied']);
    expect(outcomeOf(refunds[0]!)).toEqual(['denied']);
    expect(outcomeOf(refunds[1]!)).toEqual(['denied']);
    expect(new Set(records.map((r) => r.principal_name))).toEqual(new Set(['orders-only']));
  });

  it('by filter: the selection spans both types, and only the allowed type is acted on', async () => {
    const order = await startOrder();
    const refundsBefore = await snapshot(refunds);
    const res = await admin
      .http()
      .post('/sagas/bulk/compensate')
      .set(orderOnly)
      .set('Idempotency-Key', randomUUID())
      .send({ reason: 'mixed bulk by filter', filter: { status: 'running' }, limit: 50 })
      .expect(200);
    const outcomes = new Map<string, string>(
      res.body.results.map((r: { id: string; outcome: string }) => [r.id, r.outcome]),
    );
    expect(outcomes.get(order)).toBe('applied');
    expect(outcomes.get(refunds[0]!)).toBe('forbidden');
    expect(outcomes.get(refunds[1]!)).toBe('forbidden');
    expect(await snapshot(refunds)).toEqual(refundsBefore);
    const denied = (await audits(refunds, 'bulk-compensate')).filter((r) => r.outcome === 'denied');
    expect(denied).toHaveLength(2);
  });

  it('the unscoped operator key may act on both types in one request', async () => {
    const order = await startOrder();
    const res = await admin
      .http()
      .post('/sagas/bulk/cancel')
      .set('X-API-Key', admin.keys.operator)
      .set('Idempotency-Key', randomUUID())
      .send({ reason: 'unscoped bulk', ids: [order, refunds[0]!] })
      .expect(200);
    expect(res.body.results[0]).toMatchObject({ id: order, outcome: 'applied' });
    // In scope, but this deployment does not run refund v1: refused with how to fix it.
    expect(res.body.results[1]).toMatchObject({
      id: refunds[0],
      outcome: 'refused',
      code: 'MISSING_DEFINITION_VERSION',
      message: expect.stringContaining('deploy it with that definition registered'),
    });
  });
});

/** A running saga of a type this deployment does not run (a stored state, as an older build left it). */
function refund(id: string): SagaInstance {
  return {
    id,
    sagaType: 'refund',
    sagaVersion: 1,
    version: 1,
    businessKey: `refund-${id.slice(0, 8)}`,
    data: { refundId: id },
    completed: [],
    status: 'running',
    stage: 0,
    pending: [{ step: 0, attempt: 1, waiting: 'reply' }],
    stageFailure: null,
  };
}
