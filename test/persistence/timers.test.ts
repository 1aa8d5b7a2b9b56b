import { attemptTimerKey, SagaInstance, TimerEvent } from '@sagaflow/engine';
import { TimerRepository, withTransaction } from '@sagaflow/persistence';
import { DefinitionRegistry, TimerProcessor } from '@sagaflow/runtime';
import { defineSaga } from '@sagaflow/saga-dsl';
import { eventually } from '../support/infrastructure';
import {
  fail,
  HarnessInput,
  Notify,
  ok,
  rawReply,
  SagaHarness,
  undo,
  work,
} from '../support/saga-harness';

/*
 * Timers on a real PostgreSQL: step timeouts, retry backoff and saga deadlines, armed in the
 * same transaction as the transition that needs them and fired by the TimerProcessor from the
 * `saga_timer` table. Replies are fed by hand; timers fire only when a test fires them.
 */

const sagaNamed = (name: string, version = 1, deadline?: '400ms') =>
  defineSaga({ name, version, input: HarnessInput, ...(deadline ? { deadline } : {}) });

/** Step `a` times out after 1 s; a timeout retries it once at once (attempt 2), then gives up. */
const retryOnTimeout = (version = 1) =>
  sagaNamed('timeout-retry', version)
    .step('a', {
      ...work,
      compensate: undo,
      timeout: '1s',
      retry: { maxAttempts: 2, initialDelay: 0 },
    })
    .pivot('b', work)
    .build();

/** Step `b` gives up on a timeout: the saga compensates `b` (outcome unknown) and `a`. */
const compensateOnTimeout = sagaNamed('timeout-compensate')
  .step('a', { ...work, compensate: undo })
  .step('b', { ...work, compensate: undo, timeout: '300ms', onTimeout: 'compensate' })
  .pivot('c', work)
  .build();

/** The pivot parks on a timeout: the saga fails and waits for an operator. */
const parkOnTimeout = sagaNamed('timeout-park')
  .step('a', { ...work, compensate: undo })
  .pivot('b', { ...work, timeout: '300ms', onTimeout: 'park' })
  .build();

/** The pivot gives up on a timeout: whether the charge happened is unknown. */
const pivotGivesUp = sagaNamed('pivot-gives-up')
  .step('a', { ...work, compensate: undo })
  .pivot('b', { ...work, timeout: '300ms', onTimeout: 'compensate' })
  .build();

/** A retryable failure of `a` is retried after 300 ms, then 600 ms (no jitter). */
const backoff = sagaNamed('retry-backoff')
  .step('a', {
    ...work,
    compensate: undo,
    retry: { maxAttempts: 3, initialDelay: '300ms', jitter: 0 },
  })
  .pivot('b', work)
  .build();

/** The saga must be done within 400 ms; `a`'s retries wait 5 s. */
const deadline = sagaNamed('deadline', 1, '400ms')
  .step('a', { ...work, compensate: undo, retry: { maxAttempts: 3, initialDelay: '5s' } })
  .step('b', { ...work, compensate: undo })
  .pivot('c', work)
  .retriable('d', work)
  .notify('tell', { command: Notify, payload: (d) => ({ n: d.n }) })
  .build();

/** Two steps at once, each with a 1 s timeout that is retried at once. */
const parallel = sagaNamed('timeout-parallel')
  .parallel('both', (g) =>
    g
      .step('left', {
        ...work,
        compensate: undo,
        timeout: '1s',
        retry: { maxAttempts: 2, initialDelay: 0 },
      })
      .step('right', {
        ...work,
        compensate: undo,
        timeout: '1s',
        retry: { maxAttempts: 2, initialDelay: 0 },
      }),
  )
  .pivot('c', work)
  .build();

/** A compensation that must answer within 300 ms; two attempts, 300 ms apart. */
const compensationTimeout = sagaNamed('compensation-timeout')
  .step('a', {
    ...work,
    compensate: {
      ...undo,
      timeout: '300ms',
      retry: { maxAttempts: 2, initialDelay: '300ms', jitter: 0 },
    },
  })
  .pivot('b', work)
  .build();

