/*
 * Type tests: `npx tsc -p tsconfig.json --noEmit` checks them. Each `@ts-expect-error` pins one
 * misuse the DSL must refuse to compile; if the types ever accept it, the directive is unused
 * and the type check fails. The invalid code sits in functions that are never called.
 */
import { z } from 'zod';
import {
  AfterPivotBuilder,
  PayloadOf,
  ReplyOf,
  SagaBuilder,
  SagaDefinition,
  defineCommand,
  defineSaga,
} from './index';

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}
/** Flattens an intersection, so `Equal` compares the resulting shape. */
type Simplify<T> = { [K in keyof T]: T[K] };

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ orderId: z.string(), amount: z.number() }),
  reply: z.object({ reservationId: z.string() }),
});
/** Releases by reservation id, or by order when the reservation's reply never arrived. */
const Release = defineCommand({
  type: 'test.release',
  topic: 'test.commands',
  payload: z.object({ orderId: z.string(), reservationId: z.string().optional() }),
  reply: z.object({}),
});
const Charge = defineCommand({
  type: 'test.charge',
  topic: 'test.commands',
  payload: z.object({ orderId: z.string() }),
  reply: z.object({ chargeId: z.string() }),
});
const Confirm = defineCommand({
  type: 'test.confirm',
  topic: 'test.commands',
  payload: z.object({ chargeId: z.string() }),
  reply: z.object({}),
});
const Email = defineCommand({
  type: 'test.email',
  topic: 'test.notifications',
  payload: z.object({ to: z.string(), template: z.string() }),
  reply: z.object({}),
});

const Input = z.object({ orderId: z.string(), amount: z.number() });
type Input = z.infer<typeof Input>;

const start = () => defineSaga({ name: 'test', version: 1, input: Input });
const reserve = {
  command: Reserve,
  payload: (o: Input) => ({ orderId: o.orderId, amount: o.amount }),
  compensate: {
    command: Release,
    payload: (o: Input, log: { reservationId: string } | undefined) => ({
      orderId: o.orderId,
      reservationId: log?.reservationId,
    }),
  },
};
const charge = { command: Charge, payload: (o: Input) => ({ orderId: o.orderId }) };
const confirm = { command: Confirm, payload: () => ({ chargeId: 'x' }) };
const afterPivot = () => start().pivot('charge', charge);

