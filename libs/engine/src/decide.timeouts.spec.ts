import { backoffDelay } from '@sagaflow/compensation';
import { RetryOptions, TimeoutAction, defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { z } from 'zod';
import { scenario } from './testing/scenario';
import { orderInput as input } from './testing/order-input';

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ n: z.number() }),
  reply: z.object({ id: z.string() }),
});
/** Undoes by id, or — when the forward's reply never arrived — by the saga's business key. */
const Release = defineCommand({
  type: 'test.release',
  topic: 'test.commands',
  payload: z.object({ id: z.string().optional() }),
  reply: z.object({}),
});
const undo = {
  command: Release,
  payload: (_d: unknown, log: { id: string } | undefined) => ({ id: log?.id }),
};

/** first → second (the step under test) → charge (pivot, parks on timeout) → confirm (retriable). */
function saga(second: { onTimeout?: TimeoutAction; retry?: RetryOptions } = {}) {
  return defineSaga({ name: 'timeouts', version: 1, input: z.object({ n: z.number() }) })
    .step('first', { command: Reserve, payload: (d) => d, compensate: undo, timeout: '5s' })
    .step('second', {
      command: Reserve,
      payload: (d) => d,
      compensate: undo,
      timeout: '10s',
      ...second,
    })
    .pivot('charge', { command: Reserve, payload: (d) => d, timeout: '1m', onTimeout: 'park' })
    .retriable('confirm', {
      command: Reserve,
      payload: (d) => d,
      timeout: '30s',
      retry: { maxAttempts: 2 },
    })
    .build();
}
const atSecond = (options?: Parameters<typeof saga>[0]) =>
  scenario(saga(options)).start({ n: 1 }).reply('first', { id: 'f-1' });

describe('decide: timeouts with onTimeout "retry" (the default)', () => {
  it('arms one timeout per attempt, keyed by saga, step, kind and attempt', () => {
    scenario(orderSaga)
      .start(input)
      .expectTimer('saga-1:reserveCredit:forward:1:timeout', 30_000)
      .fireTimer('saga-1:reserveCredit:forward:1:timeout')
      .fireTimer('saga-1:reserveCredit:forward:2:retry')
      .expectTimer('saga-1:reserveCredit:forward:2:timeout', 30_000);
  });

  it('retries with the same idempotency key and a new attempt and message id, after a backoff', () => {
    const s = scenario(orderSaga).start(input).fireTimer('saga-1:reserveCredit:forward:1:timeout');

    s.expectStatus('running').expectNoCommand();
    const delay = backoffDelay(
      orderSaga.steps[0]!.compiled.retry,
      1,
      'saga-1:reserveCredit:forward:1',
    );
    s.expectTimer('saga-1:reserveCredit:forward:2:retry', delay);
    // The timer that fired is gone; there is nothing to cancel.
    expect(s.cancelled).toEqual([]);
    expect(s.journal.slice(-3)).toEqual([
      { type: 'step.timedOut', step: 'reserveCredit', kind: 'forward', attempt: 1 },
      {
        type: 'step.failed',
        step: 'reserveCredit',
        kind: 'forward',
        attempt: 1,
        detail: {
          retryable: true,
          failure: {
            step: 'reserveCredit',
            kind: 'forward',
            type: 'timeout',
            message: 'no reply to forward attempt 1 in time',
          },
        },
      },
      {
        type: 'step.retrying',
        step: 'reserveCredit',
        kind: 'forward',
        attempt: 2,
        detail: { delayMs: delay },
      },
    ]);

    s.fireTimer('saga-1:reserveCredit:forward:2:retry');
    s.expectCommand('reserveCredit', 'forward', 2);
    expect(s.command).toMatchObject({
      messageId: 'saga-1:reserveCredit:forward:2',
      idempotencyKey: 'saga-1:reserveCredit:forward',
      payload: s.sent[0]!.payload,
    });
  });

  it('accepts the reply of the retried attempt and goes on', () => {
    scenario(orderSaga)
      .start(input)
      .fireTimer('saga-1:reserveCredit:forward:1:timeout')
      .fireTimer('saga-1:reserveCredit:forward:2:retry')
      .reply('reserveCredit', { reservationId: 'cr-1' })
      .expectCancelled('saga-1:reserveCredit:forward:2:timeout')
      .expectCommand('reserveInventory');
  });

  it('gives up after the last attempt times out and compensates the step first, as unknown with log undefined', () => {
    const s = scenario(orderSaga).start(input).reply('reserveCredit', { reservationId: 'cr-1' });
    s.fireTimer('saga-1:reserveInventory:forward:1:timeout');
    s.fireTimer('saga-1:reserveInventory:forward:2:retry');
    s.fireTimer('saga-1:reserveInventory:forward:2:timeout');
    s.fireTimer('saga-1:reserveInventory:forward:3:retry');
    s.fireTimer('saga-1:reserveInventory:forward:3:timeout');

    s.expectStatus('compensating').expectCommand('reserveInventory', 'compensate');
    expect(s.instance.completed).toEqual([
      { index: 0, log: { reservationId: 'cr-1' } },
      { index: 1, log: undefined, unknown: true },
    ]);
    expect(s.command.payload).toEqual({ orderId: 'o-1' });
    expect(s.instance).toMatchObject({
      cause: {
        step: 'reserveInventory',
        kind: 'forward',
        type: 'timeout',
        message: 'no reply to forward attempt 3 in time',
      },
    });
    expect(s.journal.find((j) => j.type === 'saga.compensating')).toMatchObject({
      detail: { plan: ['reserveInventory', 'reserveCredit'] },
    });

    s.reply('reserveInventory').expectCommand('reserveCredit', 'compensate');
    expect(s.command.payload).toEqual({ orderId: 'o-1', reservationId: 'cr-1' });
    s.reply('reserveCredit').expectStatus('compensated');
  });

  it('gives up on the first timeout when neverRetryOn lists "timeout"', () => {
    const s = atSecond({ retry: { neverRetryOn: ['timeout'] } }).fireTimer(
      'saga-1:second:forward:1:timeout',
    );
    s.expectStatus('compensating').expectCommand('second', 'compensate');
    expect(s.command.payload).toEqual({});
  });

  it('retries a timed-out retriable step after the pivot, then fails for an operator', () => {
    const s = atSecond().reply('second', { id: 's-1' }).reply('charge', { id: 'c-1' });
    s.fireTimer('saga-1:confirm:forward:1:timeout').fireTimer('saga-1:confirm:forward:2:retry');
    s.expectCommand('confirm', 'forward', 2);
    s.fireTimer('saga-1:confirm:forward:2:timeout');

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({
      failedStep: 3,
      cause: { step: 'confirm', type: 'timeout' },
    });
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });

  it('fails a pivot whose outcome stays unknown after its last attempt, for an operator to decide', () => {
    const pivotRetries = defineSaga({ name: 'p', version: 1, input: z.object({ n: z.number() }) })
      .step('first', { command: Reserve, payload: (d) => d, compensate: undo })
      .pivot('charge', {
        command: Reserve,
        payload: (d) => d,
        timeout: '1m',
        retry: { maxAttempts: 2 },
      })
      .build();
    const s = scenario(pivotRetries).start({ n: 1 }).reply('first', { id: 'f-1' });
    s.fireTimer('saga-1:charge:forward:1:timeout').fireTimer('saga-1:charge:forward:2:retry');
    s.fireTimer('saga-1:charge:forward:2:timeout');

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({ failedStep: 1, cause: { step: 'charge', type: 'timeout' } });
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });
});

