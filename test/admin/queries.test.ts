import { randomUUID } from 'node:crypto';
import { SagaFailure, SagaInstance, SagaStatus } from '@sagaflow/engine';
import { SagaInstanceRepository, withTransaction } from '@sagaflow/persistence';
import { orderSaga } from '@sagaflow/sample-order';
import { Response } from 'supertest';
import { AdminApp, startAdminApi } from '../support/admin-app';
import { createMigratedStore, orderInput, refundSaga, TestStore } from '../support/fixtures';
import { uniqueTopicPrefix } from '../support/infrastructure';

/**
 * The admin API's read side on a store seeded with sagas in every status: search (each
 * filter, sorting, keyset pages), counts, one saga (with redaction for viewers) and the
 * definitions. The app runs in process (startAdminApi) on a database of its own.
 */

/** What the test seeded, to compute the expected answer of each query. */
interface Seeded {
  readonly id: string;
  readonly sagaType: string;
  readonly status: SagaStatus;
  /** The current step (active) or where it failed; null otherwise. */
  readonly step: number | null;
  readonly businessKey: string;
  readonly createdMinutesAgo: number;
  readonly updatedMinutesAgo: number;
}

const cause: SagaFailure = {
  step: 'chargePayment',
  kind: 'forward',
  type: 'card-declined',
  message: 'the card was declined',
};

