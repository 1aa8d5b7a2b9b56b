/*
 * Build-time validation: one test (at least) per rule in definition-checks.ts, each pinning the
 * exact message, because the messages are the documentation an author sees when build() fails.
 * Misuse the types already forbid goes through `loose()`, as an untyped (JavaScript) caller would.
 */
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
/** A compensation whose reply schema refuses `{}`. */
const StrictRelease = defineCommand({
  type: 'test.strict-release',
  topic: 'test.undo',
  payload: z.object({ id: z.string().optional() }),
  reply: z.object({ releasedAt: z.string() }),
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
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loose = (options: object = {}): any =>
  defineSaga({ name: 'test', version: 1, input, ...options });

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

const DURATION_HINT = 'is not a duration: use milliseconds or a string such as "30s" or "5m".';

describe('build(): the saga itself', () => {
  it('rejects a saga with no steps', () => {
    expect(problems(() => base().build())).toEqual([
      'it has no steps: add at least one with .step(), .pivot() or .retriable().',
    ]);
  });

  it.each(['', 'Order', 'order saga', 'order_saga', '1order', 'order.', '-order'])(
    'rejects the saga name %p',
    (name) => {
      expect(problems(() => loose({ name }).step('a', compensatable).build())).toEqual([
        `name "${name}" is invalid: use lower-case words joined by "-" or ".", e.g. "order" or "order.fulfilment".`,
      ]);
    },
  );

  it.each([0, -1, 1.5, Number.NaN])('rejects the version %p', (version) => {
    expect(problems(() => loose({ version }).step('a', compensatable).build())).toEqual([
      `version ${String(version)} is invalid: use a positive integer.`,
    ]);
  });

  it('rejects an input that is not a Standard Schema', () => {
    expect(
      problems(() =>
        loose({ input: { parse: () => 1 } })
          .step('a', compensatable)
          .build(),
      ),
    ).toEqual([
      '"input" must be a Standard Schema (for example a zod, valibot or arktype schema).',
    ]);
  });

  it.each(['soon', '5x', '-1s', -5])('rejects the deadline %p', (deadline) => {
    expect(problems(() => loose({ deadline }).step('a', compensatable).build())).toEqual([
      `the saga deadline "${deadline}" ${DURATION_HINT}`,
    ]);
  });
});

describe('build(): step names and placement', () => {
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
        `step "${name}": the name must be a camelCase identifier such as "reserveCredit".`,
      ]);
    },
  );

  it('rejects a compensatable step without compensate', () => {
    expect(problems(() => loose().step('reserve', forward).build())).toEqual([
      'step "reserve": a compensatable step needs "compensate"; if it cannot be undone, make it the pivot or a retriable step after the pivot.',
    ]);
  });

  it('rejects a compensatable step after the pivot', () => {
    expect(
      problems(() => loose().pivot('charge', forward).step('reserve', compensatable).build()),
    ).toEqual([
      'step "reserve": compensatable steps must come before the pivot; move it up or make it retriable.',
    ]);
  });

  it('rejects two pivots', () => {
    expect(
      problems(() => loose().pivot('charge', forward).pivot('charge2', forward).build()),
    ).toEqual(['step "charge2": a saga has at most one pivot.']);
  });

  it('rejects a retriable step before the pivot', () => {
    expect(
      problems(() => loose().retriable('confirm', forward).pivot('charge', forward).build()),
    ).toEqual([
      'step "confirm": retriable steps come after the pivot; add a pivot before it or make it compensatable.',
    ]);
  });

  it.each([
    ['pivot', (b: ReturnType<typeof loose>) => b.pivot('charge', compensatable), 'charge'],
    [
      'retriable',
      (b: ReturnType<typeof loose>) => b.pivot('p', forward).retriable('charge', compensatable),
      'charge',
    ],
    ['notification', (b: ReturnType<typeof loose>) => b.notify('charge', compensatable), 'charge'],
  ])('rejects "compensate" on a %s step', (kind, add, name) => {
    expect(problems(() => add(loose()).build())).toEqual([
      `step "${name}": a ${kind} step cannot be compensated; remove "compensate", or make it a compensatable step before the pivot.`,
    ]);
  });
});

