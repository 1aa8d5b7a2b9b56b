import { defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { z } from 'zod';
import { scenario } from './testing/scenario';

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ what: z.string() }),
  reply: z.object({ id: z.string() }),
});
const Release = defineCommand({
  type: 'test.release',
  topic: 'test.commands',
  payload: z.object({ what: z.string(), id: z.string().optional() }),
  reply: z.object({}),
});
const Notify = defineCommand({
  type: 'test.notify',
  topic: 'test.notifications',
  payload: z.object({ text: z.string().min(1) }),
  reply: z.object({}),
});

const Input = z.object({ vip: z.boolean(), total: z.number() });
type Data = z.infer<typeof Input>;

/** A compensatable step reserving `what`, undone with its log (or without, if unknown). */
const reserving = (what: string, extra: { when?: (d: Data) => boolean; timeout?: '5s' } = {}) => ({
  command: Reserve,
  payload: () => ({ what }),
  compensate: {
    command: Release,
    payload: (_d: Data, log: { id: string } | undefined) => ({ what, id: log?.id }),
  },
  ...extra,
});
const boom = (): never => {
  throw new Error('boom');
};

describe('decide: conditions', () => {
  const saga = (when: (d: Data) => boolean) =>
    defineSaga({ name: 'cond', version: 1, input: Input })
      .step('first', reserving('first'))
      .step('maybe', reserving('maybe', { when }))
      .pivot('charge', { command: Reserve, payload: () => ({ what: 'charge' }) })
      .build();

  it('journals a skipped step and sends the next one in the same decision', () => {
    const s = scenario(saga((d) => d.vip))
      .start({ vip: false, total: 1 })
      .reply('first', { id: 'f-1' });

    s.expectCommand('charge');
    expect(s.journal.slice(-3)).toEqual([
      expect.objectContaining({ type: 'reply.received', step: 'first' }),
      { type: 'step.skipped', step: 'maybe' },
      expect.objectContaining({ type: 'command.sent', step: 'charge' }),
    ]);
    expect(s.instance).toMatchObject({
      stage: 2,
      pending: [{ step: 2, attempt: 1, waiting: 'reply' }],
    });
  });

  it('runs the step when the condition holds', () => {
    scenario(saga((d) => d.vip))
      .start({ vip: true, total: 1 })
      .reply('first', { id: 'f-1' })
      .expectCommand('maybe');
  });

  it('never compensates a skipped step', () => {
    const s = scenario(saga((d) => d.vip))
      .start({ vip: false, total: 1 })
      .reply('first', { id: 'f-1' })
      .fail('charge', { type: 'declined' });

    s.expectCommand('first', 'compensate');
    expect(s.journal.find((j) => j.type === 'saga.compensating')).toMatchObject({
      detail: { plan: ['first'] },
    });
    s.reply('first').expectStatus('compensated');
    expect(s.sent.filter((c) => c.step === 'maybe')).toEqual([]);
  });

  it('evaluates the condition when its stage starts, on the data folded so far', () => {
    const seen: unknown[] = [];
    const folding = defineSaga({ name: 'cond', version: 1, input: Input })
      .step('first', { ...reserving('first'), onReply: (d, r) => ({ ...d, firstId: r.id }) })
      .step('maybe', reserving('maybe', { when: (d) => (seen.push(d), d.total > 10) }))
      .build();
    const s = scenario(folding).start({ vip: false, total: 20 });
    expect(seen).toEqual([]);
    s.reply('first', { id: 'f-1' }).expectCommand('maybe');
    expect(seen).toEqual([{ vip: false, total: 20, firstId: 'f-1' }]);
  });

  it('completes at once when every step is skipped', () => {
    const all = defineSaga({ name: 'cond', version: 1, input: Input })
      .step('only', reserving('only', { when: () => false }))
      .build();
    const s = scenario(all).start({ vip: false, total: 1 });
    s.expectStatus('completed').expectNoCommand();
    expect(s.instance.version).toBe(1);
    expect(s.journalTypes()).toEqual(['saga.started', 'step.skipped', 'saga.completed']);
  });

  it('treats a throwing condition as a step failure (condition-threw) and compensates', () => {
    const s = scenario(saga(boom)).start({ vip: true, total: 1 }).reply('first', { id: 'f-1' });
    s.expectStatus('compensating').expectCommand('first', 'compensate');
    expect(s.instance).toMatchObject({
      cause: {
        step: 'maybe',
        kind: 'forward',
        type: 'condition-threw',
        message: 'condition threw in step "maybe": boom',
      },
    });
  });
});