describe('admin API: finding and reading sagas', () => {
  let store: TestStore;
  let admin: AdminApp;
  const seeded: Seeded[] = [];
  let realSagaId: string;

  const as = (role: 'viewer' | 'operator' | 'admin') => ({
    Authorization: `Bearer ${admin.keys[role]}`,
  });
  const get = (path: string, role: 'viewer' | 'operator' = 'viewer') =>
    admin.http().get(path).set(as(role));

  beforeAll(async () => {
    store = await createMigratedStore({
      prefix: 'sagaflow_admin_queries',
      register: [orderSaga, refundSaga],
    });
    admin = await startAdminApi({ databaseUrl: store.url, topicPrefix: uniqueTopicPrefix() });
    await seed(store, seeded);
    // One real saga, started through the API: it has a journal with its input (and card).
    const started = await admin
      .http()
      .post('/sagas')
      .set(as('operator'))
      .set('Idempotency-Key', 'queries-real-1')
      .send({ sagaType: 'order', input: orderInput({ orderId: 'real-1' }), businessKey: 'real-1' })
      .expect(201);
    realSagaId = started.body.id;
    seeded.push({
      id: realSagaId,
      sagaType: 'order',
      status: 'running',
      step: 0,
      businessKey: 'real-1',
      createdMinutesAgo: 0,
      updatedMinutesAgo: 0,
    });
  });

  afterAll(async () => {
    await admin?.close();
    await store?.close();
  });

  /** Every id over every page of a query, checking each page's size and that none repeats. */
  async function allPages(query: string, limit: number): Promise<string[]> {
    const ids: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res: Response = await get(
        `/sagas?${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      ).expect(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      ids.push(...res.body.items.map((i: { id: string }) => i.id));
      cursor = res.body.nextCursor;
      if (!cursor) return ids;
      expect(res.body.items).toHaveLength(limit);
    }
    throw new Error('more than 100 pages');
  }

  const idsOf = (filter: (s: Seeded) => boolean) =>
    seeded
      .filter(filter)
      .map((s) => s.id)
      .sort();

  const ACTIVE: SagaStatus[] = ['running', 'compensating'];

  describe('GET /sagas', () => {
    it('lists every saga, most recently changed first, as summaries', async () => {
      const res = await get('/sagas?limit=500').expect(200);
      expect(res.body.nextCursor).toBeNull();
      expect(res.body.items).toHaveLength(seeded.length);
      const times = res.body.items.map((i: { updatedAt: string }) => Date.parse(i.updatedAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      const real = res.body.items.find((i: { id: string }) => i.id === realSagaId);
      expect(real).toEqual({
        id: realSagaId,
        sagaType: 'order',
        sagaVersion: 1,
        status: 'running',
        version: 1,
        businessKey: 'real-1',
        currentStep: { index: 0, name: 'reserveCredit' },
        attempt: 1,
        lastError: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      });
      const failed = res.body.items.find((i: { status: string }) => i.status === 'failed');
      expect(failed.currentStep).toEqual({ index: 2, name: 'chargePayment' });
      expect(failed.lastError).toEqual(cause);
      expect(
        res.body.items.find((i: { status: string }) => i.status === 'completed').currentStep,
      ).toBeNull();
    });

    it.each<[string, string, (s: Seeded) => boolean]>([
      ['type', 'type=refund', (s) => s.sagaType === 'refund'],
      ['type and version', 'type=order&version=1', (s) => s.sagaType === 'order'],
      ['a version no saga has', 'version=7', () => false],
      ['one status', 'status=failed', (s) => s.status === 'failed'],
      [
        'statuses, comma-separated',
        'status=running,compensating',
        (s) => ACTIVE.includes(s.status),
      ],
      [
        'statuses, repeated',
        'status=completed&status=compensated',
        (s) => s.status === 'completed' || s.status === 'compensated',
      ],
      [
        'a step name (running, compensating or failed there)',
        'step=chargePayment',
        (s) => s.sagaType === 'order' && s.step === 2 && s.status !== 'completed',
      ],
      [
        'a step and a status',
        'step=chargePayment&status=failed',
        (s) => s.step === 2 && s.status === 'failed',
      ],
      ['a business key', 'businessKey=bk-3', (s) => s.businessKey === 'bk-3'],
      [
        'created range',
        `createdFrom=${ago(630)}&createdTo=${ago(330)}`,
        (s) => s.createdMinutesAgo <= 630 && s.createdMinutesAgo > 330,
      ],
      ['updated since', `updatedFrom=${ago(90)}`, (s) => s.updatedMinutesAgo <= 90],
      ['updated before', `updatedTo=${ago(90)}`, (s) => s.updatedMinutesAgo > 90],
      [
        'stuck for 30 minutes',
        'stuckFor=30m',
        (s) => ACTIVE.includes(s.status) && s.updatedMinutesAgo > 30,
      ],
      ['stuck for 2 days', 'stuckFor=2d', () => false],
      [
        'past deadline',
        'pastDeadline=true',
        (s) => s.businessKey === 'bk-0' || s.businessKey === 'bk-7',
      ],
      [
        'pastDeadline=false (no filter)',
        'pastDeadline=false&type=refund',
        (s) => s.sagaType === 'refund',
      ],
    ])('filters by %s', async (_what, query, expected) => {
      expect((await allPages(query, 500)).sort()).toEqual(idsOf(expected));
    });

    it('sorts by creation or last change, either way', async () => {
      const createdAsc = await get('/sagas?sort=createdAt&order=asc&limit=500').expect(200);
      const created = createdAsc.body.items.map((i: { createdAt: string }) =>
        Date.parse(i.createdAt),
      );
      expect(created).toEqual([...created].sort((a, b) => a - b));
      const updatedAsc = await get('/sagas?sort=updatedAt&order=asc&limit=500').expect(200);
      const updated = updatedAsc.body.items.map((i: { updatedAt: string }) =>
        Date.parse(i.updatedAt),
      );
      expect(updated).toEqual([...updated].sort((a, b) => a - b));
    });

    it.each([
      'sort=updatedAt&order=desc',
      'sort=updatedAt&order=asc',
      'sort=createdAt&order=desc',
      'sort=createdAt&order=asc',
    ])(
      'pages through everything with %s: no duplicate, no gap, same order as one page',
      async (order) => {
        const onePage = await allPages(order, 500);
        for (const limit of [1, 3, 7]) {
          const paged = await allPages(order, limit);
          expect(paged).toEqual(onePage);
        }
        expect(new Set(onePage).size).toBe(seeded.length);
      },
    );

    it('pages through a filter whose rows share one timestamp (ties broken by id)', async () => {
      // The completed sagas were all last changed at the same microsecond.
      const paged = await allPages('status=completed', 2);
      expect(paged.sort()).toEqual(idsOf((s) => s.status === 'completed'));
    });

    it.each<[string, string]>([
      ['status=lost', 'status'],
      ['status=running,', 'status'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['version=0', 'version'],
      ['version=1.5', 'version'],
      ['sort=name', 'sort'],
      ['order=up', 'order'],
      ['createdFrom=yesterday', 'createdFrom'],
      ['updatedTo=2025-13-01T00:00:00Z', 'updatedTo'],
      [`createdFrom=${ago(10)}&createdTo=${ago(20)}`, 'createdTo'],
      ['stuckFor=5x', 'stuckFor'],
      ['stuckFor=0s', 'stuckFor'],
      ['pastDeadline=yes', 'pastDeadline'],
      ['step=teleport', 'step'],
      ['type=refund&step=reserveCredit', 'step'],
      ['type=Order!', 'type'],
      ['cursor=not-a-cursor', 'cursor'],
      ['cursor=eyJ4IjoxfQ', 'cursor'],
      ['colour=blue', 'colour'],
      ['type=order&type=refund', 'type'],
    ])('answers 400 naming the field for %s', async (query, field) => {
      const res = await get(`/sagas?${query}`).expect(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
      expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
      expect(typeof res.body.message).toBe('string');
    });

    it('refuses a cursor made for another sort order', async () => {
      const first = await get('/sagas?limit=2&sort=createdAt').expect(200);
      const res = await get(`/sagas?limit=2&sort=updatedAt&cursor=${first.body.nextCursor}`).expect(
        400,
      );
      expect(res.body.errors[0].field).toBe('cursor');
    });

    it('needs credentials', async () => {
      await admin.http().get('/sagas').expect(401);
    });
  });

  describe('GET /sagas/counts', () => {
    it('counts every status, zeros included', async () => {
      const res = await get('/sagas/counts').expect(200);
      const expected = Object.fromEntries(
        (['running', 'compensating', 'completed', 'compensated', 'failed'] as const).map((s) => [
          s,
          seeded.filter((x) => x.status === s).length,
        ]),
      );
      expect(res.body).toEqual({ counts: expected, total: seeded.length });
    });

    it('applies the filters', async () => {
      const res = await get('/sagas/counts?type=refund').expect(200);
      expect(res.body).toEqual({
        counts: { running: 2, compensating: 0, completed: 0, compensated: 0, failed: 0 },
        total: 2,
      });
      const stuck = await get('/sagas/counts?stuckFor=30m').expect(200);
      expect(stuck.body.total).toBe(
        idsOf((s) => ACTIVE.includes(s.status) && s.updatedMinutesAgo > 30).length,
      );
      expect(stuck.body.counts.completed).toBe(0);
    });

    it('takes no status and no paging', async () => {
      const res = await get('/sagas/counts?status=running&limit=5').expect(400);
      expect(res.body.errors.map((e: { field: string }) => e.field).sort()).toEqual([
        'limit',
        'status',
      ]);
    });
  });

  describe('GET /sagas/:id', () => {
    it('shows the state, current step, deadline, timers and the timeline to an operator', async () => {
      const res = await get(`/sagas/${realSagaId}`, 'operator').expect(200);
      const saga = res.body;
      expect(saga).toMatchObject({
        id: realSagaId,
        sagaType: 'order',
        status: 'running',
        businessKey: 'real-1',
        idempotencyKey: 'queries-real-1',
        currentStage: { index: 0, name: 'reserveCredit' },
        currentStep: {
          index: 0,
          name: 'reserveCredit',
          kind: 'compensatable',
          phase: 'forward',
          attempt: 1,
          waiting: 'reply',
          since: saga.updatedAt,
        },
        lastError: null,
      });
      expect(saga.data.card).toBe('4242424242424242');
      // The order saga has a 5 minute deadline and a 30 s timeout on reserveCredit.
      const deadlineIn = Date.parse(saga.deadline) - Date.parse(saga.createdAt);
      expect(deadlineIn).toBeGreaterThan(299_000);
      expect(deadlineIn).toBeLessThan(301_000);
      expect(saga.pendingTimers.map((t: { type: string }) => t.type).sort()).toEqual([
        'deadlineReached',
        'timedOut',
      ]);
      expect(saga.pendingTimers.find((t: { type: string }) => t.type === 'timedOut')).toMatchObject(
        {
          step: 'reserveCredit',
          kind: 'forward',
          attempt: 1,
          overdue: false,
        },
      );
      const started = saga.timeline.find((t: { type: string }) => t.type === 'saga.started');
      expect(started).toMatchObject({
        source: 'journal',
        version: 1,
        actor: expect.stringMatching(/^test-operator \(key:[0-9a-f]{16}\)$/),
      });
      expect(started.detail.input.card).toBe('4242424242424242');
      expect(saga.redacted).toBeUndefined();
    });

    it('redacts the sensitive fields for a viewer: data, logs, timeline and audit details', async () => {
      const failed = seeded.find((s) => s.status === 'failed')!;
      await store.dataSource.query(
        `INSERT INTO audit_record (principal_id, principal_name, role, via, method, route, path, saga_id,
                                   action, reason, outcome, status_code, detail)
         VALUES ('key:x', 'ops-1', 'operator', 'api-key', 'POST', '/sagas/:id/skip', $1, $2,
                 'saga.skip', 'card re-entered', 'applied', 200, $3)`,
        [
          `/sagas/${failed.id}/skip`,
          failed.id,
          JSON.stringify({ reply: { card: '5555555555554444' } }),
        ],
      );
      const viewer = (await get(`/sagas/${failed.id}`, 'viewer').expect(200)).body;
      const operator = (await get(`/sagas/${failed.id}`, 'operator').expect(200)).body;
      expect(viewer.redacted).toEqual(['card']);
      expect(viewer.data.card).toBe('[redacted]');
      expect(viewer.data.orderId).toBe(operator.data.orderId);
      expect(viewer.completedSteps[0].log).toEqual({ reservationId: 'r-1', card: '[redacted]' });
      expect(operator.completedSteps[0].log.card).toBe('4111111111111111');
      const audit = (line: { source: string }) => line.source === 'audit';
      expect(viewer.timeline.find(audit)).toMatchObject({
        type: 'operator.saga.skip',
        actor: 'operator:ops-1',
        detail: { reason: 'card re-entered', outcome: 'applied', reply: { card: '[redacted]' } },
      });
      expect(operator.timeline.find(audit).detail.reply.card).toBe('5555555555554444');
      expect(viewer.currentStep).toMatchObject({
        index: 2,
        name: 'chargePayment',
        waiting: 'operator',
        attempt: null,
      });
      expect(JSON.stringify(viewer)).not.toMatch(
        /4111111111111111|5555555555554444|4242424242424242/,
      );

      const real = (await get(`/sagas/${realSagaId}`, 'viewer').expect(200)).body;
      const started = real.timeline.find((t: { type: string }) => t.type === 'saga.started');
      expect(started.detail.input.card).toBe('[redacted]');
      expect(real.data.card).toBe('[redacted]');
    });

    it('redacts a saga whose definition is not in this build with every known sensitive field', async () => {
      const refund = seeded.find((s) => s.sagaType === 'refund')!;
      const viewer = (await get(`/sagas/${refund.id}`, 'viewer').expect(200)).body;
      expect(viewer.data.card).toBe('[redacted]');
      expect(viewer.currentStep).toMatchObject({ index: 0, name: null, kind: null });
    });

    it('answers 404 SAGA_NOT_FOUND for an unknown id and 400 for a malformed one', async () => {
      const missing = await get(`/sagas/${randomUUID()}`).expect(404);
      expect(missing.body).toMatchObject({ statusCode: 404, code: 'SAGA_NOT_FOUND' });
      const malformed = await get('/sagas/not-a-uuid').expect(400);
      expect(malformed.body).toMatchObject({
        code: 'VALIDATION_FAILED',
        errors: [{ field: 'id' }],
      });
    });
  });

  it('documents the routes, their parameters and bodies in the OpenAPI document', async () => {
    const doc = (await get('/docs-json').expect(200)).body;
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/sagas',
        '/sagas/counts',
        '/sagas/{id}',
        '/definitions',
        '/definitions/{name}/{version}',
        '/parked-messages',
        '/parked-messages/{id}',
        '/parked-messages/{id}/replay',
        '/parked-messages/{id}/discard',
      ]),
    );
    const names = (path: string, method: string) =>
      doc.paths[path][method].parameters.map((p: { name: string }) => p.name);
    expect(names('/sagas', 'get')).toEqual(
      expect.arrayContaining([
        'type',
        'version',
        'status',
        'step',
        'businessKey',
        'createdFrom',
        'createdTo',
        'updatedFrom',
        'updatedTo',
        'stuckFor',
        'pastDeadline',
        'sort',
        'order',
        'limit',
        'cursor',
      ]),
    );
    expect(names('/parked-messages/{id}/replay', 'post')).toEqual(
      expect.arrayContaining(['id', 'Idempotency-Key']),
    );
    const schemas = doc.components.schemas;
    expect(schemas.ResolveParkedMessageDto.required).toEqual(['reason']);
    expect(Object.keys(schemas.StartSagaDto.properties).sort()).toEqual([
      'businessKey',
      'idempotencyKey',
      'input',
      'sagaType',
    ]);
  });

  describe('definitions', () => {
    it('lists every version: this build and the store, with live instances', async () => {
      const res = await get('/definitions').expect(200);
      const live = (type: string) =>
        seeded.filter(
          (s) => s.sagaType === type && ['running', 'compensating', 'failed'].includes(s.status),
        ).length;
      expect(res.body.items).toEqual([
        {
          name: 'order',
          version: 1,
          latest: true,
          inBuild: true,
          stepCount: 5,
          stageCount: 5,
          pivot: { index: 2, name: 'chargePayment' },
          deadlineMs: 300_000,
          startOn: { topic: 'orders.order-placed' },
          sensitive: ['card'],
          liveInstances: live('order'),
          registeredAt: expect.any(String),
          hash: expect.stringMatching(/^[0-9a-f]{64}$/),
        },
        expect.objectContaining({
          name: 'refund',
          version: 1,
          latest: false,
          inBuild: false,
          stepCount: 1,
          pivot: { index: 0, name: 'chargeBack' },
          liveInstances: 2,
        }),
      ]);
    });

    it('shows the compiled step graph of one version', async () => {
      const res = await get('/definitions/order/1').expect(200);
      expect(res.body.stages[0]).toEqual({
        index: 0,
        name: 'reserveCredit',
        parallel: false,
        steps: [{ index: 0, name: 'reserveCredit' }],
      });
      expect(
        res.body.steps.map((s: { name: string; kind: string }) => `${s.name}:${s.kind}`),
      ).toEqual([
        'reserveCredit:compensatable',
        'reserveInventory:compensatable',
        'chargePayment:pivot',
        'confirmOrder:retriable',
        'notifyCustomer:notification',
      ]);
      expect(res.body.steps[0]).toMatchObject({
        command: { type: 'credit.reserve', topic: 'credit.commands' },
        timeoutMs: 30_000,
        onTimeout: expect.any(String),
        retry: expect.any(Object),
        compensation: {
          command: { type: 'credit.release', topic: 'credit.commands' },
          timeoutMs: null,
          retry: expect.any(Object),
        },
      });
      expect(res.body.steps[2]).toMatchObject({
        timeoutMs: 60_000,
        onTimeout: 'park',
        compensation: null,
      });
      const stored = await get('/definitions/refund/1').expect(200);
      expect(stored.body).toMatchObject({
        inBuild: false,
        steps: [{ name: 'chargeBack', kind: 'pivot' }],
      });
    });

    it('answers 404 for an unknown definition and 400 for a malformed version', async () => {
      const missing = await get('/definitions/order/9').expect(404);
      expect(missing.body).toMatchObject({ code: 'NOT_FOUND' });
      await get('/definitions/nope/1').expect(404);
      const bad = await get('/definitions/order/one').expect(400);
      expect(bad.body.errors[0].field).toBe('version');
    });
  });
});

/** An ISO time `minutes` ago. */
function ago(minutes: number): string {
  return new Date(Date.now() - minutes * 60_000).toISOString();
}

/**
 * Inserts 24 instances through the repository (every status, two types), then sets their
 * timestamps: the completed ones share one `updated_at` to the microsecond (ties).
 */
async function seed(store: TestStore, seeded: Seeded[]): Promise<void> {
  const repo = new SagaInstanceRepository();
  const plan: Array<{ status: SagaStatus; step: number | null; type?: string }> = [
    { status: 'running', step: 0 },
    { status: 'running', step: 1 },
    { status: 'running', step: 2 },
    { status: 'running', step: 2 },
    { status: 'running', step: 3 },
    { status: 'compensating', step: 1 },
    { status: 'compensating', step: 0 },
    { status: 'running', step: 1 },
    ...Array.from({ length: 8 }, () => ({ status: 'completed' as const, step: null })),
    { status: 'compensated', step: null },
    { status: 'compensated', step: null },
    { status: 'compensated', step: null },
    { status: 'failed', step: 2 },
    { status: 'failed', step: 2 },
    { status: 'failed', step: 3 },
    { status: 'running', step: 0, type: 'refund' },
    { status: 'running', step: 0, type: 'refund' },
  ];
  await withTransaction(store.dataSource, async (sql) => {
    for (const [i, p] of plan.entries()) {
      const s: Seeded = {
        id: randomUUID(),
        sagaType: p.type ?? 'order',
        status: p.status,
        step: p.step,
        businessKey: `bk-${i}`,
        createdMinutesAgo: 60 * (i + 1),
        updatedMinutesAgo: p.status === 'completed' ? 3000 : 7 * i + 5,
      };
      seeded.push(s);
      await repo.insert(sql, instance(s), `seed-${i}`);
      await sql.exec(
        `UPDATE saga_instance SET created_at = now() - make_interval(mins => $2),
                updated_at = CASE WHEN $3 THEN timestamptz '2025-01-01 00:00:00.123456+00'
                                  ELSE now() - make_interval(mins => $4) END
          WHERE id = $1`,
        [s.id, s.createdMinutesAgo, p.status === 'completed', s.updatedMinutesAgo],
      );
    }
    const [overdue, runningPastDeadline, completedPastDeadline, futureDeadline] = [
      seeded[0]!,
      seeded.find((s) => s.businessKey === 'bk-7')!,
      seeded.find((s) => s.status === 'completed')!,
      seeded[1]!,
    ];
    // bk-0: the deadline timer is overdue (not fired yet); bk-1's is still ahead.
    await sql.exec(
      `INSERT INTO saga_timer (timer_key, saga_id, due_at, event) VALUES
         ($1 || ':deadline', $1::uuid, now() - interval '1 minute', '{"type":"deadlineReached"}'),
         ($2 || ':deadline', $2::uuid, now() + interval '1 hour', '{"type":"deadlineReached"}')`,
      [overdue.id, futureDeadline.id],
    );
    // bk-7 (running) passed its deadline already; so did a completed saga, which is not active.
    await sql.exec(
      `INSERT INTO saga_journal (saga_id, instance_version, type, actor, detail)
       VALUES ($1, 2, 'saga.deadlineReached', 'timer', '{}'), ($2, 2, 'saga.deadlineReached', 'timer', '{}')`,
      [runningPastDeadline.id, completedPastDeadline.id],
    );
  });
}

/** An engine state for a seeded row; every one has a completed step whose log holds a card. */
function instance(s: Seeded): SagaInstance {
  const base = {
    id: s.id,
    sagaType: s.sagaType,
    sagaVersion: 1,
    version: 2,
    businessKey: s.businessKey,
    data: { orderId: `o-${s.businessKey}`, card: '4111111111111111' },
    completed: [{ index: 0, log: { reservationId: 'r-1', card: '4111111111111111' } }],
  };
  switch (s.status) {
    case 'running':
      return {
        ...base,
        status: 'running',
        stage: s.step!,
        pending: [{ step: s.step!, attempt: 1, waiting: 'reply' }],
        stageFailure: null,
      };
    case 'compensating':
      return {
        ...base,
        status: 'compensating',
        currentStep: s.step!,
        attempt: 1,
        waiting: 'reply',
        remaining: [],
        cause,
      };
    case 'completed':
      return { ...base, status: 'completed' };
    case 'compensated':
      return { ...base, status: 'compensated', cause };
    case 'failed':
      return { ...base, status: 'failed', failedStep: s.step!, cause, resume: null };
  }
}