describe('decide: timeouts with onTimeout "compensate"', () => {
  it('gives up at once, with attempts left, and compensates the timed-out step first, with log undefined', () => {
    const s = atSecond({ onTimeout: 'compensate' }).fireTimer('saga-1:second:forward:1:timeout');

    s.expectStatus('compensating').expectCommand('second', 'compensate').expectNoTimer();
    expect(s.command.payload).toEqual({});
    expect(s.instance.completed).toEqual([
      { index: 0, log: { id: 'f-1' } },
      { index: 1, log: undefined, unknown: true },
    ]);
    expect(s.journal.slice(-4).map((j) => [j.type, j.step, j.kind])).toEqual([
      ['step.timedOut', 'second', 'forward'],
      ['step.failed', 'second', 'forward'],
      ['saga.compensating', 'second', undefined],
      ['command.sent', 'second', 'compensate'],
    ]);
    expect(s.journal.find((j) => j.type === 'step.failed')).toMatchObject({
      detail: { retryable: false },
    });

    s.reply('second').expectCommand('first', 'compensate');
    expect(s.command.payload).toEqual({ id: 'f-1' });
    s.reply('first').expectStatus('compensated');
    expect(s.instance).toMatchObject({ cause: { step: 'second', type: 'timeout' } });
  });

  // onTimeout 'compensate' is the author's explicit word: retryOn does not override it.
  it('gives up even when retryOn lists "timeout"', () => {
    const s = atSecond({ onTimeout: 'compensate', retry: { retryOn: ['timeout'] } });
    s.fireTimer('saga-1:second:forward:1:timeout');
    s.expectStatus('compensating').expectCommand('second', 'compensate');
  });
});

describe('decide: timeouts with onTimeout "park"', () => {
  it('fails the saga for an operator when the pivot times out: no retry, no compensation', () => {
    const s = scenario(orderSaga)
      .start(input)
      .reply('reserveCredit', { reservationId: 'cr-1' })
      .reply('reserveInventory', { reservationId: 'inv-1' })
      .expectTimer('saga-1:chargePayment:forward:1:timeout', 60_000)
      .fireTimer('saga-1:chargePayment:forward:1:timeout');

    s.expectStatus('failed').expectNoCommand().expectNoTimer();
    expect(s.instance).toMatchObject({
      failedStep: 2,
      cause: { step: 'chargePayment', kind: 'forward', type: 'timeout' },
    });
    expect(s.journal.slice(-2).map((j) => j.type)).toEqual(['step.timedOut', 'saga.failed']);
    expect(s.cancelled).toEqual(['saga-1:deadline']);
    s.expectArmed();
  });

  it('parks a compensatable step too, instead of compensating', () => {
    const s = atSecond({ onTimeout: 'park' }).fireTimer('saga-1:second:forward:1:timeout');
    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({ failedStep: 1, completed: [{ index: 0 }] });
  });
});

