import request from 'supertest';
import { eventually } from '../support/infrastructure';
import { AppName, AppProcess } from '../support/processes';
import { ProcessStack } from '../support/stack';

const REFUND_MODULE = 'dist/examples/definitions/refund.js';

/**
 * A deployment runs its own sagas: both apps load the modules `SAGAFLOW_DEFINITIONS` names
 * (here the example refund module, built with the apps) instead of the sample order saga, and
 * a module that cannot be used stops the process at startup with a message that says why.
 */
describe('saga definitions loaded from SAGAFLOW_DEFINITIONS (processes, real Kafka and PostgreSQL)', () => {
  let stack: ProcessStack;

  beforeAll(async () => {
    stack = await ProcessStack.create({ SAGAFLOW_DEFINITIONS: REFUND_MODULE });
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('runs a saga from the named module to completion, and only the named sagas', async () => {
    expect(stack.app('orchestrator').output).toMatch(/definitions: refund@1\)/);
    const listed = await request(stack.apiUrl).get('/definitions').set(stack.auth).expect(200);
    expect(JSON.stringify(listed.body)).toContain('"refund"');

    const started = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({
        sagaType: 'refund',
        idempotencyKey: 'refund-1',
        input: { orderId: 'r-1', amount: 12, card: '4242424242424242' },
      })
      .expect(201);
    const saga = await eventually('the refund saga to finish', async () => {
      const res = await request(stack.apiUrl)
        .get(`/sagas/${started.body.id}`)
        .set(stack.auth)
        .expect(200);
      return res.body.status === 'running' ? undefined : res.body;
    });
    expect(saga).toMatchObject({ sagaType: 'refund', status: 'completed' });

    const order = await request(stack.apiUrl)
      .post('/sagas')
      .set(stack.auth)
      .send({ sagaType: 'order', idempotencyKey: 'order-1', input: {} })
      .expect(400);
    expect(order.body).toMatchObject({ code: 'UNKNOWN_SAGA_TYPE' });
    expect(order.body.message).toContain('refund');
  });

  it.each<[AppName, string, RegExp]>([
    ['orchestrator', 'dist/examples/definitions/missing.js', /which could not be loaded/],
    ['admin-api', 'dist/libs/sample-order/src/order-commands.js', /exports no `definitions` array/],
  ])('%s refuses %s at startup and says why', async (app, modulePath, problem) => {
    const proc = AppProcess.start(app, { ...stack.env, SAGAFLOW_DEFINITIONS: modulePath });
    expect(await proc.exitCode()).toBe(1);
    expect(proc.output).toMatch(/failed to start: SAGAFLOW_DEFINITIONS names /);
    expect(proc.output).toContain(modulePath);
    expect(proc.output).toMatch(problem);
  });
});