const DEFINITIONS = [
  retryOnTimeout(),
  compensateOnTimeout,
  parkOnTimeout,
  pivotGivesUp,
  backoff,
  deadline,
  parallel,
  compensationTimeout,
];

describe('timers (PostgreSQL)', () => {
  let h: SagaHarness;

  beforeAll(async () => {
    h = await SagaHarness.create(DEFINITIONS, { prefix: 'sagaflow_timers' });
  });

  afterAll(async () => {
    await h?.close();
  });

  // Every processor claims any due timer in the database: no test leaves one behind.
  afterEach(async () => {
    await h.dataSource.query('DELETE FROM saga_timer');
  });

  /** Fires until the saga has moved past `version` (the timer is due by then). */
  async function fireUntil(sagaId: string, version: number): Promise<SagaInstance> {
    return eventually(
      `saga ${sagaId} to pass version ${version} by a timer`,
      async () => {
        await h.fire();
        const instance = await h.load(sagaId);
        return instance.version > version ? instance : undefined;
      },
      10_000,
      25,
    );
  }

  const journalLines = async (sagaId: string) =>
    (await h.journal(sagaId)).map(
      (e) =>
        `${e.actor} ${e.type}${e.step ? ` ${e.step}` : ''}${e.kind ? ` ${e.kind}` : ''}${e.attempt ? ` ${e.attempt}` : ''}`,
    );

  describe('TimerRepository', () => {
    const repo = new TimerRepository();
    const event: TimerEvent = { type: 'deadlineReached' };

    it('arms a key once (a second schedule keeps the first due time), claims due timers without blocking on locked ones, and says when the next is due', async () => {
      const saga = await h.start('retry-backoff');
      await h.dataSource.query('DELETE FROM saga_timer');
      expect(await withTransaction(h.dataSource, (sql) => repo.nextDueInMs(sql))).toBeNull();

      const keys = ['t1', 't2', 't3', 't4'].map((k) => `${saga.id}:${k}`);
      await withTransaction(h.dataSource, (sql) =>
        repo.schedule(
          sql,
          keys.map((key) => ({ key, sagaId: saga.id, delayMs: 0, event })),
        ),
      );
      const before = await h.storedTimers(saga.id);
      await withTransaction(h.dataSource, (sql) =>
        repo.schedule(sql, [{ key: keys[0]!, sagaId: saga.id, delayMs: 60_000, event }]),
      );
      expect(await h.storedTimers(saga.id)).toEqual(before);
      expect(await withTransaction(h.dataSource, (sql) => repo.nextDueInMs(sql))).toBe(0);

      const [first, second] = await withTransaction(h.dataSource, async (a) => {
        const claimedA = await repo.claimDue(a, 3);
        // While A holds its rows, B must skip them, not wait (a wait would fail fast here).
        const claimedB = await withTransaction(h.dataSource, async (b) => {
          await b.exec(`SET LOCAL lock_timeout = '2s'`);
          return repo.claimDue(b, 10);
        });
        return [claimedA, claimedB];
      });
      expect(first).toHaveLength(3);
      expect(second).toHaveLength(1);
      expect([...first, ...second].map((t) => t.key).sort()).toEqual([...keys].sort());
      expect(first[0]).toMatchObject({ sagaId: saga.id, event });

      await withTransaction(h.dataSource, (sql) => repo.postpone(sql, keys, 5_000));
      const next = await withTransaction(h.dataSource, (sql) => repo.nextDueInMs(sql));
      expect(next).toBeGreaterThan(4_000);
      expect(next).toBeLessThanOrEqual(5_000);
      expect(await withTransaction(h.dataSource, (sql) => repo.claimDue(sql, 10))).toEqual([]);
    });
  });

  describe('step timeout', () => {
    it('is armed with the command in one transaction and fires after its delay; onTimeout "retry" re-sends attempt 2 with the same idempotency key', async () => {
      const saga = await h.start('timeout-retry');

      // The timer row and the command's outbox row were written by the same transaction.
      const [timer, ...others] = await h.storedTimers(saga.id);
      expect(others).toEqual([]);
      expect(timer).toMatchObject({
        key: attemptTimerKey(saga.id, 'a', 'forward', 1, 'timeout'),
        event: { type: 'timedOut', step: 'a', kind: 'forward', attempt: 1 },
        delayMs: 1000,
      });
      const [outbox] = await h.dataSource.query(
        `SELECT xmin::text AS xmin FROM outbox_message WHERE message_key = $1`,
        [saga.id],
      );
      const [row] = await h.dataSource.query(
        `SELECT xmin::text AS xmin FROM saga_instance WHERE id = $1`,
        [saga.id],
      );
      expect(outbox.xmin).toBe(timer!.xmin);
      expect(row.xmin).toBe(timer!.xmin);

      // Not yet due: firing does nothing.
      expect(await h.fire()).toBe(0);
      expect(await h.load(saga.id)).toEqual(saga);

      const retried = await fireUntil(saga.id, 1);
      expect(retried).toMatchObject({
        status: 'running',
        version: 2,
        pending: [{ step: 0, attempt: 2, waiting: 'reply' }],
      });
      const timeline = await h.journal(saga.id);
      const timedOut = timeline.find((e) => e.type === 'step.timedOut')!;
      // It fired in a transaction that started after the timer was due.
      expect(timedOut.recordedAt.getTime()).toBeGreaterThanOrEqual(timer!.dueAt.getTime());
      expect(await journalLines(saga.id)).toEqual([
        'test saga.started',
        'test command.sent a forward 1',
        'timer step.timedOut a forward 1',
        'timer step.failed a forward 1',
        'timer step.retrying a forward 2',
        'timer command.sent a forward 2',
      ]);
      expect(timeline.filter((e) => e.actor === 'timer').map((e) => e.instanceVersion)).toEqual([
        2, 2, 2, 2,
      ]);

      const [first, second] = await h.commands(saga.id);
      expect(second).toEqual({
        ...first,
        attempt: 2,
        messageId: `${saga.id}:a:forward:2`,
      });
      expect(second!.idempotencyKey).toBe(`${saga.id}:a:forward`);
      // The fired timer is gone; attempt 2 has a timeout of its own.
      expect(await h.timerKeys(saga.id)).toEqual(['a:forward:2:timeout']);

      // A late reply to attempt 1 is stale; the reply to attempt 2 moves on and disarms its timer.
      expect(await h.reply(saga.id, 'a', 1, ok())).toMatchObject({ applied: 0, ignored: 1 });
      expect(await h.reply(saga.id, 'a', 2, ok())).toMatchObject({ applied: 1 });
      expect(await h.load(saga.id)).toMatchObject({ version: 3, stage: 1 });
      expect(await h.timerKeys(saga.id)).toEqual([]);
    });

    it('gives up when the attempts run out: the step is compensated too, without a log (its outcome is unknown)', async () => {
      const saga = await h.start('timeout-retry', 7);
      await fireUntil(saga.id, 1);
      const given = await fireUntil(saga.id, 2);

      expect(given).toMatchObject({
        status: 'compensating',
        currentStep: 0,
        attempt: 1,
        remaining: [],
        cause: { step: 'a', kind: 'forward', type: 'timeout' },
        completed: [{ index: 0, unknown: true }],
      });
      expect(await h.sent(saga.id)).toEqual(['a forward 1', 'a forward 2', 'a compensate 1']);
      const undoCommand = (await h.commands(saga.id))[2]!;
      // The payload function got `undefined` for the log: undo by the business data instead.
      expect(undoCommand).toMatchObject({
        commandType: 'harness.undo',
        payload: { n: 7 },
        compensates: `${saga.id}:a:forward`,
        expectsReply: true,
      });
      expect(undoCommand.payload).not.toHaveProperty('ref');

      await h.reply(saga.id, 'a', 1, ok({}), 'compensate');
      expect(await h.load(saga.id)).toMatchObject({ status: 'compensated', version: 4 });
    });

    it('onTimeout "compensate": the timed-out step and the steps before it are compensated, latest first', async () => {
      const saga = await h.start('timeout-compensate', 3);
      await h.reply(saga.id, 'a', 1, ok({ ref: 'ref-a' }));
      expect(await h.timerKeys(saga.id)).toEqual(['b:forward:1:timeout']);

      const compensating = await fireUntil(saga.id, 2);
      expect(compensating).toMatchObject({
        status: 'compensating',
        currentStep: 1,
        remaining: [0],
        cause: { step: 'b', type: 'timeout' },
      });
      expect(compensating.completed).toEqual([
        { index: 0, log: { ref: 'ref-a' } },
        { index: 1, unknown: true },
      ]);
      await h.reply(saga.id, 'b', 1, ok({}), 'compensate');
      await h.reply(saga.id, 'a', 1, ok({}), 'compensate');

      expect(await h.load(saga.id)).toMatchObject({ status: 'compensated', version: 5 });
      const commands = await h.commands(saga.id);
      expect(commands.map((c) => [c.step, c.kind, c.payload])).toEqual([
        ['a', 'forward', { n: 3 }],
        ['b', 'forward', { n: 3 }],
        ['b', 'compensate', { n: 3 }],
        ['a', 'compensate', { n: 3, ref: 'ref-a' }],
      ]);
      // A reply to the timed-out forward after all: valid, but the saga has ended.
      expect(await h.reply(saga.id, 'b', 1, ok())).toMatchObject({ applied: 0, ignored: 1 });
      expect((await h.journal(saga.id)).at(-1)).toMatchObject({
        type: 'reply.ignored',
        detail: { reason: 'late' },
      });
    });

    it('onTimeout "park": the saga becomes failed and nothing is compensated', async () => {
      const saga = await h.start('timeout-park');
      await h.reply(saga.id, 'a', 1, ok());
      const failed = await fireUntil(saga.id, 2);

      expect(failed).toMatchObject({
        status: 'failed',
        failedStep: 1,
        cause: { step: 'b', kind: 'forward', type: 'timeout' },
      });
      expect(await h.sent(saga.id)).toEqual(['a forward 1', 'b forward 1']);
      expect(await h.timerKeys(saga.id)).toEqual([]);
      expect((await journalLines(saga.id)).slice(-2)).toEqual([
        'timer step.timedOut b forward 1',
        'timer saga.failed b forward',
      ]);
    });

    it('a pivot given up on after a timeout is neither compensated nor passed: the saga fails for an operator', async () => {
      const saga = await h.start('pivot-gives-up');
      await h.reply(saga.id, 'a', 1, ok());
      const failed = await fireUntil(saga.id, 2);
      expect(failed).toMatchObject({
        status: 'failed',
        failedStep: 1,
        cause: { step: 'b', kind: 'forward', type: 'timeout' },
      });
      expect(await h.sent(saga.id)).toEqual(['a forward 1', 'b forward 1']);
    });

    it('a reply before the timeout deletes the timer row (and arms the next step’s)', async () => {
      const saga = await h.start('timeout-compensate');
      await h.reply(saga.id, 'a', 1, ok());
      expect(await h.timerKeys(saga.id)).toEqual(['b:forward:1:timeout']);

      await h.reply(saga.id, 'b', 1, ok());
      expect(await h.timerKeys(saga.id)).toEqual([]);
      await new Promise((r) => setTimeout(r, 400));
      expect(await h.fire()).toBe(0);
      expect(await h.load(saga.id)).toMatchObject({ status: 'running', stage: 2, version: 3 });
    });

    it('a failure reply before the timeout deletes the timer row too', async () => {
      const saga = await h.start('timeout-retry');
      await h.reply(saga.id, 'a', 1, fail('flaky', true));
      expect(await h.load(saga.id)).toMatchObject({
        pending: [{ step: 0, attempt: 2, waiting: 'reply' }],
      });
      expect(await h.timerKeys(saga.id)).toEqual(['a:forward:2:timeout']);
    });

    it('a compensation that times out is retried after its backoff; when its attempts run out the saga fails', async () => {
      const saga = await h.start('compensation-timeout');
      await h.reply(saga.id, 'a', 1, ok({ ref: 'r' }));
      await h.reply(saga.id, 'b', 1, fail('card-declined', false));
      expect(await h.timerKeys(saga.id)).toEqual(['a:compensate:1:timeout']);

      const waiting = await fireUntil(saga.id, 3);
      expect(waiting).toMatchObject({
        status: 'compensating',
        version: 4,
        attempt: 2,
        waiting: 'retry',
      });
      const [retry] = await h.storedTimers(saga.id);
      expect(retry).toMatchObject({ key: `${saga.id}:a:compensate:2:retry`, delayMs: 300 });

      const resent = await fireUntil(saga.id, 4);
      expect(resent).toMatchObject({
        status: 'compensating',
        version: 5,
        attempt: 2,
        waiting: 'reply',
      });
      expect(await h.timerKeys(saga.id)).toEqual(['a:compensate:2:timeout']);
      expect(await h.sent(saga.id)).toEqual([
        'a forward 1',
        'b forward 1',
        'a compensate 1',
        'a compensate 2',
      ]);
      const failed = await fireUntil(saga.id, 5);
      expect(failed).toMatchObject({
        status: 'failed',
        version: 6,
        failedStep: 0,
        cause: { step: 'a', kind: 'compensate', type: 'timeout' },
      });
    });
  });

  describe('retry backoff', () => {
    it('a retryable failure arms a retry timer; when it fires (retryDue) the attempt is sent', async () => {
      const saga = await h.start('retry-backoff');
      await h.reply(saga.id, 'a', 1, fail('flaky', true));

      const waiting = await h.load(saga.id);
      expect(waiting).toMatchObject({
        version: 2,
        pending: [{ step: 0, attempt: 2, waiting: 'retry' }],
      });
      expect(await h.sent(saga.id)).toEqual(['a forward 1']);
      expect(await h.storedTimers(saga.id)).toEqual([
        expect.objectContaining({
          key: attemptTimerKey(saga.id, 'a', 'forward', 2, 'retry'),
          event: { type: 'retryDue', step: 'a', kind: 'forward', attempt: 2 },
          delayMs: 300,
        }),
      ]);
      // A reply for the attempt that is only waiting for its timer is stale.
      expect(await h.reply(saga.id, 'a', 2, ok())).toMatchObject({ applied: 0, ignored: 1 });

      const sent = await fireUntil(saga.id, 2);
      expect(sent).toMatchObject({
        version: 3,
        pending: [{ step: 0, attempt: 2, waiting: 'reply' }],
      });
      expect(await h.sent(saga.id)).toEqual(['a forward 1', 'a forward 2']);
      expect((await journalLines(saga.id)).slice(2)).toEqual([
        'reply reply.received a forward 1',
        'reply step.failed a forward 1',
        'reply step.retrying a forward 2',
        'reply reply.ignored a forward 2',
        'timer command.sent a forward 2',
      ]);

      // The next delay doubles.
      await h.feed(
        rawReply(saga.id, 'a', 2, fail('flaky', true), { messageId: `second-${saga.id}` }),
      );
      expect(await h.storedTimers(saga.id)).toEqual([
        expect.objectContaining({ key: `${saga.id}:a:forward:3:retry`, delayMs: 600 }),
      ]);
    });

    it('a stale timer is a no-op: nothing changes, the row is removed', async () => {
      const saga = await h.start('retry-backoff');
      await h.reply(saga.id, 'a', 1, ok());
      const before = await h.load(saga.id);
      const journalBefore = await h.journal(saga.id);
      // Timers for an attempt that is over, and for one that never existed.
      const timedOut: TimerEvent = { type: 'timedOut', step: 'a', kind: 'forward', attempt: 1 };
      const retryDue: TimerEvent = { type: 'retryDue', step: 'a', kind: 'forward', attempt: 2 };
      await withTransaction(h.dataSource, (sql) =>
        new TimerRepository().schedule(sql, [
          {
            key: attemptTimerKey(saga.id, 'a', 'forward', 1, 'timeout'),
            sagaId: saga.id,
            delayMs: 0,
            event: timedOut,
          },
          {
            key: attemptTimerKey(saga.id, 'a', 'forward', 2, 'retry'),
            sagaId: saga.id,
            delayMs: 0,
            event: retryDue,
          },
        ]),
      );
      const totals = { ...h.timers.totals };
      expect(await h.fire()).toBe(2);
      expect(h.timers.totals).toEqual({
        fired: totals.fired + 2,
        applied: totals.applied,
        ignored: totals.ignored + 2,
      });
      expect(await h.load(saga.id)).toEqual(before);
      expect(await h.journal(saga.id)).toEqual(journalBefore);
      expect(await h.timerKeys(saga.id)).toEqual([]);
    });
  });

  describe('saga deadline', () => {
    it('while nothing is awaited, compensates at once; the leftover retry timer is then stale', async () => {
      const saga = await h.start('deadline');
      expect(await h.timerKeys(saga.id)).toEqual(['deadline']);
      await h.reply(saga.id, 'a', 1, fail('flaky', true));
      expect(await h.timerKeys(saga.id)).toEqual(['a:forward:2:retry', 'deadline']);

      const done = await fireUntil(saga.id, 2);
      expect(done).toMatchObject({
        status: 'compensated',
        cause: { step: 'a', kind: 'forward', type: 'deadline' },
      });
      expect(await journalLines(saga.id)).toContain('timer saga.deadlineReached');
      expect(await h.sent(saga.id)).toEqual(['a forward 1']);

      await h.makeDue(saga.id, ':retry');
      expect(await h.fire()).toBe(1);
      expect(await h.load(saga.id)).toEqual(done);
      expect(await h.sent(saga.id)).toEqual(['a forward 1']);
    });

    it('while a reply is awaited, starts nothing new, waits for it, then compensates what completed', async () => {
      const saga = await h.start('deadline');
      await h.reply(saga.id, 'a', 1, ok({ ref: 'ref-a' }));
      const stopped = await fireUntil(saga.id, 2);
      expect(stopped).toMatchObject({
        status: 'running',
        stage: 1,
        pending: [{ step: 1, attempt: 1, waiting: 'reply' }],
        stageFailure: { type: 'deadline' },
      });
      expect(await h.timerKeys(saga.id)).toEqual([]);

      await h.reply(saga.id, 'b', 1, ok({ ref: 'ref-b' }));
      expect(await h.load(saga.id)).toMatchObject({ status: 'compensating', currentStep: 1 });
      await h.reply(saga.id, 'b', 1, ok({}), 'compensate');
      await h.reply(saga.id, 'a', 1, ok({}), 'compensate');
      expect(await h.load(saga.id)).toMatchObject({
        status: 'compensated',
        cause: { type: 'deadline' },
      });
      expect(await h.sent(saga.id)).toEqual([
        'a forward 1',
        'b forward 1',
        'b compensate 1',
        'a compensate 1',
      ]);
    });

    it('is cancelled when the saga completes (a notification at the end is sent, not awaited)', async () => {
      const saga = await h.start('deadline');
      await h.reply(saga.id, 'a', 1, ok());
      await h.reply(saga.id, 'b', 1, ok());
      await h.reply(saga.id, 'c', 1, ok());
      await h.reply(saga.id, 'd', 1, ok());
      expect(await h.load(saga.id)).toMatchObject({ status: 'completed', version: 5 });
      expect(await h.timerKeys(saga.id)).toEqual([]);
      const notify = (await h.commands(saga.id)).at(-1);
      expect(notify).toMatchObject({
        step: 'tell',
        expectsReply: false,
        commandType: 'harness.notify',
      });
    });

    it('after the pivot, is only recorded: the saga goes on to complete', async () => {
      const saga = await h.start('deadline');
      await h.reply(saga.id, 'a', 1, ok());
      await h.reply(saga.id, 'b', 1, ok());
      await h.reply(saga.id, 'c', 1, ok());
      expect(await h.timerKeys(saga.id)).toEqual(['deadline']);

      const recorded = await fireUntil(saga.id, 4);
      expect(recorded).toMatchObject({
        status: 'running',
        version: 5,
        stage: 3,
        pending: [{ step: 3, attempt: 1, waiting: 'reply' }],
        stageFailure: null,
      });
      expect((await journalLines(saga.id)).at(-1)).toBe('timer saga.deadlineReached');
      await h.reply(saga.id, 'd', 1, ok());
      expect(await h.load(saga.id)).toMatchObject({ status: 'completed', version: 6 });
      expect(await h.sent(saga.id)).toEqual([
        'a forward 1',
        'b forward 1',
        'c forward 1',
        'd forward 1',
        'tell forward 1',
      ]);
    });
  });

  describe('concurrency and deployment', () => {
    it('two TimerProcessors firing at once never fire a timer twice: one version per transition, each effect once', async () => {
      const sagas = await Promise.all(
        Array.from({ length: 20 }, (_, i) => h.start('timeout-parallel', i)),
      );
      const due = Math.max(
        ...(
          await Promise.all(
            sagas.map(async (s) => (await h.storedTimers(s.id)).map((t) => t.dueAt.getTime())),
          )
        ).flat(),
      );
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now() + 50)));

      const one = h.timerProcessor(h.registry, { batchSize: 3 });
      const two = h.timerProcessor(h.registry, { batchSize: 3 });
      await Promise.all([h.fire(one), h.fire(two)]);

      expect(one.totals.fired + two.totals.fired).toBe(40);
      expect(one.totals.applied + two.totals.applied).toBe(40);
      expect(one.totals.ignored + two.totals.ignored).toBe(0);
      // Both took part (each claims at most 3 timers at a time).
      expect(one.totals.fired).toBeGreaterThan(0);
      expect(two.totals.fired).toBeGreaterThan(0);
      for (const saga of sagas) {
        const now = await h.load(saga.id);
        expect(now).toMatchObject({
          status: 'running',
          version: 3,
          pending: [
            { step: 0, attempt: 2, waiting: 'reply' },
            { step: 1, attempt: 2, waiting: 'reply' },
          ],
        });
        const timeline = await h.journal(saga.id);
        const timedOut = timeline.filter((e) => e.type === 'step.timedOut');
        expect(timedOut.map((e) => e.step).sort()).toEqual(['left', 'right']);
        expect(timedOut.map((e) => e.instanceVersion).sort()).toEqual([2, 3]);
        expect((await h.sent(saga.id)).sort()).toEqual([
          'left forward 1',
          'left forward 2',
          'right forward 1',
          'right forward 2',
        ]);
        expect(await h.timerKeys(saga.id)).toEqual([
          'left:forward:2:timeout',
          'right:forward:2:timeout',
        ]);
      }
    });

    it('a timer whose saga runs a definition version this processor lacks is postponed, not lost', async () => {
      const saga = await h.start('timeout-retry');
      // A process that only runs version 2 of the saga.
      const elsewhere: TimerProcessor = h.timerProcessor(
        new DefinitionRegistry([retryOnTimeout(2)]),
      );
      await eventually(
        'the timer to be due',
        async () =>
          (await h.storedTimers(saga.id))[0]!.dueAt.getTime() <= Date.now() ? true : undefined,
        5_000,
        50,
      );
      expect(await elsewhere.fireDue()).toBe(1);

      expect(await h.load(saga.id)).toEqual(saga);
      const [kept] = await h.storedTimers(saga.id);
      expect(kept).toMatchObject({ key: attemptTimerKey(saga.id, 'a', 'forward', 1, 'timeout') });
      const [{ ms }] = await h.dataSource.query(
        `SELECT extract(epoch FROM due_at - now()) * 1000 AS ms FROM saga_timer WHERE saga_id = $1`,
        [saga.id],
      );
      expect(Number(ms)).toBeGreaterThan(55_000);
      expect(Number(ms)).toBeLessThanOrEqual(60_000);
      expect(await elsewhere.fireDue()).toBe(0);

      // A process that runs version 1 fires it once it is due again.
      await h.makeDue(saga.id);
      expect(await h.fire()).toBe(1);
      expect(await h.load(saga.id)).toMatchObject({ version: 2, pending: [{ attempt: 2 }] });
    });
  });
});
