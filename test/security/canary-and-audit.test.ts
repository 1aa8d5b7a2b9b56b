import { sampleDefinitions } from '@sagaflow/sample-order';
import { AdminApp, auditSince, lastAuditId, startAdminApi } from '../support/admin-app';
import { createMigratedStore, orderInput, TestStore } from '../support/fixtures';

/**
 * Security figures of the admin API (RELIABILITY.md): a canary card number in a sensitive
 * field never reaches a viewer, an error body or /metrics; and every mutating request — applied,
 * refused, invalid or unauthenticated — leaves exactly one audit record.
 */
describe('security: canaries and audit coverage', () => {
  let store: TestStore;
  let admin: AdminApp;
  // A valid card number nobody else uses: the canary.
  const CANARY = `4${String(Date.now()).slice(-12).padStart(12, '7')}931`.slice(0, 16);

  beforeAll(async () => {
    store = await createMigratedStore({ register: sampleDefinitions });
    admin = await startAdminApi({ databaseUrl: store.url });
  });

  afterAll(async () => {
    await admin?.close();
    await store?.close();
  });

  const as = (role: 'viewer' | 'operator' | 'admin') => ({
    Authorization: `Bearer ${admin.keys[role]}`,
  });

  it('a sensitive canary is absent from viewer responses, error bodies and /metrics', async () => {
    const started = await admin
      .http()
      .post('/sagas')
      .set(as('operator'))
      .send({ sagaType: 'order', input: orderInput({ card: CANARY }), idempotencyKey: 'canary-1' })
      .expect(201);
    const id = started.body.id as string;

    const bodies: string[] = [];
    const viewer = await admin.http().get(`/sagas/${id}`).set(as('viewer')).expect(200);
    bodies.push(JSON.stringify(viewer.body));
    bodies.push(JSON.stringify((await admin.http().get('/sagas').set(as('viewer'))).body));
    // Errors: an input that fails validation, an illegal action, a skip with bad reply data —
    // each carrying the canary — must not echo it.
    bodies.push(
      JSON.stringify(
        (
          await admin
            .http()
            .post('/sagas')
            .set(as('operator'))
            .send({
              sagaType: 'order',
              input: orderInput({ card: `${CANARY}x` }),
              idempotencyKey: 'canary-2',
            })
            .expect(400)
        ).body,
      ),
    );
    bodies.push(
      JSON.stringify(
        (
          await admin
            .http()
            .post(`/sagas/${id}/skip`)
            .set(as('operator'))
            .send({ reason: 'canary', step: 'chargePayment', reply: { chargeId: CANARY } })
            .expect(409)
        ).body,
      ),
    );
    bodies.push(
      JSON.stringify(
        (
          await admin
            .http()
            .post(`/sagas/${id}/skip`)
            .set(as('operator'))
            .send({ reason: 'canary', step: 'reserveCredit', reply: { card: CANARY } })
            .expect(400)
        ).body,
      ),
    );
    bodies.push((await admin.http().get('/metrics')).text);
    const hits = bodies.filter((b) => b.includes(CANARY)).length;
    process.stdout.write(`security: canary hits ${hits} of ${bodies.length} responses checked\n`);
    expect(hits).toBe(0);
    // The operator, who may see it, does: the redaction is the viewer's, not a lost field.
    const operator = await admin.http().get(`/sagas/${id}`).set(as('operator')).expect(200);
    expect(JSON.stringify(operator.body)).toContain(CANARY);
  });

  it('every mutating request leaves exactly one audit record, whatever its outcome', async () => {
    const since = await lastAuditId(store.dataSource);
    const started = await admin
      .http()
      .post('/sagas')
      .set(as('operator'))
      .send({ sagaType: 'order', input: orderInput(), idempotencyKey: 'audit-1' });
    const id = started.body.id as string;
    const calls = [
      // applied
      () => admin.http().post(`/sagas/${id}/cancel`).set(as('operator')).send({ reason: 'audit' }),
      // refused by the engine (409)
      () => admin.http().post(`/sagas/${id}/retry`).set(as('operator')).send({ reason: 'audit' }),
      // invalid (400)
      () => admin.http().post(`/sagas/${id}/retry`).set(as('operator')).send({}),
      // forbidden (403)
      () => admin.http().post(`/sagas/${id}/retry`).set(as('viewer')).send({ reason: 'audit' }),
      // unauthenticated (401)
      () => admin.http().post(`/sagas/${id}/retry`).send({ reason: 'audit' }),
      // unknown saga (404)
      () =>
        admin
          .http()
          .post('/sagas/00000000-0000-4000-8000-000000000000/retry')
          .set(as('operator'))
          .send({ reason: 'audit' }),
      // a dry run (nothing changes, still recorded)
      () =>
        admin
          .http()
          .post(`/sagas/${id}/compensate?dryRun=true`)
          .set(as('operator'))
          .send({ reason: 'audit' }),
      // an idempotent repeat, and its replay
      () =>
        admin
          .http()
          .post('/sagas/bulk/cancel')
          .set({ ...as('operator'), 'Idempotency-Key': 'audit-bulk' })
          .send({ reason: 'audit', ids: [id] }),
      () =>
        admin
          .http()
          .delete('/api-keys/0000000000000000')
          .set(as('admin'))
          .send({ reason: 'audit' }),
    ];
    const statuses: number[] = [started.status];
    for (const call of calls) statuses.push((await call()).status);
    const records = await auditSince(store.dataSource, since);
    process.stdout.write(
      `security: ${statuses.length} mutating requests (${statuses.join(', ')}), ${records.length} audit records\n`,
    );
    expect(statuses).toEqual([201, 200, 409, 400, 403, 401, 404, 409, 200, 404]);
    expect(records).toHaveLength(statuses.length);
  });
});