describe('decide: stale and late timers', () => {
  it('ignores the timeout of an older attempt', () => {
    const s = atSecond()
      .fireTimer('saga-1:second:forward:1:timeout')
      .fireTimer('saga-1:second:forward:2:retry');
    s.fireStaleTimer('saga-1:second:forward:1:timeout').expectIgnored('stale');
    expect(s.decision).toMatchObject({
      message: 'forward "second" attempt 1 is not what the saga awaits',
    });
  });

  it('ignores a timeout delivered twice while the next attempt waits for its backoff', () => {
    const s = atSecond().fireTimer('saga-1:second:forward:1:timeout');
    const version = s.instance.version;
    s.fireStaleTimer('saga-1:second:forward:1:timeout').expectIgnored('stale');
    s.timeout('second', { attempt: 2 }).expectIgnored('stale');
    expect(s.instance.version).toBe(version);
  });

  it('ignores the timeout of a step that already replied (the cancel lost the race)', () => {
    atSecond()
      .expectCancelled('saga-1:first:forward:1:timeout')
      .fireStaleTimer('saga-1:first:forward:1:timeout')
      .expectIgnored('stale');
  });

  it('ignores a timeout for a step not reached yet, of the wrong kind, or of an unknown step', () => {
    atSecond().timeout('charge', { attempt: 1 }).expectIgnored('stale');
    atSecond().timeout('second', { kind: 'compensate' }).expectIgnored('stale');
    atSecond().timeout('noSuchStep').expectIgnored('stale');
  });

  it('ignores a timeout once the saga completed, compensated or failed, as late', () => {
    const s = atSecond().reply('second', { id: 's-1' }).reply('charge', { id: 'c-1' });
    s.reply('confirm', { id: 'k-1' }).expectStatus('completed');
    s.fireStaleTimer('saga-1:confirm:forward:1:timeout').expectIgnored('late');

    const c = scenario(saga()).start({ n: 1 }).fail('first').expectStatus('compensated');
    c.fireStaleTimer('saga-1:first:forward:1:timeout').expectIgnored('late');

    const p = atSecond({ onTimeout: 'park' }).fireTimer('saga-1:second:forward:1:timeout');
    p.timeout('second', { attempt: 1 }).expectIgnored('late');
  });

  it('ignores a retryDue for the wrong attempt, a duplicate one, or one after the end', () => {
    const s = atSecond().fireTimer('saga-1:second:forward:1:timeout');
    s.retryDue('second', { attempt: 3 }).expectIgnored('stale');
    s.retryDue('second', { attempt: 1 }).expectIgnored('stale');
    s.retryDue('first', { attempt: 2 }).expectIgnored('stale');
    s.fireTimer('saga-1:second:forward:2:retry').expectCommand('second', 'forward', 2);
    s.fireStaleTimer('saga-1:second:forward:2:retry').expectIgnored('stale');
    s.fail('second').expectStatus('compensating');
    s.reply('first').expectStatus('compensated');
    s.fireStaleTimer('saga-1:second:forward:2:retry').expectIgnored('late');
  });
});

describe('decide: the virtual clock', () => {
  it('plays out a saga whose participant never answers: retries, gives up, compensates', () => {
    const s = scenario(orderSaga)
      .start(input)
      .elapse(10 * 60_000);

    // Three 30 s timeouts with ~1 s and ~2 s backoffs in between, then the unknown step is undone.
    s.expectStatus('compensating');
    expect(s.sent.map((c) => `${c.step}:${c.kind}:${c.attempt}`)).toEqual([
      'reserveCredit:forward:1',
      'reserveCredit:forward:2',
      'reserveCredit:forward:3',
      'reserveCredit:compensate:1',
    ]);
    expect(s.instance.completed).toEqual([{ index: 0, log: undefined, unknown: true }]);
    // The deadline fell due while compensating: ignored, and nothing is armed any more.
    expect(s.decision).toMatchObject({ kind: 'ignored', reason: 'late' });
    expect(s.pendingTimers()).toEqual([]);
    s.reply('reserveCredit').expectStatus('compensated');
  });

  it('fires nothing before a timer is due', () => {
    const s = scenario(orderSaga).start(input).elapse(29_999);
    expect(s.sent).toHaveLength(1);
    expect(s.pendingTimers().map((t) => [t.key, t.dueAt])).toEqual([
      ['saga-1:reserveCredit:forward:1:timeout', 30_000],
      ['saga-1:deadline', 300_000],
    ]);
    s.elapse(1);
    expect(s.instance).toMatchObject({ pending: [{ step: 0, attempt: 2, waiting: 'retry' }] });
  });
});