describe('decide: local steps', () => {
  const saga = (discount: (d: Data) => Data, after: (d: Data) => Data = (d) => d) =>
    defineSaga({ name: 'local', version: 1, input: Input })
      .step('first', reserving('first'))
      .local('applyDiscount', discount)
      .pivot('charge', { command: Reserve, payload: (d) => ({ what: `charge ${d.total}` }) })
      .local('audit', after)
      .retriable('confirm', { command: Reserve, payload: (d) => ({ what: `confirm ${d.total}` }) })
      .build();
  const half = (d: Data) => ({ ...d, total: d.total / 2 });

  it('applies the transform without a message and sends the next step in the same decision', () => {
    const s = scenario(saga(half)).start({ vip: true, total: 100 }).reply('first', { id: 'f-1' });

    s.expectCommand('charge');
    expect(s.command.payload).toEqual({ what: 'charge 50' });
    expect(s.instance.data).toEqual({ vip: true, total: 50 });
    expect(s.journal.slice(-2).map((j) => [j.type, j.step])).toEqual([
      ['step.completed', 'applyDiscount'],
      ['command.sent', 'charge'],
    ]);
  });

  it('never records a local step as completed, so it is never compensated', () => {
    const s = scenario(saga(half))
      .start({ vip: true, total: 100 })
      .reply('first', { id: 'f-1' })
      .fail('charge', { type: 'declined' });
    expect(s.instance.completed.map((c) => c.index)).toEqual([0]);
    s.expectCommand('first', 'compensate');
  });

  it('compensates when a local step throws before the pivot', () => {
    const s = scenario(saga(boom)).start({ vip: true, total: 100 }).reply('first', { id: 'f-1' });

    s.expectStatus('compensating').expectCommand('first', 'compensate');
    expect(s.instance).toMatchObject({
      data: { vip: true, total: 100 },
      cause: {
        step: 'applyDiscount',
        type: 'local-step-threw',
        message: 'local step threw in step "applyDiscount": boom',
      },
    });
    expect(s.journal).toContainEqual(
      expect.objectContaining({
        type: 'step.failed',
        step: 'applyDiscount',
        detail: expect.objectContaining({ retryable: false }),
      }),
    );
  });

  it('fails for an operator when a local step throws after the pivot', () => {
    const s = scenario(saga(half, boom))
      .start({ vip: true, total: 100 })
      .reply('first', { id: 'f-1' })
      .reply('charge', { id: 'c-1' });

    s.expectStatus('failed').expectNoCommand();
    expect(s.instance).toMatchObject({
      failedStep: 3,
      cause: { step: 'audit', type: 'local-step-threw' },
    });
    expect(s.sent.filter((c) => c.kind === 'compensate')).toEqual([]);
  });

  it('compensates nothing when a local first step throws at start', () => {
    const first = defineSaga({ name: 'local', version: 1, input: Input })
      .local('prepare', boom)
      .step('first', reserving('first'))
      .build();
    const s = scenario(first).start({ vip: true, total: 1 });
    s.expectStatus('compensated').expectNoCommand();
    expect(s.instance.version).toBe(1);
  });
});

describe('decide: notifications', () => {
  const saga = (text: (d: Data) => string = () => 'hello') =>
    defineSaga({ name: 'notes', version: 1, input: Input })
      .step('first', { ...reserving('first'), timeout: '5s' })
      .notify('tellCustomer', { command: Notify, payload: (d) => ({ text: text(d) }) })
      .pivot('charge', { command: Reserve, payload: () => ({ what: 'charge' }) })
      .notify('tellVip', { command: Notify, payload: () => ({ text: 'vip' }), when: (d) => d.vip })
      .build();

  it('sends the notification without awaiting a reply or arming a timer, and goes on at once', () => {
    const s = scenario(saga()).start({ vip: false, total: 1 }).reply('first', { id: 'f-1' });

    s.expectCommands('tellCustomer', 'charge');
    expect(s.commands[0]).toMatchObject({
      messageId: 'saga-1:tellCustomer:forward:1',
      commandType: 'test.notify',
      topic: 'test.notifications',
      payload: { text: 'hello' },
      expectsReply: false,
      compensates: null,
    });
    expect(s.scheduled.map((t) => t.key)).toEqual([]);
    expect(s.instance).toMatchObject({ stage: 2, pending: [{ step: 2 }] });
    expect(s.journal.find((j) => j.step === 'tellCustomer')).toMatchObject({
      type: 'command.sent',
      detail: { expectsReply: false },
    });
  });

  it('never compensates a notification', () => {
    const s = scenario(saga())
      .start({ vip: false, total: 1 })
      .reply('first', { id: 'f-1' })
      .fail('charge', { type: 'declined' });
    expect(s.journal.find((j) => j.type === 'saga.compensating')).toMatchObject({
      detail: { plan: ['first'] },
    });
    s.reply('first').expectStatus('compensated');
    expect(s.sent.filter((c) => c.kind === 'compensate').map((c) => c.step)).toEqual(['first']);
  });

  it('completes the saga when the last stage is a notification, and skips it by its condition', () => {
    const vip = scenario(saga())
      .start({ vip: true, total: 1 })
      .reply('first', { id: 'f-1' })
      .reply('charge', { id: 'c' });
    vip.expectStatus('completed').expectCommand('tellVip');
    const plain = scenario(saga())
      .start({ vip: false, total: 1 })
      .reply('first', { id: 'f-1' })
      .reply('charge', { id: 'c' });
    plain.expectStatus('completed').expectNoCommand();
    expect(plain.journal.at(-2)).toEqual({ type: 'step.skipped', step: 'tellVip' });
  });

  it('ignores a reply a participant sent to a notification anyway', () => {
    const s = scenario(saga()).start({ vip: false, total: 1 }).reply('first', { id: 'f-1' });
    s.reply('tellCustomer', {}, { attempt: 1 }).expectIgnored('stale');
  });

  it('treats an invalid notification payload as a step failure and compensates', () => {
    const s = scenario(saga(() => ''))
      .start({ vip: false, total: 1 })
      .reply('first', { id: 'f-1' });
    s.expectStatus('compensating').expectCommand('first', 'compensate');
    expect(s.instance).toMatchObject({ cause: { step: 'tellCustomer', type: 'invalid-command' } });
  });
});

