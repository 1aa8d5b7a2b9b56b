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
  payload: z.object({ id: z.string() }),
  reply: z.object({}),
});
const Charge = defineCommand({
  type: 'test.charge',
  topic: 'test.commands',
  payload: z.object({ n: z.number() }),
  reply: z.object({}),
});

const input = z.object({ n: z.number() });
const forward = { command: Reserve, payload: (d: { n: number }) => ({ n: d.n }) };
const compensatable = {
  ...forward,
  compensate: {
    command: Release,
    payload: (_d: { n: number }, log: { id: string }) => ({ id: log.id }),
  },
};
const base = () => defineSaga({ name: 'test', version: 1, input });

/** The problems `build()` reports, or a failure if it builds. */
function problems(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof SagaDefinitionError) return error.problems;
    throw error;
  }
  throw new Error('expected build() to throw a SagaDefinitionError');
}

describe('defineSaga: compiling', () => {
  const saga = base()
    .step('reserve', {
      ...compensatable,
      compensate: { ...compensatable.compensate, maxAttempts: 5 },
    })
    .step('hold', compensatable)
    .pivot('charge', { command: Charge, payload: (d) => d, maxAttempts: 2 })
    .retriable('confirm', forward)
    .build();

  it('compiles steps with their index, kind, command refs and attempt defaults', () => {
    expect(saga.compiled).toEqual({
      name: 'test',
      version: 1,
      pivotIndex: 2,
      steps: [
        {
          index: 0,
          name: 'reserve',
          kind: 'compensatable',
          command: { type: 'test.reserve', topic: 'test.commands' },
          compensation: { type: 'test.release', topic: 'test.undo' },
          maxAttempts: 1,
          compensationMaxAttempts: 5,
        },
        {
          index: 1,
          name: 'hold',
          kind: 'compensatable',
          command: { type: 'test.reserve', topic: 'test.commands' },
          compensation: { type: 'test.release', topic: 'test.undo' },
          maxAttempts: 1,
          compensationMaxAttempts: 3,
        },
        {
          index: 2,
          name: 'charge',
          kind: 'pivot',
          command: { type: 'test.charge', topic: 'test.commands' },
          compensation: null,
          maxAttempts: 2,
          compensationMaxAttempts: 3,
        },
        {
          index: 3,
          name: 'confirm',
          kind: 'retriable',
          command: { type: 'test.reserve', topic: 'test.commands' },
          compensation: null,
          maxAttempts: 10,
          compensationMaxAttempts: 3,
        },
      ],
    });
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
    expect(saga.steps[2]!.compensation).toBeNull();
  });

  it('keeps the data unchanged when a step has no onReply', () => {
    const data = { n: 1 };
    expect(saga.steps[2]!.onReply(data, {})).toBe(data);
  });

  it('has no pivot index when the saga has no pivot', () => {
    expect(base().step('reserve', compensatable).build().compiled.pivotIndex).toBeNull();
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

  it('rejects a saga with no steps', () => {
    expect(problems(() => base().build())).toEqual([
      'it has no steps: add at least one with .step(), .pivot() or .retriable().',
    ]);
  });

  it.each(['', 'Order', 'order saga', 'order_saga', '1order', 'order.', '-order'])(
    'rejects the saga name %p',
    (name) => {
      const found = problems(() =>
        defineSaga({ name, version: 1, input }).step('a', compensatable).build(),
      );
      expect(found).toEqual([
        expect.stringContaining(`name "${name}" is invalid: use lower-case words`),
      ]);
    },
  );

  it.each([0, -1, 1.5, Number.NaN])('rejects the version %p', (version) => {
    const found = problems(() =>
      defineSaga({ name: 'test', version, input }).step('a', compensatable).build(),
    );
    expect(found).toEqual([`version ${String(version)} is invalid: use a positive integer.`]);
  });

  it('rejects duplicate step names', () => {
    const found = problems(() =>
      base().step('reserve', compensatable).step('reserve', compensatable).build(),
    );
    expect(found).toEqual([
      'step "reserve": the name is used twice; give every step its own name.',
    ]);
  });

  it.each(['Reserve', 'reserve credit', 'reserve:credit', ''])(
    'rejects the step name %p',
    (name) => {
      expect(problems(() => base().step(name, compensatable).build())).toEqual([
        expect.stringContaining('must be a camelCase identifier'),
      ]);
    },
  );

  it.each([0, -1, 1.5])('rejects maxAttempts %p', (maxAttempts) => {
    const found = problems(() =>
      base()
        .pivot('charge', { ...forward, maxAttempts })
        .build(),
    );
    expect(found).toEqual([
      `step "charge": maxAttempts must be a positive integer, got ${maxAttempts}.`,
    ]);
  });

  it('rejects a compensation maxAttempts of 0', () => {
    const found = problems(() =>
      base()
        .step('reserve', {
          ...compensatable,
          compensate: { ...compensatable.compensate, maxAttempts: 0 },
        })
        .build(),
    );
    expect(found).toEqual([
      'step "reserve": compensate.maxAttempts must be a positive integer, got 0.',
    ]);
  });
});

describe('defineSaga: misuse from plain JavaScript (the types forbid it)', () => {
  // Each case goes through `any`, as an untyped caller would.
  const loose = () => base() as any; // eslint-disable-line @typescript-eslint/no-explicit-any

  it('rejects a compensatable step without compensate', () => {
    expect(problems(() => loose().step('reserve', forward).build())).toEqual([
      expect.stringContaining('step "reserve": a compensatable step needs "compensate"'),
    ]);
  });

  it('rejects a retriable step before the pivot', () => {
    expect(
      problems(() => loose().retriable('confirm', forward).pivot('charge', forward).build()),
    ).toEqual([expect.stringContaining('step "confirm": retriable steps come after the pivot')]);
  });

  it('rejects two pivots', () => {
    expect(
      problems(() => loose().pivot('charge', forward).pivot('charge2', forward).build()),
    ).toEqual(['step "charge2": a saga has at most one pivot.']);
  });

  it('rejects a compensatable step after the pivot', () => {
    expect(
      problems(() => loose().pivot('charge', forward).step('reserve', compensatable).build()),
    ).toEqual([
      expect.stringContaining('step "reserve": compensatable steps must come before the pivot'),
    ]);
  });

  it('rejects a command not made with defineCommand and a payload that is not a function', () => {
    const found = problems(() =>
      loose()
        .pivot('charge', { command: {}, payload: { n: 1 } })
        .build(),
    );
    expect(found).toEqual([
      'step "charge": "command" must be made with defineCommand().',
      'step "charge": "payload" must be a function of the saga data.',
    ]);
  });
});
