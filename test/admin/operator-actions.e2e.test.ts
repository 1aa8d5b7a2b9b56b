import { sampleDefinitions } from '@sagaflow/sample-order';
import { Client } from 'pg';
import { AdminApp, startAdminApi } from '../support/admin-app';
import { createMigratedStore, orderInput, TestStore } from '../support/fixtures';
import {
  deleteTopics,
  eventually,
  KAFKA_BROKERS,
  uniqueTopicPrefix,
} from '../support/infrastructure';
import { AppProcess, READY } from '../support/processes';
import { DECLINED_CARD, freePort } from '../support/stack';

/**
 * Every operator action through the admin API (in process) on sagas that a real orchestrator
 * runs (a process, on Kafka and PostgreSQL), in the states where it applies and where it does
 * not. The sample participants run in phases, with different failures switched on, to hold
 * sagas in the states each action needs.
 */
describe('operator actions end to end', () => {
  let store: TestStore;
  let db: Client;
  let admin: AdminApp;
  let prefix: string;
  const processes: AppProcess[] = [];
  let env: Record<string, string>;

  beforeAll(async () => {
    store = await createMigratedStore({ register: sampleDefinitions });
    db = new Client({ connectionString: store.url });
    await db.connect();
    prefix = uniqueTopicPrefix();
    env = {
      DATABASE_URL: store.url,
      KAFKA_BROKERS: KAFKA_BROKERS.join(','),
      SAGAFLOW_TOPIC_PREFIX: prefix,
      SAGAFLOW_CONSUMER_SESSION_TIMEOUT_MS: '6000',
      SAGAFLOW_TIMER_POLL_MS: '200',
    };
    await run('orchestrator', { ORCHESTRATOR_PORT: String(await freePort()) });
    admin = await startAdminApi({ databaseUrl: store.url, topicPrefix: prefix });
  });

  afterAll(async () => {
    await Promise.allSettled(processes.map((p) => p.stop()));
    await admin?.close();
    await db?.end();
    await store?.close();
    await deleteTopics(prefix).catch(() => undefined);
  });

  async function run(name: 'orchestrator' | 'sample-participants', extra: Record<string, string>) {
    const app = AppProcess.start(name, { ...env, ...extra });
    processes.push(app);
    await app.waitFor(READY[name]);
    return app;
  }

  const as = (role: 'viewer' | 'operator' | 'admin') => ({
    Authorization: `Bearer ${admin.keys[role]}`,
  });

  async function start(card?: string): Promise<string> {
    const res = await admin
      .http()
      .post('/sagas')
      .set(as('operator'))
      .send({
        sagaType: 'order',
        input: orderInput(card ? { card } : {}),
        idempotencyKey: `k-${Math.random()}`,
      })
      .expect(201);
    return res.body.id as string;
  }

  const act = (
    id: string,
    action: string,
    body: object = {},
    headers: Record<string, string> = {},
  ) =>
    admin
      .http()
      .post(`/sagas/${id}/${action}`)
      .set({ ...as('operator'), ...headers })
      .send({ reason: 'e2e: operator at work', ...body });

  async function view(id: string) {
    return (await admin.http().get(`/sagas/${id}`).set(as('operator')).expect(200)).body as {
      status: string;
      version: number;
      timeline: Array<{
        type: string;
        step: string | null;
        kind: string | null;
        attempt: number | null;
        actor: string;
        detail: Record<string, unknown>;
      }>;
    };
  }

  async function until(
    id: string,
    status: string,
    also: (s: Awaited<ReturnType<typeof view>>) => boolean = () => true,
  ) {
    let last: Awaited<ReturnType<typeof view>> | undefined;
    try {
      return await eventually(`saga ${id} to be ${status}`, async () => {
        last = await view(id);
        return last.status === status && also(last) ? last : undefined;
      });
    } catch (error) {
      const seen = last?.timeline.map(
        (t) => `${t.type} ${t.step ?? ''} ${t.kind ?? ''} ${t.attempt ?? ''}`,
      );
      throw new Error(
        `${(error as Error).message}; last seen ${last?.status}:\n${seen?.join('\n')}`,
      );
    }
  }

  /** Compensation commands sent for a saga, in order (the journal keeps each with its payload). */
  async function compensationsSent(id: string) {
    const rows = await db.query<{ step: string; detail: Record<string, unknown> }>(
      `SELECT step, detail FROM saga_journal
        WHERE saga_id = $1 AND type = 'command.sent' AND kind = 'compensate' ORDER BY id`,
      [id],
    );
    return rows.rows.map((r) => ({
      step: r.step,
      commandType: r.detail.commandType,
      idempotencyKey: `${id}:${r.step}:compensate`,
      payload: r.detail.payload,
    }));
  }

  /** Message ids of the commands sent for a saga (the outbox is emptied as it is relayed). */
  async function sentIds(id: string): Promise<string[]> {
    const rows = await db.query<{ message_id: string }>(
      `SELECT detail->>'messageId' AS message_id FROM saga_journal
        WHERE saga_id = $1 AND type = 'command.sent' ORDER BY id`,
      [id],
    );
    return rows.rows.map((r) => r.message_id);
  }

  let waitingOnInventory: string;
  let toCancel: string;
  let plan: Array<{ step: string; commandType: string; payload: unknown; idempotencyKey: string }>;

  it('phase 1 (credit only): a saga waiting on a step refuses what does not apply, with 409 and the reason', async () => {
    const credit = await run('sample-participants', { PARTICIPANTS: 'credit' });
    waitingOnInventory = await start();
    toCancel = await start();
    await until(waitingOnInventory, 'running', (s) =>
      s.timeline.some((t) => t.type === 'reply.received' && t.step === 'reserveCredit'),
    );
    await until(toCancel, 'running', (s) =>
      s.timeline.some((t) => t.type === 'reply.received' && t.step === 'reserveCredit'),
    );

    for (const [action, body, why] of [
      ['retry', {}, /retry applies to a failed saga; this one is running/],
      ['resume', {}, /none waiting/],
      ['mark-compensated', { evidence: 'nothing to see' }, /mark-compensated applies/],
      [
        'skip',
        { step: 'chargePayment', reply: { chargeId: 'x' } },
        /not an outstanding forward step/,
      ],
    ] as const) {
      const res = await act(waitingOnInventory, action, body).expect(409);
      expect(res.body).toMatchObject({
        code: 'ILLEGAL_ACTION',
        message: expect.stringMatching(why),
      });
    }
    // Bad input is a 400 naming the field, an unknown saga a 404.
    const noReason = await admin
      .http()
      .post(`/sagas/${waitingOnInventory}/retry`)
      .set(as('operator'))
      .send({})
      .expect(400);
    expect(noReason.body.errors).toEqual([expect.objectContaining({ field: 'reason' })]);
    await act('00000000-0000-4000-8000-000000000000', 'retry').expect(404);
    await act(waitingOnInventory, 'skip', { step: 'reserveInventory', reply: { wrong: 1 } }).expect(
      400,
    );

    // Nothing of the refused actions reached the saga.
    const saga = await view(waitingOnInventory);
    expect(saga.timeline.some((t) => t.type === 'operator.action')).toBe(false);
    await credit.stop();
  });

  it('phase 1: compensate with dryRun=true returns the exact plan and changes nothing', async () => {
    const before = await view(waitingOnInventory);
    const dry = await act(waitingOnInventory, 'compensate?dryRun=true').expect(200);
    expect(dry.body).toMatchObject({ dryRun: true, wouldBecome: 'compensating' });
    plan = dry.body.compensationPlan;
    expect(plan.map((p) => `${p.step}:${p.commandType}`)).toEqual([
      'reserveInventory:inventory.release',
      'reserveCredit:credit.release',
    ]);
    const after = await view(waitingOnInventory);
    expect(after.version).toBe(before.version);
    expect(await compensationsSent(waitingOnInventory)).toEqual([]);
  });

  it('phase 1: a stale If-Match is a 409; compensate now applies and is on the timeline with who and why', async () => {
    const { version } = await view(waitingOnInventory);
    const stale = await act(
      waitingOnInventory,
      'compensate',
      {},
      { 'If-Match': `"${version - 1}"` },
    ).expect(409);
    expect(stale.body.code).toBe('VERSION_MISMATCH');

    const res = await act(
      waitingOnInventory,
      'compensate',
      {},
      { 'If-Match': `"${version}"`, 'Idempotency-Key': 'comp-1' },
    ).expect(200);
    expect(res.body).toMatchObject({
      action: 'compensate',
      status: 'compensating',
      version: version + 1,
    });
    expect(res.headers.etag).toBe(`"${version + 1}"`);
    // The same key again: the same answer, nothing applied twice.
    const again = await act(
      waitingOnInventory,
      'compensate',
      {},
      { 'If-Match': `"${version}"`, 'Idempotency-Key': 'comp-1' },
    ).expect(200);
    expect(again.body).toEqual(res.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    // The same key for another request is a client bug.
    await act(waitingOnInventory, 'cancel', {}, { 'Idempotency-Key': 'comp-1' }).expect(409);

    const saga = await view(waitingOnInventory);
    const line = saga.timeline.find((t) => t.type === 'operator.action');
    expect(line).toMatchObject({
      detail: { action: 'compensate', reason: 'e2e: operator at work' },
    });
    expect(line!.actor).toMatch(/operator/);
    expect(saga.timeline.filter((t) => t.type === 'operator.action')).toHaveLength(1);
    await act(waitingOnInventory, 'compensate').expect(409);

    const cancelled = await act(toCancel, 'cancel').expect(200);
    expect(cancelled.body.status).toBe('compensating');
  });

  it('phase 2 (all participants, order.confirm fails): the compensations sent equal the dry-run plan', async () => {
    await run('sample-participants', { FAIL_COMMANDS: 'order.confirm' });
    await until(waitingOnInventory, 'compensated');
    await until(toCancel, 'compensated');
    const sent = await compensationsSent(waitingOnInventory);
    expect(sent).toEqual(
      plan.map((p) => ({
        step: p.step,
        commandType: p.commandType,
        idempotencyKey: p.idempotencyKey,
        payload: p.payload,
      })),
    );
  });

  it('phase 2: a failed post-pivot step: compensate is refused, retry re-sends it, skip completes the saga', async () => {
    const id = await start();
    await until(id, 'failed');
    const past = await act(id, 'compensate').expect(409);
    expect(past.body.message).toMatch(/past its pivot/);
    await act(id, 'cancel').expect(409);

    await act(id, 'retry').expect(200);
    await until(id, 'failed', (s) =>
      s.timeline.some(
        (t) => t.type === 'step.failed' && t.step === 'confirmOrder' && t.attempt === 2,
      ),
    );
    expect(await sentIds(id)).toContain(`${id}:confirmOrder:forward:2`);

    await act(id, 'skip', {
      step: 'confirmOrder',
      reply: { confirmedAt: '2026-11-26T12:00:00Z' },
    }).expect(200);
    const done = await until(id, 'completed');
    expect(
      done.timeline.filter((t) => t.type === 'operator.action').map((t) => t.detail.action),
    ).toEqual(['retry', 'skip']);
  });

  it('phase 3 (inventory.release fails): a failed compensation is retried, then marked compensated with evidence', async () => {
    await processes.at(-1)!.stop();
    await run('sample-participants', { FAIL_COMMANDS: 'inventory.release' });
    const id = await start(DECLINED_CARD);
    await until(id, 'failed');
    await act(id, 'compensate').expect(409);

    await act(id, 'retry').expect(200);
    await until(id, 'failed', (s) =>
      s.timeline.some(
        (t) => t.type === 'step.failed' && t.kind === 'compensate' && t.attempt === 2,
      ),
    );
    await act(id, 'mark-compensated', { evidence: 'released by hand, ticket OPS-7' }).expect(200);
    const done = await until(id, 'compensated');
    const marked = done.timeline.find(
      (t) => t.type === 'operator.action' && t.detail.action === 'markCompensated',
    );
    expect(marked?.detail.evidence).toBe('released by hand, ticket OPS-7');
    expect(
      done.timeline.some(
        (t) => t.type === 'reply.received' && t.step === 'reserveCredit' && t.kind === 'compensate',
      ),
    ).toBe(true);
  });

  it('bulk actions report item by item', async () => {
    const failedOne = await start(DECLINED_CARD);
    await until(failedOne, 'failed');
    const done = await start();
    await until(done, 'completed');
    const res = await admin
      .http()
      .post('/sagas/bulk/retry')
      .set(as('operator'))
      .send({ reason: 'e2e bulk', ids: [failedOne, done, '00000000-0000-4000-8000-000000000000'] })
      .expect(200);
    expect(res.body.summary).toEqual({
      applied: 1,
      refused: 1,
      'not-found': 1,
      conflict: 0,
      forbidden: 0,
      error: 0,
    });
    expect(res.body.results.map((r: { outcome: string }) => r.outcome)).toEqual([
      'applied',
      'refused',
      'not-found',
    ]);
    await until(failedOne, 'failed', (s) =>
      s.timeline.some((t) => t.type === 'operator.action' && t.detail.action === 'retry'),
    );
    await admin
      .http()
      .post('/sagas/bulk/cancel')
      .set(as('operator'))
      .send({ reason: 'e2e bulk' })
      .expect(400);
    const byFilter = await admin
      .http()
      .post('/sagas/bulk/retry')
      .set(as('operator'))
      .send({ reason: 'e2e bulk', filter: { sagaType: 'order', status: 'failed' }, limit: 10 })
      .expect(200);
    expect(byFilter.body.requested).toBeGreaterThanOrEqual(1);
  });

  it('credentials scoped to other saga types are refused item by item, and each refusal is audited', async () => {
    const scoped = await admin
      .http()
      .post('/api-keys')
      .set(as('admin'))
      .send({ name: 'trips-only', role: 'operator', sagaTypes: ['trip'], reason: 'e2e scope' })
      .expect(201);
    const key = { Authorization: `Bearer ${scoped.body.key}` };
    const id = await start(DECLINED_CARD);
    await until(id, 'failed');
    const single = await admin
      .http()
      .post(`/sagas/${id}/retry`)
      .set(key)
      .send({ reason: 'out of scope' })
      .expect(403);
    expect(single.body.code).toBe('ACTION_FORBIDDEN');
    const before = (await view(id)).version;
    const bulk = await admin
      .http()
      .post('/sagas/bulk/retry')
      .set(key)
      .send({ reason: 'out of scope', ids: [id] })
      .expect(200);
    expect(bulk.body.results).toEqual([
      expect.objectContaining({ id, outcome: 'forbidden', code: 'ACTION_FORBIDDEN' }),
    ]);
    expect((await view(id)).version).toBe(before);
    const denied = await db.query(
      `SELECT count(*)::int AS n FROM audit_record WHERE saga_id = $1 AND outcome = 'denied'`,
      [id],
    );
    expect(denied.rows[0].n).toBe(2);
    // The start was audited once, in its own transaction, with the saga it created.
    const starts = await db.query(
      `SELECT count(*)::int AS n FROM audit_record WHERE saga_id = $1 AND action = 'saga.start' AND outcome = 'applied'`,
      [id],
    );
    expect(starts.rows[0].n).toBe(1);
    await admin
      .http()
      .post('/sagas')
      .set(key)
      .send({ sagaType: 'order', input: orderInput(), idempotencyKey: 'scoped-start' })
      .expect(403);
  });
});
