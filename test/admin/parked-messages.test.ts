import { randomUUID } from 'node:crypto';
import { DefinitionRegistry, RawReply, ReplyBatchProcessor } from '@sagaflow/runtime';
import { orderSaga } from '@sagaflow/sample-order';
import { Response } from 'supertest';
import { AdminApp, startAdminApi } from '../support/admin-app';
import { createMigratedStore, orderInput, TestStore } from '../support/fixtures';
import { uniqueTopicPrefix } from '../support/infrastructure';
import { ok, rawReply, TOPICS } from '../support/saga-harness';

/**
 * Parked messages through the admin API: replies parked by the real reply path (the
 * ReplyBatchProcessor, without Kafka), listed, read, replayed through the outbox — and then
 * applied by the orchestrator's processor — or discarded, with the audit record in the same
 * transaction, idempotency keys, and 409 for anything not parked any more.
 */
describe('admin API: parked messages', () => {
  let store: TestStore;
  let admin: AdminApp;
  /** An orchestrator of an older build: it lacks the order definition, so it parks its replies. */
  let oldBuild: ReplyBatchProcessor;
  /** The orchestrator after the fix: it applies them. */
  let fixedBuild: ReplyBatchProcessor;

  const as = (role: 'viewer' | 'operator' | 'admin') => ({
    Authorization: `Bearer ${admin.keys[role]}`,
  });
  const act = (id: string, action: 'replay' | 'discard', body: object, key?: string) => {
    const req = admin.http().post(`/parked-messages/${id}/${action}`).set(as('operator'));
    return (key ? req.set('Idempotency-Key', key) : req).send(body);
  };

  beforeAll(async () => {
    store = await createMigratedStore({ prefix: 'sagaflow_admin_parked', register: [orderSaga] });
    admin = await startAdminApi({ databaseUrl: store.url, topicPrefix: uniqueTopicPrefix() });
    oldBuild = new ReplyBatchProcessor(store.dataSource, new DefinitionRegistry([]), TOPICS);
    fixedBuild = new ReplyBatchProcessor(
      store.dataSource,
      new DefinitionRegistry([orderSaga]),
      TOPICS,
    );
  });

  afterAll(async () => {
    await admin?.close();
    await store?.close();
  });

  async function startSaga(): Promise<string> {
    const res = await admin
      .http()
      .post('/sagas')
      .set(as('operator'))
      .send({ sagaType: 'order', input: orderInput(), idempotencyKey: randomUUID() })
      .expect(201);
    return res.body.id;
  }

  /** Parks a valid reply to the saga's first step (the old build cannot apply it). */
  async function parkedReplyFor(sagaId: string): Promise<{ id: string; raw: RawReply }> {
    const raw = rawReply(
      sagaId,
      'reserveCredit',
      1,
      ok({ reservationId: `r-${sagaId.slice(0, 4)}` }),
    );
    const withHeaders = {
      ...raw,
      headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    };
    expect(await oldBuild.process([withHeaders])).toMatchObject({ parked: 1 });
    const [row] = await store.dataSource.query(
      `SELECT id::text FROM parked_message WHERE saga_id = $1 ORDER BY id DESC LIMIT 1`,
      [sagaId],
    );
    return { id: row.id, raw: withHeaders };
  }

  async function insertParked(fields: {
    body: string | null;
    reasonCode?: string;
    topic?: string;
    sagaId?: string;
  }) {
    const [row] = await store.dataSource.query(
      `INSERT INTO parked_message (topic, partition, kafka_offset, message_key, headers, body, reason_code, reason, saga_id)
       VALUES ($1, 0, '17', 'k-1', '{"h":"v"}', $2, $3, 'made up by the test', $4) RETURNING id::text`,
      [
        fields.topic ?? 'harness.replies',
        fields.body,
        fields.reasonCode ?? 'malformed',
        fields.sagaId ?? null,
      ],
    );
    return row.id as string;
  }

  const outboxRow = async (parkedId: string) =>
    (
      await store.dataSource.query(
        `SELECT topic, message_key, headers, body FROM outbox_message WHERE message_id = $1`,
        [`replay:parked:${parkedId}`],
      )
    )[0];

  it('replays a parked reply: the original goes back through the outbox and is applied', async () => {
    const sagaId = await startSaga();
    const { id, raw } = await parkedReplyFor(sagaId);

    const listed = await admin
      .http()
      .get(`/parked-messages?sagaId=${sagaId}`)
      .set(as('viewer'))
      .expect(200);
    expect(listed.body.items).toEqual([
      expect.objectContaining({
        id,
        status: 'parked',
        reasonCode: 'unknown-definition',
        sagaId,
        topic: TOPICS.replyTopic,
      }),
    ]);
    const read = await admin.http().get(`/parked-messages/${id}`).set(as('viewer')).expect(200);
    expect(read.body).toMatchObject({
      key: sagaId,
      headers: raw.headers,
      body: raw.value!.toString(),
      bodyBytes: raw.value!.length,
      bodyRedacted: false,
      resolution: null,
    });

    const replayed = await act(id, 'replay', {
      reason: 'deployed the build with the order saga',
    }).expect(200);
    expect(replayed.body).toMatchObject({
      id,
      status: 'replayed',
      resolution: {
        by: 'test-operator',
        note: 'deployed the build with the order saga',
        at: expect.any(String),
      },
    });
    expect(replayed.body.body).toBeUndefined();

    const sent = await outboxRow(id);
    expect(sent).toEqual({
      topic: TOPICS.replyTopic,
      message_key: sagaId,
      headers: raw.headers,
      body: JSON.parse(raw.value!.toString()),
    });
    // What the relay publishes and the consumer hands over: the same message id gets through
    // (the inbox forgot it when it was parked) and the saga moves on.
    const republished: RawReply = {
      ...raw,
      offset: '9999',
      key: Buffer.from(sent.message_key),
      value: Buffer.from(JSON.stringify(sent.body)),
    };
    expect(await fixedBuild.process([republished])).toMatchObject({
      applied: 1,
      parked: 0,
      duplicates: 0,
    });
    const saga = await admin.http().get(`/sagas/${sagaId}`).set(as('operator')).expect(200);
    expect(saga.body.completedSteps.map((s: { name: string }) => s.name)).toEqual([
      'reserveCredit',
    ]);

    // The audit record was written with the change, and shows on the saga's timeline.
    const [audit] = await store.dataSource.query(
      `SELECT action, reason, outcome, saga_id, detail FROM audit_record WHERE action = 'parked-message.replay' AND saga_id = $1`,
      [sagaId],
    );
    expect(audit).toMatchObject({
      action: 'parked-message.replay',
      outcome: 'applied',
      reason: 'deployed the build with the order saga',
      detail: { parkedMessageId: id, reasonCode: 'unknown-definition' },
    });
    expect(saga.body.timeline).toContainEqual(
      expect.objectContaining({
        source: 'audit',
        type: 'operator.parked-message.replay',
        actor: 'operator:test-operator',
      }),
    );

    const again = await act(id, 'replay', { reason: 'once more' }).expect(409);
    expect(again.body).toMatchObject({ code: 'ILLEGAL_ACTION' });
    expect(again.body.message).toMatch(/already replayed by test-operator .*deployed the build/);
    const discard = await act(id, 'discard', { reason: 'too late' }).expect(409);
    expect(discard.body.code).toBe('ILLEGAL_ACTION');
  });

  it('discards a parked message; a second discard or a replay is a 409', async () => {
    const id = await insertParked({ body: 'not json at all' });
    const res = await act(id, 'discard', { reason: 'garbage from a test producer' }).expect(200);
    expect(res.body).toMatchObject({
      id,
      status: 'discarded',
      resolution: { note: 'garbage from a test producer' },
    });
    expect(await outboxRow(id)).toBeUndefined();
    await act(id, 'discard', { reason: 'again' }).expect(409);
    await act(id, 'replay', { reason: 'after all' }).expect(409);
    const [audit] = await store.dataSource.query(
      `SELECT action, saga_id FROM audit_record WHERE detail->>'parkedMessageId' = $1 AND outcome = 'applied'`,
      [id],
    );
    expect(audit).toEqual({ action: 'parked-message.discard', saga_id: null });
  });

  it.each<[string, string | null]>([
    ['a body that is not JSON', 'not json {'],
    ['no body', null],
    ['a body jsonb cannot hold', '{"x":"\\u0000"}'],
  ])('refuses to replay %s (409, still parked)', async (_what, body) => {
    const id = await insertParked({ body });
    const res = await act(id, 'replay', { reason: 'try it' }).expect(409);
    expect(res.body.code).toBe('ILLEGAL_ACTION');
    expect(res.body.message).toMatch(/cannot be replayed/);
    const still = await admin.http().get(`/parked-messages/${id}`).set(as('operator')).expect(200);
    expect(still.body.status).toBe('parked');
    expect(await outboxRow(id)).toBeUndefined();
  });

  it('answers a repeated Idempotency-Key with the first answer, and refuses it for another request', async () => {
    const first = await insertParked({ body: '{"ok":true}' });
    const other = await insertParked({ body: '{"ok":true}' });
    const key = `replay-${randomUUID()}`;
    const a = await act(first, 'replay', { reason: 'fixed' }, key).expect(200);
    const b = await act(first, 'replay', { reason: 'fixed' }, key).expect(200);
    expect(b.body).toEqual(a.body);
    const records = await store.dataSource.query(
      `SELECT count(*)::int AS n FROM audit_record WHERE detail->>'parkedMessageId' = $1`,
      [first],
    );
    expect(records[0].n).toBe(1);
    const reused = await act(other, 'replay', { reason: 'fixed' }, key).expect(409);
    expect(reused.body.code).toBe('IDEMPOTENCY_KEY_REUSED');
    const untouched = await admin
      .http()
      .get(`/parked-messages/${other}`)
      .set(as('viewer'))
      .expect(200);
    expect(untouched.body.status).toBe('parked');
  });

  it('shows viewers a body with its sensitive fields redacted; operators see it whole', async () => {
    const json = await insertParked({
      body: '{"orderId":"o-1","card":"4111111111111111"}',
      reasonCode: 'invalid-event',
    });
    const text = await insertParked({ body: 'card=4111111111111111 (not JSON)' });
    const viewer = await admin.http().get(`/parked-messages/${json}`).set(as('viewer')).expect(200);
    expect(JSON.parse(viewer.body.body)).toEqual({ orderId: 'o-1', card: '[redacted]' });
    expect(viewer.body.bodyRedacted).toBe(true);
    const operator = await admin
      .http()
      .get(`/parked-messages/${json}`)
      .set(as('operator'))
      .expect(200);
    expect(operator.body.body).toBe('{"orderId":"o-1","card":"4111111111111111"}');
    const withheld = await admin
      .http()
      .get(`/parked-messages/${text}`)
      .set(as('viewer'))
      .expect(200);
    expect(withheld.body).toMatchObject({ body: null, bodyRedacted: true });
  });

  it('returns a large body whole, as text', async () => {
    const big = 'x'.repeat(300_000);
    const id = await insertParked({ body: big });
    const res = await admin.http().get(`/parked-messages/${id}`).set(as('operator')).expect(200);
    expect(res.body.body).toBe(big);
    expect(res.body.bodyBytes).toBe(300_000);
  });

  it('filters and pages the list (newest first, no duplicates or gaps)', async () => {
    const topic = `t-${randomUUID().slice(0, 8)}`;
    const ids = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        await insertParked({
          body: `{"i":${i}}`,
          topic,
          reasonCode: i % 2 ? 'invalid-reply' : 'unknown-saga',
        }),
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: Response = await admin
        .http()
        .get(`/parked-messages?topic=${topic}&limit=2${cursor ? `&cursor=${cursor}` : ''}`)
        .set(as('viewer'))
        .expect(200);
      seen.push(...res.body.items.map((m: { id: string }) => m.id));
      expect(res.body.items[0]?.body).toBeUndefined();
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());

    const invalid = await admin
      .http()
      .get(`/parked-messages?topic=${topic}&reasonCode=invalid-reply`)
      .set(as('viewer'))
      .expect(200);
    expect(invalid.body.items.map((m: { id: string }) => m.id)).toEqual([ids[3], ids[1]]);
    await act(ids[0]!, 'discard', { reason: 'not needed' }).expect(200);
    const parked = await admin
      .http()
      .get(`/parked-messages?topic=${topic}&status=parked`)
      .set(as('viewer'))
      .expect(200);
    expect(parked.body.items).toHaveLength(4);
    const discarded = await admin
      .http()
      .get(`/parked-messages?topic=${topic}&status=discarded`)
      .set(as('viewer'))
      .expect(200);
    expect(discarded.body.items.map((m: { id: string }) => m.id)).toEqual([ids[0]]);
  });

  it.each<[string, string]>([
    ['/parked-messages?status=lost', 'status'],
    ['/parked-messages?sagaId=42', 'sagaId'],
    ['/parked-messages?reasonCode=Bad Code', 'reasonCode'],
    ['/parked-messages?limit=0', 'limit'],
    ['/parked-messages?limit=501', 'limit'],
    ['/parked-messages?cursor=abc', 'cursor'],
    ['/parked-messages?colour=blue', 'colour'],
    ['/parked-messages/abc', 'id'],
    ['/parked-messages/-1', 'id'],
  ])('answers 400 for GET %s', async (path, field) => {
    const res = await admin.http().get(path).set(as('viewer')).expect(400);
    expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
    expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
  });

  it('checks the action requests: reason, id, key, role', async () => {
    const id = await insertParked({ body: '{}' });
    const noReason = await act(id, 'discard', {}).expect(400);
    expect(noReason.body.errors[0].field).toBe('reason');
    await act(id, 'discard', { reason: 'no' }).expect(400);
    await act(id, 'discard', { reason: 'x'.repeat(501) }).expect(400);
    await act(id, 'discard', { reason: 'fine', extra: 1 }).expect(400);
    const badKey = await act(id, 'discard', { reason: 'fine' }, 'has space').expect(400);
    expect(badKey.body.errors[0].field).toBe('Idempotency-Key');
    await act('abc', 'replay', { reason: 'fine' }).expect(400);
    const missing = await act('987654321', 'replay', { reason: 'fine' }).expect(404);
    expect(missing.body).toMatchObject({
      code: 'NOT_FOUND',
      message: 'no parked message with id 987654321',
    });
    await admin.http().get('/parked-messages/987654321').set(as('viewer')).expect(404);
    await admin
      .http()
      .post(`/parked-messages/${id}/discard`)
      .set(as('viewer'))
      .send({ reason: 'viewers may not' })
      .expect(403);
    const still = await admin.http().get(`/parked-messages/${id}`).set(as('viewer')).expect(200);
    expect(still.body.status).toBe('parked');
  });
});
