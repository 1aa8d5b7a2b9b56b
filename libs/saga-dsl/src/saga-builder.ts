import { CommandDefinition } from './command';
import { SagaDefinition } from './compiled-saga';
import { Duration } from './duration';
import { RetryOptions, TimeoutAction } from './retry-options';
import { SagaDraft } from './saga-draft';
import { InferOutput, StandardSchemaV1 } from './standard-schema';

/** Options every step that sends a command and awaits its reply accepts. */
export interface ForwardStepOptions<D, P, R, D2> {
  /** The command to send; its reply type types `onReply`. */
  readonly command: CommandDefinition<P, R>;
  /** Builds the command payload from the saga data. */
  readonly payload: (data: D) => NoInfer<P>;
  /** Folds the reply into the saga data; the default keeps the data unchanged. */
  readonly onReply?: (data: D, reply: R) => D2;
  /** How long to wait for a reply (`'30s'` or milliseconds); by default for ever. */
  readonly timeout?: Duration;
  /**
   * What a timeout means: `'retry'` (default: send again with the same idempotency key, within
   * `retry.maxAttempts`), `'compensate'` (give up; before the pivot the saga compensates) or
   * `'park'` (stop and wait for an operator).
   */
  readonly onTimeout?: TimeoutAction;
  /** Retries of retryable failures (and of timeouts, with `onTimeout: 'retry'`). */
  readonly retry?: RetryOptions;
  /** Skips the step when it returns false (evaluated when the step's stage starts). */
  readonly when?: (data: D) => boolean;
}

/**
 * How a compensatable step undoes itself: a command built from the data and the forward reply
 * (its log). The log is `undefined` when the forward's outcome is unknown — it timed out and the
 * saga gave up on it — so the compensation must also work without it (for example by business
 * key; the participant kit gives the handler the reply it recorded for the forward).
 */
export interface CompensationOptions<D2, R, CP, CR> {
  readonly command: CommandDefinition<CP, CR>;
  readonly payload: (data: NoInfer<D2>, log: R | undefined) => NoInfer<CP>;
  /** Retries before the saga becomes `failed` and waits for an operator (default 5 attempts). */
  readonly retry?: RetryOptions;
  readonly timeout?: Duration;
}

export interface CompensatableStepOptions<D, P, R, D2, CP, CR> extends ForwardStepOptions<
  D,
  P,
  R,
  D2
> {
  readonly compensate: CompensationOptions<D2, R, CP, CR>;
}

/** A command sent without awaiting a reply (an email, an audit event): never compensated. */
export interface NotificationOptions<D, P> {
  readonly command: CommandDefinition<P, unknown>;
  readonly payload: (data: D) => NoInfer<P>;
  readonly when?: (data: D) => boolean;
}

/** Members of a parallel group before the pivot: compensatable steps. */
export interface ParallelGroup<D, Out> {
  /** @see SagaBuilder.step */
  step<P, R, CP, CR, D2 extends D = D>(
    name: string,
    options: CompensatableStepOptions<D, P, R, D2, CP, CR>,
  ): ParallelGroup<D, Out & D2>;
}

/** Members of a parallel group after the pivot: retriable steps. */
export interface RetriableGroup<D, Out> {
  /** @see AfterPivotBuilder.retriable */
  retriable<P, R, D2 extends D = D>(
    name: string,
    options: ForwardStepOptions<D, P, R, D2>,
  ): RetriableGroup<D, Out & D2>;
}