describe('saga DSL types: misuse does not compile', () => {
  it('pins the builder phases', () => {
    function misuse() {
      // A compensatable step must say how to undo itself.
      // @ts-expect-error -- `compensate` is missing
      start().step('reserve', {
        command: Reserve,
        payload: (o) => ({ orderId: o.orderId, amount: o.amount }),
      });

      // After the pivot only retriable steps exist.
      // @ts-expect-error -- no `.step()` after `.pivot()`
      afterPivot().step('reserve', reserve);

      // Retriable steps come after the pivot.
      // @ts-expect-error -- no `.retriable()` before `.pivot()`
      start().retriable('confirm', confirm);

      // A saga has one pivot.
      // @ts-expect-error -- no second `.pivot()`
      afterPivot().pivot('charge2', charge);
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('pins the members of parallel groups to the phase', () => {
    function misuse() {
      start().parallel('reserveAll', (g) =>
        g
          // @ts-expect-error -- a group member before the pivot is compensatable: `compensate` is missing
          .step('credit', { command: Reserve, payload: (o) => ({ orderId: o.orderId, amount: 1 }) })
          .step('stock', reserve),
      );

      afterPivot().parallel('fulfil', (g) =>
        g
          // @ts-expect-error -- after the pivot a group offers only `.retriable()`, no `.step()`
          .step('reserve', reserve)
          .retriable('confirm', confirm),
      );

      start().parallel('reserveAll', (g) =>
        g
          // @ts-expect-error -- before the pivot a group offers only `.step()`, no `.retriable()`
          .retriable('confirm', confirm)
          .step('stock', reserve),
      );
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('pins payloads, replies and logs to the command types', () => {
    function misuse() {
      // The payload must have the command's field types.
      start().pivot('charge', {
        command: Reserve,
        // @ts-expect-error -- `amount` must be a number
        payload: (o) => ({ orderId: o.orderId, amount: String(o.amount) }),
      });

      start().pivot('charge', {
        command: Charge,
        payload: (o) => ({ orderId: o.orderId }),
        // @ts-expect-error -- the Charge reply has no `reservationId`
        onReply: (o, reply) => ({ ...o, id: reply.reservationId }),
      });

      start().step('reserve', {
        ...reserve,
        compensate: {
          command: Release,
          // @ts-expect-error -- the Reserve reply (the log) has no `chargeId`
          payload: (o, log) => ({ orderId: o.orderId, reservationId: log?.chargeId }),
        },
      });

      start().step('reserve', {
        ...reserve,
        compensate: {
          command: Release,
          // @ts-expect-error -- the log is `R | undefined` (undefined when the forward timed out): `log.` needs `?.`
          payload: (o, log) => ({ orderId: o.orderId, reservationId: log.reservationId }),
        },
      });

      start().step('reserve', {
        ...reserve,
        compensate: {
          command: Release,
          // @ts-expect-error -- the compensation payload must match Release (`orderId`), not `id`
          payload: (_o, log) => ({ id: log?.reservationId }),
        },
      });

      start().notify('emailCustomer', {
        command: Email,
        // @ts-expect-error -- a notification payload must match its command: Email needs `to`, not `email`
        payload: (o) => ({ email: o.orderId, template: 'placed' }),
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('pins the saga data through onReply, local steps and groups', () => {
    function misuse() {
      start().pivot('charge', {
        command: Charge,
        // @ts-expect-error -- the saga data has no `customerId`
        payload: (o) => ({ orderId: o.customerId }),
      });

      afterPivot().retriable('confirm', {
        command: Confirm,
        // @ts-expect-error -- `chargeId` is not in the data: the pivot had no onReply adding it
        payload: (o) => ({ chargeId: o.chargeId }),
      });

      start()
        .local('summarise', (o) => ({ total: o.amount }))
        .pivot('charge', {
          command: Charge,
          // @ts-expect-error -- the local step replaced the data with `{ total }`: `orderId` is gone
          payload: (o) => ({ orderId: o.orderId }),
        });
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('pins the step options', () => {
    function misuse() {
      start().pivot('charge', {
        ...charge,
        // @ts-expect-error -- a pivot cannot be compensated (excess property)
        compensate: reserve.compensate,
      });

      // @ts-expect-error -- the command must be a defined command
      start().pivot('charge', { command: { type: 'test.charge' }, payload: (o: Input) => o });

      afterPivot().retriable('confirm', {
        ...confirm,
        // @ts-expect-error -- retry.maxAttempts is a number, not a string
        retry: { maxAttempts: '3' },
      });

      afterPivot().retriable('confirm', {
        ...confirm,
        // @ts-expect-error -- `maxAttempts` moved into `retry`: it is no option of the step
        maxAttempts: 3,
      });

      start().pivot('charge', {
        ...charge,
        // @ts-expect-error -- not a Duration: the unit must be ms, s, m, h or d ('30s')
        timeout: '30 seconds',
      });

      start().pivot('charge', {
        ...charge,
        // @ts-expect-error -- not a Duration: `x` is no unit
        timeout: '5x',
      });

      start().pivot('charge', {
        ...charge,
        timeout: '1m',
        // @ts-expect-error -- onTimeout is 'retry' | 'compensate' | 'park'
        onTimeout: 'later',
      });

      start().pivot('charge', {
        ...charge,
        // @ts-expect-error -- retry delays are Durations too
        retry: { initialDelay: '1 minute' },
      });

      start().step('reserve', {
        ...reserve,
        // @ts-expect-error -- the compensation timeout is a Duration
        compensate: { ...reserve.compensate, timeout: 'soon' },
      });

      start().pivot('charge', {
        ...charge,
        // @ts-expect-error -- a condition returns a boolean, not a string
        when: (o) => (o.amount > 0 ? 'yes' : ''),
      });

      start().notify('emailCustomer', {
        command: Email,
        payload: (o) => ({ to: o.orderId, template: 'placed' }),
        // @ts-expect-error -- a notification awaits no reply, so it has no timeout (excess property)
        timeout: '30s',
      });

      start().notify('emailCustomer', {
        command: Email,
        payload: (o) => ({ to: o.orderId, template: 'placed' }),
        // @ts-expect-error -- a notification is never compensated (excess property)
        compensate: reserve.compensate,
      });

      // @ts-expect-error -- the saga deadline is a Duration, not 'soon'
      defineSaga({ name: 'test', version: 1, input: Input, deadline: 'soon' });
    }
    expect(misuse).toBeInstanceOf(Function);
  });
});

describe('saga DSL types: what compiles is precisely typed', () => {
  it('makes the data extended by onReply visible to later steps', () => {
    const saga = start()
      .step('reserve', {
        ...reserve,
        onReply: (o, r) => ({ ...o, reservationId: r.reservationId }),
      })
      .pivot('charge', {
        command: Charge,
        payload: (o) => {
          assertType<Equal<typeof o, { orderId: string; amount: number; reservationId: string }>>();
          return { orderId: o.orderId };
        },
        onReply: (o, r) => ({ ...o, chargeId: r.chargeId }),
      })
      .retriable('confirm', { command: Confirm, payload: (o) => ({ chargeId: o.chargeId }) })
      .build();

    assertType<
      Equal<
        typeof saga,
        SagaDefinition<
          Input,
          { orderId: string; amount: number; reservationId: string; chargeId: string }
        >
      >
    >();
    expect(saga.compiled.steps).toHaveLength(3);
  });

  it('types the builder phases, the input and the command payload and reply', () => {
    const before = start();
    const after = before.pivot('charge', charge);

    assertType<Equal<typeof before, SagaBuilder<Input, Input>>>();
    assertType<Equal<typeof after, AfterPivotBuilder<Input, Input>>>();
    assertType<Equal<PayloadOf<typeof Reserve>, { orderId: string; amount: number }>>();
    assertType<Equal<ReplyOf<typeof Reserve>, { reservationId: string }>>();
    expect(after.build().compiled.pivotIndex).toBe(0);
  });

  it('types the compensation log as the forward reply, or undefined when its outcome is unknown', () => {
    start().step('reserve', {
      ...reserve,
      compensate: {
        command: Release,
        payload: (o, log) => {
          assertType<Equal<typeof log, { reservationId: string } | undefined>>();
          return { orderId: o.orderId, reservationId: log?.reservationId };
        },
      },
    });
    expect(true).toBe(true);
  });

  it('types local steps, notifications, conditions and parallel groups', () => {
    const saga = start()
      .parallel('reserveAll', (g) =>
        g
          .step('credit', { ...reserve, onReply: (o, r) => ({ ...o, creditId: r.reservationId }) })
          .step('stock', { ...reserve, onReply: (o, r) => ({ ...o, stockId: r.reservationId }) }),
      )
      .local('total', (o) => {
        assertType<
          Equal<
            Simplify<typeof o>,
            { orderId: string; amount: number; creditId: string; stockId: string }
          >
        >();
        return { orderId: o.orderId, total: o.amount * 2 };
      })
      .notify('emailCustomer', {
        command: Email,
        payload: (o) => ({ to: o.orderId, template: `total ${o.total}` }),
        when: (o) => o.total > 0,
      })
      .pivot('charge', {
        command: Charge,
        payload: (o) => ({ orderId: o.orderId }),
        timeout: '1m',
        onTimeout: 'park',
      })
      .retriable('confirm', {
        ...confirm,
        retry: { maxAttempts: 20, initialDelay: '500ms', maxDelay: 60_000 },
      })
      .build();

    assertType<Equal<typeof saga, SagaDefinition<Input, { orderId: string; total: number }>>>();
    expect(saga.compiled.stages).toHaveLength(5);
  });
});

describe('saga DSL types: inference holes that are now closed', () => {
  it('rejects a payload that omits a required field of the command', () => {
    function misuse() {
      return start().pivot('charge', {
        command: Reserve,
        // @ts-expect-error the command payload needs `amount` (NoInfer stops P widening to the returned shape)
        payload: (o) => ({ orderId: o.orderId }),
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('rejects an annotated compensation data parameter that invents saga data fields', () => {
    function misuse() {
      return start().step('reserve', {
        ...reserve,
        compensate: {
          command: Release,
          // @ts-expect-error saga data has no `ghost` (NoInfer stops D2 being inferred from here)
          payload: (o: Input & { ghost: string }) => ({ orderId: o.ghost }),
        },
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });
});