describe('build(): step shape', () => {
  it('rejects a command not made with defineCommand and a payload that is not a function', () => {
    expect(
      problems(() =>
        loose()
          .pivot('charge', { command: {}, payload: { n: 1 } })
          .build(),
      ),
    ).toEqual([
      'step "charge": "command" must be made with defineCommand().',
      'step "charge": "payload" must be a function of the saga data.',
    ]);
  });

  it('rejects an onReply that is not a function', () => {
    expect(
      problems(() =>
        loose()
          .pivot('charge', { ...forward, onReply: {} })
          .build(),
      ),
    ).toEqual(['step "charge": "onReply" must be a function (data, reply) => data.']);
  });

  it('rejects a "when" that is not a function', () => {
    expect(
      problems(() =>
        loose()
          .pivot('charge', { ...forward, when: true })
          .build(),
      ),
    ).toContain('step "charge": "when" must be a function of the saga data returning a boolean.');
  });

  it('rejects a conditional pivot: the point of no return is always taken', () => {
    expect(
      problems(() =>
        loose()
          .pivot('charge', { ...forward, when: () => true })
          .build(),
      ),
    ).toEqual([
      'step "charge": a pivot cannot have "when": the point of no return is always taken; make the condition part of an earlier step or split the saga.',
    ]);
  });

  it('rejects a compensation command not made with defineCommand and a compensation payload that is not a function', () => {
    const found = problems(() =>
      loose()
        .step('reserve', { ...forward, compensate: { command: { topic: 'x' }, payload: 'id' } })
        .build(),
    );
    expect(found).toEqual([
      'step "reserve": "compensate.command" must be made with defineCommand().',
      'step "reserve": "compensate.payload" must be a function (data, log) => payload.',
    ]);
  });

  it('rejects a compensation whose reply schema does not accept {}', () => {
    const found = problems(() =>
      base()
        .step('reserve', {
          ...compensatable,
          compensate: { ...compensatable.compensate, command: StrictRelease },
        })
        .build(),
    );
    expect(found).toEqual([
      'step "reserve": the reply schema of test.strict-release must accept {}: participants answer {} when there was nothing to undo.',
    ]);
  });

  it('rejects a local step without a function', () => {
    expect(problems(() => loose().local('prepare', { n: 1 }).build())).toEqual([
      'step "prepare": a local step needs a function of the saga data.',
    ]);
  });
});