describe('decide: parallel groups', () => {
  const saga = (options: { timeout?: '5s'; maxAttempts?: number } = {}) =>
    defineSaga({ name: 'group', version: 1, input: Input })
      .parallel('reserveAll', (g) =>
        g
          .step('credit', {
            ...reserving('credit', options),
            retry: { maxAttempts: options.maxAttempts },
          })
          .step('stock', {
            ...reserving('stock', options),
            retry: { maxAttempts: options.maxAttempts },
          })
          .step('hotel', {
            ...reserving('hotel', options),
            retry: { maxAttempts: options.maxAttempts },
          }),
      )
      .pivot('charge', { command: Reserve, payload: () => ({ what: 'charge' }) })
      .parallel('fulfil', (g) =>
        g
          .retriable('ship', { command: Reserve, payload: () => ({ what: 'ship' }) })
          .retriable('invoice', { command: Reserve, payload: () => ({ what: 'invoice' }) }),
      )
      .build();
  const start = (options?: Parameters<typeof saga>[0]) =>
    scenario(saga(options)).start({ vip: false, total: 1 });
  const compensations = (s: ReturnType<typeof start>) =>
    s.sent.filter((c) => c.kind === 'compensate').map((c) => c.step);

  it('sends every member at once, each with its own timeout', () => {
    const s = start({ timeout: '5s' });
    s.expectCommands('credit', 'stock', 'hotel');
    expect(s.scheduled.map((t) => t.key)).toEqual([
      'saga-1:credit:forward:1:timeout',
      'saga-1:stock:forward:1:timeout',
      'saga-1:hotel:forward:1:timeout',
    ]);
    expect(s.instance).toMatchObject({
      stage: 0,
      stageFailure: null,
      pending: [
        { step: 0, attempt: 1, waiting: 'reply' },
        { step: 1, attempt: 1, waiting: 'reply' },
        { step: 2, attempt: 1, waiting: 'reply' },
      ],
    });
  });

  it.each([
    ['credit', 'stock', 'hotel'],
    ['hotel', 'credit', 'stock'],
    ['stock', 'hotel', 'credit'],
  ])('joins in any reply order (%s, %s, %s) and only then starts the next stage', (a, b, c) => {
    const s = start();
    s.reply(a!, { id: `${a}-1` })
      .expectNoCommand()
      .expectStatus('running');
    s.reply(b!, { id: `${b}-1` }).expectNoCommand();
    s.reply(c!, { id: `${c}-1` }).expectCommand('charge');
    expect(s.instance.completed.map((x) => x.index)).toEqual(
      [a, b, c].map((n) => ['credit', 'stock', 'hotel'].indexOf(n!)),
    );
  });

  it('awaits the other members when one fails for good, then compensates the completed ones in reverse completion order', () => {
    const s = start().reply('hotel', { id: 'h-1' });
    s.fail('stock', { type: 'out-of-stock' });

    s.expectStatus('running').expectNoCommand();
    expect(s.instance).toMatchObject({
      pending: [{ step: 0, attempt: 1, waiting: 'reply' }],
      stageFailure: { step: 'stock', type: 'out-of-stock' },
    });

    s.reply('credit', { id: 'c-1' });
    s.expectStatus('compensating').expectCommand('credit', 'compensate');
    expect(s.command.payload).toEqual({ what: 'credit', id: 'c-1' });
    expect(s.instance).toMatchObject({ cause: { step: 'stock', type: 'out-of-stock' } });
    expect(s.journal.find((j) => j.type === 'saga.compensating')).toMatchObject({
      detail: { plan: ['credit', 'hotel'] },
    });
    s.reply('credit').expectCommand('hotel', 'compensate');
    s.reply('hotel').expectStatus('compensated');
    expect(compensations(s)).toEqual(['credit', 'hotel']);
  });

  it('keeps the first failure as the cause when a second member fails too', () => {
    const s = start().fail('stock', { type: 'out-of-stock' }).fail('credit', { type: 'no-credit' });
    s.expectStatus('running');
    s.reply('hotel', { id: 'h-1' }).expectCommand('hotel', 'compensate');
    expect(s.instance).toMatchObject({ cause: { step: 'stock', type: 'out-of-stock' } });
  });

  it('retries a retryable member failure while the rest of the group goes on', () => {
    const s = start().fail('credit', { retryable: true, type: 'unavailable' });
    s.expectTimer('saga-1:credit:forward:2:retry');
    s.reply('stock', { id: 's-1' }).reply('hotel', { id: 'h-1' }).expectNoCommand();
    s.fireTimer('saga-1:credit:forward:2:retry').expectCommand('credit', 'forward', 2);
    s.reply('credit', { id: 'c-1' }).expectCommand('charge');
  });

  it('does not retry a retryable failure of a member once the stage has failed', () => {
    const s = start().fail('stock', { type: 'out-of-stock' });
    s.fail('credit', { retryable: true, type: 'unavailable' });

    s.expectNoTimer();
    expect(s.instance).toMatchObject({ pending: [{ step: 2 }], stageFailure: { step: 'stock' } });
    s.reply('hotel', { id: 'h-1' }).expectCommand('hotel', 'compensate');
    s.reply('hotel').expectStatus('compensated');
    expect(s.sent.filter((c) => c.step === 'credit')).toHaveLength(1);
  });

  it('stops awaiting a member that waits for its backoff when another fails for good', () => {
    const s = start().reply('hotel', { id: 'h-1' }).fail('credit', { retryable: true });
    s.fail('stock', { type: 'out-of-stock' });

    s.expectStatus('compensating').expectCommand('hotel', 'compensate');
    s.fireStaleTimer('saga-1:credit:forward:2:retry').expectIgnored('stale');
  });

  it('compensates a member given up on after a timeout as unknown, with the others', () => {
    const s = start({ timeout: '5s', maxAttempts: 1 }).reply('credit', { id: 'c-1' });
    s.fireTimer('saga-1:stock:forward:1:timeout').expectNoCommand();
    s.reply('hotel', { id: 'h-1' });

    expect(compensations(s)).toEqual(['hotel']);
    expect(s.instance.completed).toEqual([
      { index: 0, log: { id: 'c-1' } },
      { index: 1, log: undefined, unknown: true },
      { index: 2, log: { id: 'h-1' } },
    ]);
    s.reply('hotel').expectCommand('stock', 'compensate');
    expect(s.command.payload).toEqual({ what: 'stock' });
    s.reply('stock').expectCommand('credit', 'compensate');
  });

  // A member whose attempt timed out and that waits for its retry timer may have been applied:
  // when another member fails for good it is given up on as unknown, and compensated too.
  it('compensates a member that timed out and was waiting for its retry when the stage fails', () => {
    const s = start({ timeout: '5s' }).fireTimer('saga-1:credit:forward:1:timeout');
    s.fail('stock', { type: 'out-of-stock' });
    s.reply('hotel', { id: 'h-1' });
    expect(compensations(s)).toEqual(['hotel']); // latest completed first, one at a time
    s.reply('hotel').expectCommand('credit', 'compensate');
    expect(s.instance.completed).toContainEqual({ index: 0, log: undefined, unknown: true });
  });

  it('fails at once, without compensating, when a member after the pivot fails for good', () => {
    const s = start()
      .reply('credit', { id: 'c' })
      .reply('stock', { id: 's' })
      .reply('hotel', { id: 'h' });
    s.reply('charge', { id: 'ch' }).expectCommands('ship', 'invoice');
    s.fail('ship', { type: 'address-unknown' });

    s.expectStatus('failed');
    expect(s.instance).toMatchObject({ failedStep: 4, cause: { step: 'ship' } });
    expect(compensations(s)).toEqual([]);
    s.reply('invoice', { id: 'i' }).expectIgnored('late');
  });

  it('completes when every member after the pivot succeeded', () => {
    const s = start()
      .reply('credit', { id: 'c' })
      .reply('stock', { id: 's' })
      .reply('hotel', { id: 'h' });
    s.reply('charge', { id: 'ch' }).reply('invoice', { id: 'i' }).expectStatus('running');
    s.reply('ship', { id: 'sh' }).expectStatus('completed');
  });
});
