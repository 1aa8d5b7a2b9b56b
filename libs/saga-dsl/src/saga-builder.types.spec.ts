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

const Reserve = defineCommand({
  type: 'test.reserve',
  topic: 'test.commands',
  payload: z.object({ orderId: z.string(), amount: z.number() }),
  reply: z.object({ reservationId: z.string() }),
});
const Release = defineCommand({
  type: 'test.release',
  topic: 'test.commands',
  payload: z.object({ reservationId: z.string() }),
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

const Input = z.object({ orderId: z.string(), amount: z.number() });
type Input = z.infer<typeof Input>;

const start = () => defineSaga({ name: 'test', version: 1, input: Input });
const reserve = {
  command: Reserve,
  payload: (o: Input) => ({ orderId: o.orderId, amount: o.amount }),
  compensate: {
    command: Release,
    payload: (_o: Input, log: { reservationId: string }) => ({ reservationId: log.reservationId }),
  },
};
const afterPivot = () =>
  start().pivot('charge', { command: Charge, payload: (o) => ({ orderId: o.orderId }) });

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
      start().retriable('confirm', { command: Confirm, payload: () => ({ chargeId: 'x' }) });

      // A saga has one pivot.
      // @ts-expect-error -- no second `.pivot()`
      afterPivot().pivot('charge2', { command: Charge, payload: (o) => ({ orderId: o.orderId }) });
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
          payload: (_o, log) => ({ reservationId: log.chargeId }),
        },
      });

      start().step('reserve', {
        ...reserve,
        // @ts-expect-error -- the compensation payload must match Release (`reservationId`), not `id`
        compensate: { command: Release, payload: (_o, log) => ({ id: log.reservationId }) },
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });

  it('pins the saga data and the step options', () => {
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

      start().pivot('charge', {
        command: Charge,
        payload: (o) => ({ orderId: o.orderId }),
        // @ts-expect-error -- a pivot cannot be compensated (excess property)
        compensate: reserve.compensate,
      });

      // @ts-expect-error -- the command must be a defined command
      start().pivot('charge', { command: { type: 'test.charge' }, payload: (o: Input) => o });

      afterPivot().retriable('confirm', {
        command: Confirm,
        payload: () => ({ chargeId: 'x' }),
        // @ts-expect-error -- maxAttempts is a number
        maxAttempts: '3',
      });
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
    const after = before.pivot('charge', {
      command: Charge,
      payload: (o) => ({ orderId: o.orderId }),
    });

    assertType<Equal<typeof before, SagaBuilder<Input, Input>>>();
    assertType<Equal<typeof after, AfterPivotBuilder<Input, Input>>>();
    assertType<Equal<PayloadOf<typeof Reserve>, { orderId: string; amount: number }>>();
    assertType<Equal<ReplyOf<typeof Reserve>, { reservationId: string }>>();
    expect(after.build().compiled.pivotIndex).toBe(0);
  });

  it('types the compensation log as the forward reply', () => {
    start().step('reserve', {
      ...reserve,
      compensate: {
        command: Release,
        payload: (_o, log) => {
          assertType<Equal<typeof log, { reservationId: string }>>();
          return { reservationId: log.reservationId };
        },
      },
    });
    expect(true).toBe(true);
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
          payload: (o: Input & { ghost: string }) => ({ reservationId: o.ghost }),
        },
      });
    }
    expect(misuse).toBeInstanceOf(Function);
  });
});