/** The saga before its pivot: compensatable steps, parallel groups, local and notification steps, then at most one pivot. */
export interface SagaBuilder<I, D> {
  /**
   * Adds a compensatable step. It must say how to undo itself.
   *
   * @example
   * defineSaga({ name: 'order', version: 1, input: OrderInput })
   *   .step('reserveCredit', {
   *     command: ReserveCredit,
   *     payload: (order) => ({ customerId: order.customerId, amount: order.total }),
   *     onReply: (order, reply) => ({ ...order, creditReservationId: reply.reservationId }),
   *     compensate: { command: ReleaseCredit, payload: (_order, log) => ({ reservationId: log.reservationId }) },
   *     timeout: '30s',
   *     retry: { maxAttempts: 3, initialDelay: '1s' },
   *   });
   */
  step<P, R, CP, CR, D2 = D>(
    name: string,
    options: CompensatableStepOptions<D, P, R, D2, CP, CR>,
  ): SagaBuilder<I, D2>;
  /**
   * Sends several compensatable steps at once and continues when all succeeded. If one fails,
   * the others are awaited and every one that succeeded is compensated.
   *
   * @example
   * builder.parallel('reserve', (group) =>
   *   group
   *     .step('reserveCredit', { command: ReserveCredit, payload: …, compensate: { … } })
   *     .step('reserveInventory', { command: ReserveInventory, payload: …, compensate: { … } }),
   * );
   */
  parallel<D2>(
    name: string,
    group: (group: ParallelGroup<D, D>) => ParallelGroup<D, D2>,
  ): SagaBuilder<I, D2>;
  /**
   * A local step: a pure transformation of the saga data, with no message.
   *
   * @example
   * builder.local('applyDiscount', (order) => ({ ...order, total: order.total * 0.9 }));
   */
  local<D2>(name: string, transform: (data: D) => D2): SagaBuilder<I, D2>;
  /**
   * A notification: sends a command and goes on without awaiting a reply.
   *
   * @example
   * builder.notify('emailCustomer', { command: SendEmail, payload: (o) => ({ to: o.email, template: 'placed' }) });
   */
  notify<P>(name: string, options: NotificationOptions<D, P>): SagaBuilder<I, D>;
  /**
   * Adds the pivot: the point of no return. If it fails, the steps before it are compensated;
   * once it succeeds, only retriable, local and notification steps may follow.
   *
   * @example
   * builder.pivot('chargePayment', {
   *   command: ChargePayment,
   *   payload: (order) => ({ orderId: order.orderId, amount: order.total }),
   *   timeout: '1m',
   *   onTimeout: 'park',
   * });
   */
  pivot<P, R, D2 = D>(
    name: string,
    options: ForwardStepOptions<D, P, R, D2>,
  ): AfterPivotBuilder<I, D2>;
  /**
   * Validates the definition and compiles it into a serialisable `CompiledSaga`.
   *
   * @example
   * export const orderSaga = defineSaga({ name: 'order', version: 1, input: OrderInput })
   *   .step('reserveCredit', { … })
   *   .build();
   */
  build(): SagaDefinition<I, D>;
}

/** The saga after its pivot: retriable steps (alone or in parallel), local and notification steps. */
export interface AfterPivotBuilder<I, D> {
  /**
   * Adds a retriable step: it retries retryable failures and is never compensated. When its
   * attempts run out (default 10) the saga becomes `failed` and waits for an operator.
   *
   * @example
   * builder.retriable('confirmOrder', {
   *   command: ConfirmOrder,
   *   payload: (order) => ({ orderId: order.orderId }),
   *   retry: { maxAttempts: 20, maxDelay: '5m' },
   * });
   */
  retriable<P, R, D2 = D>(
    name: string,
    options: ForwardStepOptions<D, P, R, D2>,
  ): AfterPivotBuilder<I, D2>;
  /**
   * Sends several retriable steps at once and continues when all succeeded.
   *
   * @example
   * builder.parallel('fulfil', (group) => group.retriable('ship', { … }).retriable('invoice', { … }));
   */
  parallel<D2>(
    name: string,
    group: (group: RetriableGroup<D, D>) => RetriableGroup<D, D2>,
  ): AfterPivotBuilder<I, D2>;
  /** @see SagaBuilder.local */
  local<D2>(name: string, transform: (data: D) => D2): AfterPivotBuilder<I, D2>;
  /** @see SagaBuilder.notify */
  notify<P>(name: string, options: NotificationOptions<D, P>): AfterPivotBuilder<I, D>;
  /** @see SagaBuilder.build */
  build(): SagaDefinition<I, D>;
}