describe('build(): timeouts and retries', () => {
  it.each(['30 minutes!', '5x', '-1s', -1, Number.NaN])('rejects the timeout %p', (timeout) => {
    expect(
      problems(() =>
        loose()
          .pivot('charge', { ...forward, timeout })
          .build(),
      ),
    ).toEqual([`step "charge": timeout "${String(timeout)}" ${DURATION_HINT}`]);
  });

  it('rejects a timeout of 0', () => {
    expect(
      problems(() =>
        base()
          .pivot('charge', { ...forward, timeout: 0 })
          .build(),
      ),
    ).toEqual(['step "charge": timeout must be longer than 0.']);
  });

  it('rejects an invalid or zero compensation timeout', () => {
    const undo = (timeout: unknown) => ({
      ...compensatable,
      compensate: { ...compensatable.compensate, timeout },
    });
    expect(problems(() => loose().step('reserve', undo('later')).build())).toEqual([
      `step "reserve": compensate.timeout "later" ${DURATION_HINT}`,
    ]);
    expect(problems(() => loose().step('reserve', undo('0s')).build())).toEqual([
      'step "reserve": compensate.timeout must be longer than 0.',
    ]);
  });

  it('rejects an unknown onTimeout', () => {
    expect(
      problems(() =>
        loose()
          .pivot('charge', { ...forward, timeout: '1s', onTimeout: 'later' })
          .build(),
      ),
    ).toEqual(['step "charge": onTimeout must be one of retry, compensate, park, got "later".']);
  });

  it('rejects onTimeout without a timeout', () => {
    expect(
      problems(() =>
        base()
          .pivot('charge', { ...forward, onTimeout: 'park' })
          .build(),
      ),
    ).toEqual([
      'step "charge": "onTimeout" has no effect without "timeout"; add a timeout such as "30s".',
    ]);
  });

  it('rejects onTimeout "compensate" on a retriable step', () => {
    const found = problems(() =>
      loose()
        .pivot('charge', forward)
        .retriable('confirm', { ...forward, timeout: '1s', onTimeout: 'compensate' })
        .build(),
    );
    expect(found).toEqual([
      'step "confirm": onTimeout "compensate" is impossible after the pivot; use "retry" or "park".',
    ]);
  });

  it('accepts onTimeout "compensate" before the pivot and "park" anywhere', () => {
    expect(() =>
      base()
        .step('reserve', { ...compensatable, timeout: '1s', onTimeout: 'compensate' })
        .pivot('charge', { ...forward, timeout: '1s', onTimeout: 'park' })
        .retriable('confirm', { ...forward, timeout: '1s', onTimeout: 'park' })
        .build(),
    ).not.toThrow();
  });

  it.each([0, -1, 1.5, '3'])('rejects retry.maxAttempts %p', (maxAttempts) => {
    expect(
      problems(() =>
        loose()
          .pivot('charge', { ...forward, retry: { maxAttempts } })
          .build(),
      ),
    ).toEqual([
      `step "charge": retry.maxAttempts must be a positive integer, got ${String(maxAttempts)}.`,
    ]);
  });

  it.each([0.5, 0, -2, Number.NaN])('rejects retry.multiplier %p', (multiplier) => {
    expect(
      problems(() =>
        base()
          .pivot('charge', { ...forward, retry: { multiplier } })
          .build(),
      ),
    ).toEqual([`step "charge": retry.multiplier must be at least 1, got ${String(multiplier)}.`]);
  });

  it.each([-0.1, 1.5, Number.NaN])('rejects retry.jitter %p', (jitter) => {
    expect(
      problems(() =>
        base()
          .pivot('charge', { ...forward, retry: { jitter } })
          .build(),
      ),
    ).toEqual([`step "charge": retry.jitter must be between 0 and 1, got ${String(jitter)}.`]);
  });

  it('rejects retry delays that are not durations', () => {
    const found = problems(() =>
      loose()
        .pivot('charge', { ...forward, retry: { initialDelay: 'soon', maxDelay: '1 eon' } })
        .build(),
    );
    expect(found).toEqual([
      `step "charge": retry.initialDelay "soon" ${DURATION_HINT}`,
      `step "charge": retry.maxDelay "1 eon" ${DURATION_HINT}`,
    ]);
  });

  it('rejects a failure type in both retryOn and neverRetryOn', () => {
    const retry = { retryOn: ['locked', 'busy'], neverRetryOn: ['busy', 'locked', 'fraud'] };
    expect(
      problems(() =>
        base()
          .pivot('charge', { ...forward, retry })
          .build(),
      ),
    ).toEqual([
      'step "charge": retry: locked, busy in both retryOn and neverRetryOn; keep each type in one list.',
    ]);
  });

  it('checks the compensation retry options with their own label', () => {
    const undo = { ...compensatable.compensate, retry: { maxAttempts: 0, jitter: 2 } };
    expect(
      problems(() =>
        base()
          .step('reserve', { ...compensatable, compensate: undo })
          .build(),
      ),
    ).toEqual([
      'step "reserve": compensate.retry.maxAttempts must be a positive integer, got 0.',
      'step "reserve": compensate.retry.jitter must be between 0 and 1, got 2.',
    ]);
  });
});

