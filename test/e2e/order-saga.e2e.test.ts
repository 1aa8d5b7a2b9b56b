import { createKafka } from '@sagaflow/messaging';
import request from 'supertest';
import { eventually, KAFKA_BROKERS } from '../support/infrastructure';
import { ProcessStack } from '../support/stack';

/**
 * End to end through both apps, as separate processes on real Kafka and PostgreSQL:
 * HTTP start → orchestrator → participants (three plain Node, one NestJS) → replies → state.
 */
describe('order saga end to end', () => {
  let stack: ProcessStack;

  beforeAll(async () => {
    stack = await ProcessStack.create();
  });

  afterAll(async () => {
    await stack?.stop();
  });

  const order = (n: string, card = '4242424242424242') => ({
    orderId: `order-${n}`,
    customerId: `customer-${n}`,
    sku: 'SKU-1',
    quantity: 1,
    amount: 25,
    card,
  });

  async function finished(id: string) {
    return eventually(`saga ${id} to finish`, async () => {
      const res = await request(stack.apiUrl).get(`/sagas/${id}`).set(stack.auth).expect(200);
      return ['completed', 'compensated', 'failed'].includes(res.body.status)
        ? res.body
        : undefined;
    });
  }

  const lines = (saga: {
    timeline: Array<{ type: string; step: string | null; kind: string | null }>;
  }) =>
    saga.timeline
      .filter((t) => t.type === 'command.sent' || t.type === 'reply.received')
      .map((t) => `${t.type} ${t.step} ${t.kind}`);

  it('completes an order: every command and reply is on the timeline', async () => {
    const started = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .set('Idempotency-Key', 'e2e-1')
      .send({ sagaType: 'order', input: order('1') })
      .expect(201);
    expect(started.body).toMatchObject({
      sagaType: 'order',
      sagaVersion: 1,
      status: 'running',
      created: true,
    });

    const saga = await finished(started.body.id);
    expect(saga.status).toBe('completed');
    expect(saga.version).toBe(5);
    expect(lines(saga)).toEqual([
      ...['reserveCredit', 'reserveInventory', 'chargePayment', 'confirmOrder'].flatMap((s) => [
        `command.sent ${s} forward`,
        `reply.received ${s} forward`,
      ]),
      'command.sent notifyCustomer forward', // a notification: no reply awaited
    ]);
    expect(saga.data).toMatchObject({
      creditReservationId: expect.any(String),
      chargeId: expect.any(String),
      confirmedAt: expect.any(String),
    });
  });

  it('compensates in reverse order when the pivot fails', async () => {
    const started = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({ sagaType: 'order', idempotencyKey: 'e2e-2', input: order('2', '4000000000000002') })
      .expect(201);
    const saga = await finished(started.body.id);
    expect(saga.status).toBe('compensated');
    expect(saga.lastError).toMatchObject({ step: 'chargePayment', type: 'card-declined' });
    expect(lines(saga)).toEqual([
      'command.sent reserveCredit forward',
      'reply.received reserveCredit forward',
      'command.sent reserveInventory forward',
      'reply.received reserveInventory forward',
      'command.sent chargePayment forward',
      'reply.received chargePayment forward',
      'command.sent reserveInventory compensate',
      'reply.received reserveInventory compensate',
      'command.sent reserveCredit compensate',
      'reply.received reserveCredit compensate',
    ]);
  });

  it('answers a repeated start with the first instance (200, same id)', async () => {
    const body = { sagaType: 'order', idempotencyKey: 'e2e-3', input: order('3') };
    const first = await request(stack.apiUrl).post('/sagas').set(stack.auth).send(body).expect(201);
    const again = await request(stack.apiUrl).post('/sagas').set(stack.auth).send(body).expect(200);
    expect(again.body).toMatchObject({ id: first.body.id, created: false });
  });

  it('rejects invalid input with a message per field', async () => {
    const res = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({
        sagaType: 'order',
        idempotencyKey: 'e2e-4',
        input: { ...order('4'), quantity: 0, card: 'x' },
      })
      .expect(400);
    expect(res.body.code).toBe('INVALID_SAGA_INPUT');
    expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
      'input.card',
      'input.quantity',
    ]);

    const unknownField = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({ sagaType: 'order', idempotencyKey: 'k', input: {}, admin: true })
      .expect(400);
    expect(unknownField.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      errors: [{ field: 'admin' }],
    });

    const noKey = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({ sagaType: 'order', input: order('5') })
      .expect(400);
    expect(noKey.body.errors[0].field).toBe('idempotencyKey');

    const unknownType = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({ sagaType: 'refund', idempotencyKey: 'k', input: {} })
      .expect(400);
    expect(unknownType.body.code).toBe('UNKNOWN_SAGA_TYPE');

    await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .set('content-type', 'application/json')
      .send('{not json')
      .expect(400);

    // PostgreSQL cannot store U+0000: refused while parsing, never a 500 at the INSERT.
    const nul = JSON.stringify({
      sagaType: 'order',
      idempotencyKey: 'nul',
      input: { ...order('6'), orderId: 'a\u0000b' },
    });
    const refused = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .set('content-type', 'application/json')
      .send(nul)
      .expect(400);
    expect(refused.body.message).toContain('NUL');
  });

  it('answers 404 for an unknown saga and 400 for a malformed id', async () => {
    const missing = await request(stack.apiUrl)
      .get('/sagas/7f1d2c3b-4a5e-4f60-8a7b-9c0d1e2f3a4b')
      .set(stack.auth)
      .expect(404);
    expect(missing.body.code).toBe('SAGA_NOT_FOUND');
    await request(stack.apiUrl).get('/sagas/not-a-uuid').set(stack.auth).expect(400);
  });

  it('publishes the lifecycle of each saga on the lifecycle topic', async () => {
    const started = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({ sagaType: 'order', idempotencyKey: 'e2e-events', input: order('7') })
      .expect(201);
    await finished(started.body.id);
    const kafka = createKafka({ brokers: KAFKA_BROKERS, clientId: 'lifecycle-reader' });
    const consumer = kafka.consumer({
      groupId: `${stack.env.SAGAFLOW_TOPIC_PREFIX}lifecycle-reader`,
    });
    const seen: Array<{ type: string; step: string | null; sagaId: string }> = [];
    try {
      await consumer.connect();
      await consumer.subscribe({
        topic: `${stack.env.SAGAFLOW_TOPIC_PREFIX}sagaflow.lifecycle`,
        fromBeginning: true,
      });
      await consumer.run({
        eachMessage: async ({ message }) => void seen.push(JSON.parse(message.value!.toString())),
      });
      const events = await eventually(
        'the saga to be completed on the lifecycle topic',
        async () => {
          const mine = seen.filter((e) => e.sagaId === started.body.id);
          return mine.some((e) => e.type === 'saga.completed') ? mine : undefined;
        },
      );
      expect(events.map((e) => `${e.type}${e.step ? `:${e.step}` : ''}`)).toEqual([
        'saga.started',
        'saga.stepCompleted:reserveCredit',
        'saga.stepCompleted:reserveInventory',
        'saga.stepCompleted:chargePayment',
        'saga.stepCompleted:confirmOrder',
        'saga.completed',
      ]);
    } finally {
      await consumer.disconnect();
    }
  });
});
