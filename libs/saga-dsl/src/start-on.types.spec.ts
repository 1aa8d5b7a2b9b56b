/*
 * Type tests for `startOn` (checked by `npx tsc -p tsconfig.json --noEmit`): the event type is
 * inferred from the event schema, and the mapping must produce the saga input. Each
 * `@ts-expect-error` pins one misuse (an unused directive fails the type check); the invalid
 * code sits in functions that are never called.
 */
import { z } from 'zod';
import { SagaDefinition, defineCommand, defineSaga } from './index';

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ orderId: z.string(), amount: z.number() }),
  reply: z.object({}),
});
const Input = z.object({ orderId: z.string(), amount: z.number() });
type Input = z.infer<typeof Input>;
const Placed = z.object({ eventId: z.string(), orderId: z.string(), total: z.number() });
type Placed = z.infer<typeof Placed>;
const reserve = {
  command: Reserve,
  payload: (d: { orderId: string; amount: number }) => d,
  compensate: { command: Reserve, payload: (d: { orderId: string; amount: number }) => d },
};

describe('startOn types', () => {
  it('types the event from its schema and maps it to the saga input', () => {
    const saga = defineSaga({
      name: 'test',
      version: 1,
      input: Input,
      startOn: {
        topic: 'orders.placed',
        event: Placed,
        eventId: (event) => {
          assertType<Equal<typeof event, Placed>>();
          return event.eventId;
        },
        input: (event) => ({ orderId: event.orderId, amount: event.total }),
        businessKey: (event) => event.orderId,
      },
    })
      .step('reserve', reserve)
      .build();
    assertType<Equal<typeof saga, SagaDefinition<Input, Input>>>();
    expect(saga.compiled.startOn).toEqual({ topic: 'orders.placed' });
  });

  it('rejects a field the event does not have', () => {
    function misuse() {
      return defineSaga({
        name: 'test',
        version: 1,
        input: Input,
        startOn: {
          topic: 'orders.placed',
          event: Placed,
          eventId: (event) => event.eventId,
          // @ts-expect-error `amount` is not a field of the event (it has `total`)
          input: (event) => ({ orderId: event.orderId, amount: event.amount }),
        },
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('rejects a mapping that does not produce the saga input', () => {
    function misuse() {
      return defineSaga({
        name: 'test',
        version: 1,
        input: Input,
        startOn: {
          topic: 'orders.placed',
          event: Placed,
          eventId: (event) => event.eventId,
          // @ts-expect-error the saga input needs `amount` (NoInfer keeps the input type from the schema)
          input: (event) => ({ orderId: event.orderId }),
        },
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('rejects an event id that is not a string', () => {
    function misuse() {
      return defineSaga({
        name: 'test',
        version: 1,
        input: Input,
        startOn: {
          topic: 'orders.placed',
          event: Placed,
          // @ts-expect-error an event id is a string
          eventId: (event) => event.total,
          input: (event) => ({ orderId: event.orderId, amount: event.total }),
        },
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('rejects a startOn without an event schema', () => {
    function misuse() {
      return defineSaga({
        name: 'test',
        version: 1,
        input: Input,
        // @ts-expect-error `event`, the schema of the event body, is required
        startOn: {
          topic: 'orders.placed',
          eventId: () => 'e-1',
          input: () => ({ orderId: 'o-1', amount: 1 }),
        },
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });
});
