import { z } from 'zod';
import { SagaDefinitionError, defineCommand, defineSaga } from './index';

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ n: z.number() }),
  reply: z.object({ id: z.string() }),
});
const Release = defineCommand({
  type: 'test.release',
  topic: 'test.undo',
  payload: z.object({ id: z.string().optional() }),
  reply: z.object({}),
});
const Charge = defineCommand({
  type: 'test.charge',
  topic: 'test.commands',
  payload: z.object({ n: z.number() }),
  reply: z.object({}),
});
const Notify = defineCommand({
  type: 'test.notify',
  topic: 'test.notifications',
  payload: z.object({ text: z.string() }),
  reply: z.object({}),
});

const input = z.object({ n: z.number() });
const forward = { command: Reserve, payload: (d: { n: number }) => ({ n: d.n }) };
const compensatable = {
  ...forward,
  compensate: {
    command: Release,
    payload: (_d: { n: number }, log: { id: string } | undefined) => ({ id: log?.id }),
  },
};
const base = () => defineSaga({ name: 'test', version: 1, input });

const defaults = {
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
  retryOn: [],
  neverRetryOn: [],
};

describe('defineSaga: compiling', () => {
  const saga = base()
    .step('reserve', {
      ...compensatable,
      timeout: '30s',
      onTimeout: 'compensate',
      retry: {
        maxAttempts: 4,
        initialDelay: '250ms',
        multiplier: 3,
        maxDelay: '10s',
        jitter: 0,
        retryOn: ['locked'],
        neverRetryOn: ['fraud'],
      },
      compensate: { ...compensatable.compensate, retry: { maxAttempts: 7 }, timeout: 5000 },
    })
    .step('hold', compensatable)
    .pivot('charge', { command: Charge, payload: (d) => d, timeout: '1m', onTimeout: 'park' })
    .retriable('confirm', { ...forward, when: (d) => d.n > 0 })
    .build();

  it('compiles steps with their index, stage, kind, command refs, durations in ms and policies', () => {
    expect(saga.compiled).toEqual({
      name: 'test',
      version: 1,
      pivotIndex: 2,
      deadlineMs: null,
      stages: [
        { index: 0, name: 'reserve', parallel: false, steps: [0] },
        { index: 1, name: 'hold', parallel: false, steps: [1] },
        { index: 2, name: 'charge', parallel: false, steps: [2] },
        { index: 3, name: 'confirm', parallel: false, steps: [3] },
      ],
      steps: [
        {
          index: 0,
          name: 'reserve',
          kind: 'compensatable',
          stage: 0,
          command: { type: 'test.reserve', topic: 'test.commands' },
          compensation: { type: 'test.release', topic: 'test.undo' },
          timeoutMs: 30_000,
          onTimeout: 'compensate',
          retry: {
            maxAttempts: 4,
            initialDelayMs: 250,
            multiplier: 3,
            maxDelayMs: 10_000,
            jitter: 0,
            retryOn: ['locked'],
            neverRetryOn: ['fraud'],
          },
          compensationTimeoutMs: 5000,
          compensationRetry: { maxAttempts: 7, ...defaults },
          conditional: false,
        },
        {
          index: 1,
          name: 'hold',
          kind: 'compensatable',
          stage: 1,
          command: { type: 'test.reserve', topic: 'test.commands' },
          compensation: { type: 'test.release', topic: 'test.undo' },
          timeoutMs: null,
          onTimeout: 'retry',
          retry: { maxAttempts: 3, ...defaults },
          compensationTimeoutMs: null,
          compensationRetry: { maxAttempts: 5, ...defaults },
          conditional: false,
        },
        {
          index: 2,
          name: 'charge',
          kind: 'pivot',
          stage: 2,
          command: { type: 'test.charge', topic: 'test.commands' },
          compensation: null,
          timeoutMs: 60_000,
          onTimeout: 'park',
          retry: { maxAttempts: 3, ...defaults },
          compensationTimeoutMs: null,
          compensationRetry: { maxAttempts: 5, ...defaults },
          conditional: false,
        },
        {
          index: 3,
          name: 'confirm',
          kind: 'retriable',
          stage: 3,
          command: { type: 'test.reserve', topic: 'test.commands' },
          compensation: null,
          timeoutMs: null,
          onTimeout: 'retry',
          retry: { maxAttempts: 10, ...defaults },
          compensationTimeoutMs: null,
          compensationRetry: { maxAttempts: 5, ...defaults },
          conditional: true,
        },
      ],
    });
  });

  it('compiles parallel groups as one stage, local steps and notifications', () => {
    const grouped = defineSaga({ name: 'test', version: 1, input, deadline: '2h' })
      .parallel('reserveAll', (g) => g.step('a', compensatable).step('b', compensatable))
      .local('double', (d) => ({ n: d.n * 2 }))
      .notify('tell', { command: Notify, payload: (d) => ({ text: String(d.n) }) })
      .pivot('charge', { command: Charge, payload: (d) => d })
      .parallel('fulfil', (g) => g.retriable('c', forward).retriable('d', forward))
      .build();

    expect(grouped.compiled.deadlineMs).toBe(7_200_000);
    expect(grouped.compiled.pivotIndex).toBe(4);
    expect(grouped.compiled.stages).toEqual([
      { index: 0, name: 'reserveAll', parallel: true, steps: [0, 1] },
      { index: 1, name: 'double', parallel: false, steps: [2] },
      { index: 2, name: 'tell', parallel: false, steps: [3] },
      { index: 3, name: 'charge', parallel: false, steps: [4] },
      { index: 4, name: 'fulfil', parallel: true, steps: [5, 6] },
    ]);
    expect(
      grouped.compiled.steps.map((s) => [s.name, s.kind, s.stage, s.retry.maxAttempts]),
    ).toEqual([
      ['a', 'compensatable', 0, 3],
      ['b', 'compensatable', 0, 3],
      ['double', 'local', 1, 1],
      ['tell', 'notification', 2, 1],
      ['charge', 'pivot', 3, 3],
      ['c', 'retriable', 4, 10],
      ['d', 'retriable', 4, 10],
    ]);
    expect(grouped.compiled.steps[2]).toMatchObject({ command: null, compensation: null });
    expect(grouped.compiled.steps[3]).toMatchObject({
      command: { type: 'test.notify', topic: 'test.notifications' },
      compensation: null,
    });
    expect(grouped.steps[2]!.onReply({ n: 2 }, undefined)).toEqual({ n: 4 });
    expect(grouped.steps[2]!.command).toBeNull();
  });

  it('produces a JSON-serialisable compiled form', () => {
    expect(JSON.parse(JSON.stringify(saga.compiled))).toEqual(saga.compiled);
  });

  it('keeps the runtime functions next to the compiled steps', () => {
    expect(saga.input).toBe(input);
    expect(saga.steps.map((s) => s.compiled)).toEqual(saga.compiled.steps);
    expect(saga.steps[0]!.command).toBe(Reserve);
    expect(saga.steps[0]!.payload({ n: 3 })).toEqual({ n: 3 });
    expect(saga.steps[0]!.compensation!.payload({}, { id: 'r-1' })).toEqual({ id: 'r-1' });
    expect(saga.steps[0]!.compensation!.payload({}, undefined)).toEqual({ id: undefined });
    expect(saga.steps[2]!.compensation).toBeNull();
    expect(saga.steps[0]!.when).toBeNull();
    expect(saga.steps[3]!.when!({ n: 1 })).toBe(true);
    expect(saga.steps[3]!.when!({ n: 0 })).toBe(false);
  });

  it('keeps the data unchanged when a step has no onReply', () => {
    const data = { n: 1 };
    expect(saga.steps[2]!.onReply(data, {})).toBe(data);
  });

  it('has no pivot index when the saga has no pivot', () => {
    expect(base().step('reserve', compensatable).build().compiled.pivotIndex).toBeNull();
  });

  it('accepts durations as milliseconds or strings with a unit', () => {
    const timeouts = (['250ms', '30s', '5m', '2h', '1d', 1500] as const).map(
      (timeout) =>
        base()
          .pivot('charge', { ...forward, timeout })
          .build().compiled.steps[0]!.timeoutMs,
    );
    expect(timeouts).toEqual([250, 30_000, 300_000, 7_200_000, 86_400_000, 1500]);
  });

  it('freezes the definition', () => {
    expect(Object.isFrozen(saga)).toBe(true);
  });

  it('returns a new builder from every call, so a shared prefix is never changed', () => {
    const prefix = base().step('reserve', compensatable);
    const longer = prefix.step('hold', compensatable).build();
    expect(prefix.build().compiled.steps.map((s) => s.name)).toEqual(['reserve']);
    expect(longer.compiled.steps.map((s) => s.name)).toEqual(['reserve', 'hold']);
  });

  it('never mutates the options it is given', () => {
    const retry = Object.freeze({ maxAttempts: 2, retryOn: Object.freeze(['x']) });
    const options = Object.freeze({ ...forward, retry, timeout: '1s' as const });
    const built = base().pivot('charge', options).build();
    expect(built.compiled.steps[0]!.retry.retryOn).toEqual(['x']);
    expect(built.compiled.steps[0]!.retry.retryOn).not.toBe(retry.retryOn);
  });

  it.each(['order', 'order-fulfilment', 'order.fulfilment', 'order2'])(
    'accepts the saga name %p',
    (name) => {
      expect(() =>
        defineSaga({ name, version: 1, input }).step('a', compensatable).build(),
      ).not.toThrow();
    },
  );
});

describe('defineSaga: build() errors', () => {
  it('reports every problem at once in a SagaDefinitionError', () => {
    let thrown: unknown;
    try {
      defineSaga({ name: 'Bad Name', version: 0, input }).build();
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(SagaDefinitionError);
    const error = thrown as SagaDefinitionError;
    expect([error.code, error.name, error.sagaName]).toEqual([
      'INVALID_SAGA_DEFINITION',
      'SagaDefinitionError',
      'Bad Name',
    ]);
    expect(error.problems).toHaveLength(3);
    expect(error.message).toBe(`Saga "Bad Name" is invalid:\n- ${error.problems.join('\n- ')}`);
  });
});
