/*
 * `startOn`: what build() compiles (a serialisable topic, the author's functions kept for the
 * start-event consumer) and what it refuses, each message pinned as the author will read it.
 * Misuse the types already forbid goes through `loose()`, as an untyped caller would.
 */
import { z } from 'zod';
import { SagaDefinitionError, defineCommand, defineSaga, validate } from './index';

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ orderId: z.string() }),
  reply: z.object({}),
});
const Input = z.object({ orderId: z.string(), amount: z.number().positive() });
const Placed = z.object({ eventId: z.string(), orderId: z.string(), total: z.number() });
const step = {
  command: Reserve,
  payload: (d: { orderId: string }) => ({ orderId: d.orderId }),
  compensate: { command: Reserve, payload: (d: { orderId: string }) => ({ orderId: d.orderId }) },
};
const startOn = {
  topic: 'orders.order-placed',
  event: Placed,
  eventId: (e: z.infer<typeof Placed>) => e.eventId,
  input: (e: z.infer<typeof Placed>) => ({ orderId: e.orderId, amount: e.total }),
};
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const loose = (start: unknown): any =>
  defineSaga({ name: 'test', version: 1, input: Input, startOn: start as typeof startOn }).step(
    'reserve',
    step,
  );

function problems(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof SagaDefinitionError) return error.problems;
    throw error;
  }
  throw new Error('expected build() to throw a SagaDefinitionError');
}

describe('startOn: what build() compiles', () => {
  const saga = defineSaga({
    name: 'test',
    version: 1,
    input: Input,
    startOn: { ...startOn, businessKey: (e) => e.orderId },
  })
    .step('reserve', step)
    .build();

  it('puts only the topic in the serialisable form', () => {
    expect(saga.compiled.startOn).toEqual({ topic: 'orders.order-placed' });
    expect(JSON.parse(JSON.stringify(saga.compiled)).startOn).toEqual({
      topic: 'orders.order-placed',
    });
  });

  it('keeps the schema and the author’s functions for the consumer', () => {
    const event = { eventId: 'e-1', orderId: 'o-1', total: 20 };
    const runtime = saga.startOn!;
    expect(runtime.topic).toBe('orders.order-placed');
    expect(validate(runtime.event, event)).toEqual({ ok: true, value: event });
    expect(runtime.eventId(event)).toBe('e-1');
    expect(runtime.input(event)).toEqual({ orderId: 'o-1', amount: 20 });
    expect(runtime.businessKey?.(event)).toBe('o-1');
  });

  it('has no business key function when none is given', () => {
    const built = defineSaga({ name: 'test', version: 1, input: Input, startOn })
      .step('reserve', step)
      .build();
    expect(built.startOn?.businessKey).toBeNull();
  });

  it('leaves startOn out of the compiled form of a saga without one (its stored hash is unchanged)', () => {
    const plain = defineSaga({ name: 'test', version: 1, input: Input })
      .step('reserve', step)
      .build();
    expect(plain.startOn).toBeNull();
    expect('startOn' in plain.compiled).toBe(false);
  });
});

describe('startOn: what build() refuses', () => {
  const TOPIC_HINT =
    'is invalid: use up to 200 letters, digits, ".", "_" or "-", e.g. "orders.order-placed" (the orchestrator adds the deployment\'s prefix).';

  it.each(['', 'orders placed', 'orders/placed', '.', '..', 'x'.repeat(201)])(
    'rejects the topic %p',
    (topic) => {
      expect(problems(() => loose({ ...startOn, topic }).build())).toEqual([
        `startOn.topic "${topic}" ${TOPIC_HINT}`,
      ]);
    },
  );

  it('rejects a missing topic', () => {
    const { topic: _topic, ...rest } = startOn;
    expect(problems(() => loose(rest).build())).toEqual([
      `startOn.topic "undefined" ${TOPIC_HINT}`,
    ]);
  });

  it('rejects an event that is not a Standard Schema', () => {
    expect(problems(() => loose({ ...startOn, event: { parse: () => ({}) } }).build())).toEqual([
      '"startOn.event" must be a Standard Schema of the event body (for example a zod, valibot or arktype schema).',
    ]);
  });

  it('rejects missing functions, naming each', () => {
    expect(
      problems(() =>
        loose({
          topic: 'orders.placed',
          event: Placed,
          eventId: 'eventId',
          businessKey: 'orderId',
        }).build(),
      ),
    ).toEqual([
      '"startOn.eventId" must be a function of the event returning its unique id: one saga starts per id.',
      '"startOn.input" must be a function mapping the event to the saga input.',
      '"startOn.businessKey" must be a function of the event returning the business key, or be left out.',
    ]);
  });

  it.each([null, 'orders.placed', 42])('rejects startOn %p', (value) => {
    expect(problems(() => loose(value).build())).toEqual([
      '"startOn" must be an object with topic, event, eventId and input, or be left out.',
    ]);
  });
});