describe('build(): parallel groups', () => {
  it('rejects a group with fewer than two steps', () => {
    expect(
      problems(() =>
        base()
          .parallel('reserveAll', (g) => g.step('a', compensatable))
          .build(),
      ),
    ).toEqual([
      'parallel group "reserveAll": a parallel group needs at least two steps; use a plain step for one.',
    ]);
    expect(
      problems(() =>
        base()
          .parallel('reserveAll', (g) => g)
          .build(),
      ),
    ).toEqual([
      'parallel group "reserveAll": a parallel group needs at least two steps; use a plain step for one.',
    ]);
  });

  it('rejects a group name that is not a camelCase identifier', () => {
    const found = problems(() =>
      base()
        .parallel('Reserve All', (g) => g.step('a', compensatable).step('b', compensatable))
        .build(),
    );
    expect(found).toEqual([
      'parallel group "Reserve All": the name must be a camelCase identifier such as "reserveAll".',
    ]);
  });

  it('rejects a group named like an earlier step', () => {
    const found = problems(() =>
      base()
        .step('a', compensatable)
        .parallel('a', (g) => g.step('b', compensatable).step('c', compensatable))
        .build(),
    );
    expect(found).toEqual([
      'parallel group "a": the name is used more than once; give every step and group its own name.',
    ]);
  });

  // Stage names appear in the compiled stages and as `cause.step` of a deadline, so they must be
  // unique among all step and group names, wherever the other one stands.
  it.each([
    [
      'a later step',
      () =>
        base()
          .parallel('g', (g) => g.step('a', compensatable).step('b', compensatable))
          .step('g', compensatable),
    ],
    [
      'one of its members',
      () => base().parallel('g', (g) => g.step('a', compensatable).step('g', compensatable)),
    ],
    [
      'a second group',
      () =>
        base()
          .parallel('g', (g) => g.step('a', compensatable).step('b', compensatable))
          .parallel('g', (g) => g.step('c', compensatable).step('d', compensatable)),
    ],
  ])('rejects a group name reused by %s', (_label, builder) => {
    expect(problems(() => builder().build())).toHaveLength(1);
  });

  it('rejects a duplicate step name inside a group', () => {
    const found = problems(() =>
      base()
        .parallel('both', (g) => g.step('a', compensatable).step('a', compensatable))
        .build(),
    );
    expect(found).toEqual(['step "a": the name is used twice; give every step its own name.']);
  });

  it('rejects a member without compensate before the pivot', () => {
    const found = problems(() =>
      loose()
        .parallel('both', (g: ReturnType<typeof loose>) =>
          g.step('a', forward).step('b', compensatable),
        )
        .build(),
    );
    expect(found).toEqual([
      'step "a": a compensatable step needs "compensate"; if it cannot be undone, make it the pivot or a retriable step after the pivot.',
    ]);
  });

  it('rejects compensatable members after the pivot', () => {
    const found = problems(() =>
      loose()
        .pivot('charge', forward)
        .parallel('fulfil', (g: ReturnType<typeof loose>) =>
          g.step('a', compensatable).retriable('b', forward),
        )
        .build(),
    );
    expect(found).toEqual([
      'parallel group "fulfil": step "a" must be retriable after the pivot.',
      'step "a": compensatable steps must come before the pivot; move it up or make it retriable.',
    ]);
  });

  it('rejects retriable members before the pivot', () => {
    const found = problems(() =>
      loose()
        .parallel('reserveAll', (g: ReturnType<typeof loose>) =>
          g.retriable('a', forward).step('b', compensatable),
        )
        .build(),
    );
    expect(found).toEqual([
      'parallel group "reserveAll": step "a" must be compensatable before the pivot.',
      'step "a": retriable steps come after the pivot; add a pivot before it or make it compensatable.',
    ]);
  });

  it('checks the members of a group like any other step', () => {
    const found = problems(() =>
      loose()
        .parallel('both', (g: ReturnType<typeof loose>) =>
          g
            .step('a', { ...compensatable, timeout: 0 })
            .step('b', { ...compensatable, onTimeout: 'park' }),
        )
        .build(),
    );
    expect(found).toEqual([
      'step "a": timeout must be longer than 0.',
      'step "b": "onTimeout" has no effect without "timeout"; add a timeout such as "30s".',
    ]);
  });
});
