import { SagaDefinition, defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { z } from 'zod';
import { assertFailureMatrix, failureMatrix } from './failure-matrix';
import { SagaSimulation } from './saga-simulation';

const Do = (type: string) =>
  defineCommand({
    type,
    topic: 'test.commands',
    payload: z.object({ id: z.string() }),
    reply: z.object({ ref: z.string() }),
  });
const Undo = (type: string) =>
  defineCommand({
    type,
    topic: 'test.commands',
    payload: z.object({ id: z.string() }),
    reply: z.object({}),
  });

const step = (name: string, extra: object = {}) => ({
  command: Do(`test.${name}`),
  payload: (d: { id: string }) => ({ id: d.id }),
  compensate: {
    command: Undo(`test.undo-${name}`),
    payload: (d: { id: string }) => ({ id: d.id }),
  },
  timeout: '5s' as const,
  ...extra,
});

/** Two parallel reservations (one compensates on timeout), a pivot with retries, a retriable tail. */
const travel = defineSaga({ name: 'travel', version: 1, input: z.object({ id: z.string() }) })
  .step('quote', step('quote', { onTimeout: 'compensate' }))
  .parallel('book', (g) =>
    g.step('flight', step('flight')).step('hotel', step('hotel', { onTimeout: 'compensate' })),
  )
  .pivot('pay', {
    command: Do('test.pay'),
    payload: (d) => ({ id: d.id }),
    timeout: '5s',
    retry: { maxAttempts: 2 },
  })
  .retriable('ticket', {
    command: Do('test.ticket'),
    payload: (d) => ({ id: d.id }),
    timeout: '5s',
    retry: { maxAttempts: 3 },
  })
  .build();

const replies = Object.fromEntries(
  ['quote', 'flight', 'hotel', 'pay', 'ticket'].map((n) => [n, () => ({ ref: `${n}-1` })]),
);

describe('failureMatrix', () => {
  it('models parallel groups: the other member completes, then both are undone latest first', () => {
    const cases = failureMatrix(travel, { input: { id: 'x' }, replies });
    const expected = (name: string) => cases.find((c) => c.name === name)!.expected;
    expect(expected('flight: fail')).toEqual({
      status: 'compensated',
      compensated: ['hotel', 'quote'],
    });
    expect(expected('hotel: timeout')).toEqual({
      status: 'compensated',
      compensated: ['hotel', 'flight', 'quote'],
    });
    expect(expected('pay: timeout')).toEqual({ status: 'failed', compensated: [] });
    expect(expected('ticket: timeout')).toEqual({ status: 'failed', compensated: [] });
    expect(expected('pay: late')).toEqual({ status: 'completed', compensated: [] });
  });

  it('passes for a saga with parallel groups and several timeout policies', () => {
    expect(assertFailureMatrix(travel, { input: { id: 'x' }, replies })).toHaveLength(5 * 4);
  });

  it('marks timeout cases not applicable to a step without a timeout', () => {
    const noTimeout = defineSaga({ name: 'plain', version: 1, input: z.object({ id: z.string() }) })
      .step('only', { ...step('only'), timeout: undefined })
      .build();
    const cases = failureMatrix(noTimeout, {
      input: { id: 'x' },
      replies: { only: () => ({ ref: 'r' }) },
    });
    expect(cases.filter((c) => c.notApplicable).map((c) => c.fault)).toEqual(['timeout', 'late']);
  });

  it('reports an outcome that breaks the rules', () => {
    // A definition whose "compensation" can never be sent (its payload throws) ends failed,
    // where the model expects compensated: the matrix must say so, not pass quietly.
    const broken = defineSaga({ name: 'broken', version: 1, input: z.object({ id: z.string() }) })
      .step('a', {
        ...step('a'),
        compensate: {
          command: Undo('test.undo-a'),
          payload: () => {
            throw new Error('no');
          },
        },
      })
      .step('b', step('b'))
      .build() as SagaDefinition;
    expect(() =>
      assertFailureMatrix(broken, {
        input: { id: 'x' },
        replies: { a: () => ({ ref: 'a' }), b: () => ({ ref: 'b' }) },
      }),
    ).toThrow(/b: fail: expected compensated \[a\], got failed/);
  });

  it('refuses a happy path that does not complete', () => {
    expect(() =>
      failureMatrix(travel, {
        input: { id: 'x' },
        replies: { ...replies, ticket: () => ({ wrong: true }) },
      }),
    ).toThrow();
  });
});

describe('SagaSimulation', () => {
  it('fires timers on the virtual clock, in due order', () => {
    const sim = new SagaSimulation(travel).start({ id: 'x' });
    expect(sim.armedTimers().map((t) => t.key)).toEqual([
      expect.stringContaining(':quote:forward:1:timeout'),
    ]);
    sim.advance(4999);
    expect(sim.lastSent('quote')!.attempt).toBe(1);
    sim.advance(1); // the timeout: 'compensate' → the quote is undone (its outcome is unknown)
    expect(sim.status).toBe('compensating');
    expect(sim.lastSent('quote', 'compensate')!.compensates).toBe(`${sim.sagaId}:quote:forward`);
  });
});