/** The type a schema accepts before validation (what a start must supply). */
type SchemaInput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['input'];

/**
 * Starts the saga from a domain event: the orchestrator consumes `topic`, validates each
 * message's JSON body with `event`, and starts one saga per `eventId` with the input `input`
 * maps the event to. A repeated event id starts nothing new. An event that is not JSON, does
 * not match `event`, or maps to an input the saga's `input` schema refuses is parked with a
 * reason (`malformed-event`, `invalid-event`, `invalid-input`); it never blocks the topic.
 *
 * @experimental The start-event surface may change (headers, keys, several events per saga).
 * @example
 * defineSaga({
 *   name: 'order',
 *   version: 1,
 *   input: OrderInput,
 *   startOn: {
 *     topic: 'orders.order-placed',
 *     event: OrderPlaced,
 *     eventId: (event) => event.eventId,
 *     input: (event) => ({ orderId: event.orderId, customerId: event.customerId, … }),
 *     businessKey: (event) => event.orderId,
 *   },
 * });
 */
export interface StartOnOptions<E extends StandardSchemaV1, I> {
  /** The domain topic, e.g. `orders.order-placed` (the orchestrator adds the deployment's prefix). */
  readonly topic: string;
  /** A Standard Schema for the event's JSON body; its output types the functions below. */
  readonly event: E;
  /** The event's unique id. Starting is idempotent by it: one saga per id, however often it arrives. */
  readonly eventId: (event: InferOutput<E>) => string;
  /** Maps the event to the saga input, which the saga's `input` schema then validates. */
  readonly input: (event: InferOutput<E>) => NoInfer<I>;
  /** The instance's business key (for search), e.g. the order id. */
  readonly businessKey?: (event: InferOutput<E>) => string;
}

export interface SagaOptions<
  S extends StandardSchemaV1,
  E extends StandardSchemaV1 = StandardSchemaV1,
> {
  /** Saga type, e.g. `order`; lower-case words joined by `-` or `.`. */
  readonly name: string;
  /** Positive integer; instances keep the version they started with. */
  readonly version: number;
  /** Validates the start input; its output is the initial saga data. */
  readonly input: S;
  /** After this long the saga compensates, unless it has passed its pivot. */
  readonly deadline?: Duration;
  /** Optional: the domain event that starts the saga (see StartOnOptions). */
  readonly startOn?: StartOnOptions<E, SchemaInput<S>>;
  /**
   * Field names whose values are secrets or personal data (e.g. `cardNumber`): wherever a
   * field of that name appears in the saga's data, payloads, replies or timeline, viewers of
   * the admin API and the logs see `"[redacted]"` instead.
   */
  readonly sensitive?: readonly string[];
}

/**
 * Starts a saga definition. Chain its steps in order, then call `build()`.
 *
 * @example
 * export const orderSaga = defineSaga({ name: 'order', version: 1, input: OrderInput, deadline: '10m' })
 *   .step('reserveCredit', { command: ReserveCredit, payload: …, compensate: { … } })
 *   .pivot('chargePayment', { command: ChargePayment, payload: … })
 *   .retriable('confirmOrder', { command: ConfirmOrder, payload: … })
 *   .build();
 * @example
 * // Also started by a domain event, once per event id (see StartOnOptions):
 * defineSaga({
 *   name: 'order', version: 1, input: OrderInput,
 *   startOn: { topic: 'orders.order-placed', event: OrderPlaced, eventId: (e) => e.eventId, input: (e) => ({ … }) },
 * });
 */
export function defineSaga<
  S extends StandardSchemaV1,
  E extends StandardSchemaV1 = StandardSchemaV1,
>(options: SagaOptions<S, E>): SagaBuilder<InferOutput<S>, InferOutput<S>> {
  return SagaDraft.start(options) as unknown as SagaBuilder<InferOutput<S>, InferOutput<S>>;
}
