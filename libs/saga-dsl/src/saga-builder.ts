import { CommandDefinition } from './command';
import { CompiledStep, RuntimeStep, SagaDefinition, StepKind } from './compiled-saga';
import { SagaDefinitionError } from './definition-error';
import { InferOutput, StandardSchemaV1 } from './standard-schema';

/** Options shared by every step that sends a command and awaits its reply. */
export interface ForwardStepOptions<D, P, R, D2> {
  /** The command to send; its reply type types `onReply`. */
  readonly command: CommandDefinition<P, R>;
  /** Builds the command payload from the saga data. */
  readonly payload: (data: D) => NoInfer<P>;
  /** Folds the reply into the saga data; the default keeps the data unchanged. */
  readonly onReply?: (data: D, reply: R) => D2;
  /** Attempts for retryable failures (default 1; retriable steps default to 10). */
  readonly maxAttempts?: number;
}

/** A compensatable step: the compensation is built from the data and the forward reply (its log). */
export interface CompensatableStepOptions<D, P, R, D2, CP, CR> extends ForwardStepOptions<
  D,
  P,
  R,
  D2
> {
  readonly compensate: {
    readonly command: CommandDefinition<CP, CR>;
    readonly payload: (data: NoInfer<D2>, log: R) => NoInfer<CP>;
    /** Attempts for retryable compensation failures before the saga becomes `failed` (default 3). */
    readonly maxAttempts?: number;
  };
}

/** Steps before the pivot: compensatable steps, then at most one pivot. */
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
   *     compensate: {
   *       command: ReleaseCredit,
   *       payload: (_order, log) => ({ reservationId: log.reservationId }),
   *     },
   *   });
   */
  step<P, R, CP, CR, D2 = D>(
    name: string,
    options: CompensatableStepOptions<D, P, R, D2, CP, CR>,
  ): SagaBuilder<I, D2>;
  /**
   * Adds the pivot: the point of no return. If it fails, the steps before it are
   * compensated; once it succeeds, only retriable steps may follow.
   *
   * @example
   * builder.pivot('chargePayment', {
   *   command: ChargePayment,
   *   payload: (order) => ({ orderId: order.orderId, amount: order.total }),
   * });
   */
  pivot<P, R, D2 = D>(
    name: string,
    options: ForwardStepOptions<D, P, R, D2>,
  ): AfterPivotBuilder<I, D2>;
  /**
   * Validates the definition and compiles it.
   *
   * @example
   * export const orderSaga = defineSaga({ name: 'order', version: 1, input: OrderInput })
   *   .step('reserveCredit', { ... })
   *   .build();
   */
  build(): SagaDefinition<I, D>;
}

/** Steps after the pivot: only retriable ones, never compensated. */
export interface AfterPivotBuilder<I, D> {
  /**
   * Adds a retriable step: it retries retryable failures and is never compensated.
   *
   * @example
   * builder.retriable('confirmOrder', {
   *   command: ConfirmOrder,
   *   payload: (order) => ({ orderId: order.orderId }),
   * });
   */
  retriable<P, R, D2 = D>(
    name: string,
    options: ForwardStepOptions<D, P, R, D2>,
  ): AfterPivotBuilder<I, D2>;
  /** @see SagaBuilder.build */
  build(): SagaDefinition<I, D>;
}

export interface SagaOptions<S extends StandardSchemaV1> {
  /** Saga type, e.g. `order`; lower-case words joined by `-` or `.`. */
  readonly name: string;
  /** Positive integer; instances keep the version they started with. */
  readonly version: number;
  /** Validates the start input; its output is the initial saga data. */
  readonly input: S;
}

interface StepDraft {
  readonly name: string;
  readonly kind: StepKind;
  readonly options: CompensatableStepOptions<unknown, unknown, unknown, unknown, unknown, unknown>;
}

const SAGA_NAME = /^[a-z][a-z0-9]*(?:[.-][a-z][a-z0-9]*)*$/;
const STEP_NAME = /^[a-z][a-zA-Z0-9]*$/;
const DEFAULT_ATTEMPTS: Record<StepKind, number> = { compensatable: 1, pivot: 1, retriable: 10 };
const DEFAULT_COMPENSATION_ATTEMPTS = 3;

/**
 * Starts a saga definition. Chain steps in order, then call `build()`.
 *
 * @example
 * export const orderSaga = defineSaga({ name: 'order', version: 1, input: OrderInput })
 *   .step('reserveCredit', { command: ReserveCredit, payload: …, compensate: { … } })
 *   .pivot('chargePayment', { command: ChargePayment, payload: … })
 *   .retriable('confirmOrder', { command: ConfirmOrder, payload: … })
 *   .build();
 */
export function defineSaga<S extends StandardSchemaV1>(
  options: SagaOptions<S>,
): SagaBuilder<InferOutput<S>, InferOutput<S>> {
  return new Builder(options, []) as unknown as SagaBuilder<InferOutput<S>, InferOutput<S>>;
}

/** One untyped implementation behind both builder interfaces; every call returns a new builder. */
class Builder {
  constructor(
    private readonly options: SagaOptions<StandardSchemaV1>,
    private readonly drafts: readonly StepDraft[],
  ) {}

  step(name: string, options: StepDraft['options']): Builder {
    return this.add({ name, kind: 'compensatable', options });
  }

  pivot(name: string, options: StepDraft['options']): Builder {
    return this.add({ name, kind: 'pivot', options });
  }

  retriable(name: string, options: StepDraft['options']): Builder {
    return this.add({ name, kind: 'retriable', options });
  }

  build(): SagaDefinition {
    const problems = findProblems(this.options, this.drafts);
    if (problems.length > 0) throw new SagaDefinitionError(this.options.name, problems);
    const steps = this.drafts.map(toRuntimeStep);
    const pivot = steps.findIndex((s) => s.compiled.kind === 'pivot');
    return Object.freeze({
      compiled: {
        name: this.options.name,
        version: this.options.version,
        pivotIndex: pivot === -1 ? null : pivot,
        steps: steps.map((s) => s.compiled),
      },
      input: this.options.input,
      steps,
    });
  }

  private add(draft: StepDraft): Builder {
    return new Builder(this.options, [...this.drafts, draft]);
  }
}

function toRuntimeStep(draft: StepDraft, index: number): RuntimeStep {
  const { options, kind, name } = draft;
  const compensate = kind === 'compensatable' ? options.compensate : undefined;
  const compiled: CompiledStep = {
    index,
    name,
    kind,
    command: { type: options.command.type, topic: options.command.topic },
    compensation: compensate
      ? { type: compensate.command.type, topic: compensate.command.topic }
      : null,
    maxAttempts: options.maxAttempts ?? DEFAULT_ATTEMPTS[kind],
    compensationMaxAttempts: compensate?.maxAttempts ?? DEFAULT_COMPENSATION_ATTEMPTS,
  };
  return {
    compiled,
    command: options.command,
    payload: options.payload,
    onReply: options.onReply ?? ((data) => data),
    compensation: compensate ? { command: compensate.command, payload: compensate.payload } : null,
  };
}

/** Checks what the types cannot (or what plain JavaScript callers bypass). */
function findProblems(
  options: SagaOptions<StandardSchemaV1>,
  drafts: readonly StepDraft[],
): string[] {
  const problems: string[] = [];
  if (!SAGA_NAME.test(options.name)) {
    problems.push(
      `name "${options.name}" is invalid: use lower-case words joined by "-" or ".", e.g. "order" or "order.fulfilment".`,
    );
  }
  if (!Number.isInteger(options.version) || options.version < 1) {
    problems.push(`version ${String(options.version)} is invalid: use a positive integer.`);
  }
  if (drafts.length === 0)
    problems.push('it has no steps: add at least one with .step(), .pivot() or .retriable().');
  const seen = new Set<string>();
  let pivotSeen = false;
  for (const draft of drafts) {
    problems.push(...stepProblems(draft, seen, pivotSeen));
    seen.add(draft.name);
    pivotSeen ||= draft.kind === 'pivot';
  }
  return problems;
}

function stepProblems(draft: StepDraft, seen: ReadonlySet<string>, pivotSeen: boolean): string[] {
  const where = `step "${draft.name}"`;
  const problems: string[] = [];
  if (!STEP_NAME.test(draft.name))
    problems.push(`${where}: the name must be a camelCase identifier such as "reserveCredit".`);
  if (seen.has(draft.name))
    problems.push(`${where}: the name is used twice; give every step its own name.`);
  if (draft.kind === 'compensatable' && !draft.options.compensate) {
    problems.push(
      `${where}: a compensatable step needs "compensate"; if it cannot be undone, make it the pivot or a retriable step after the pivot.`,
    );
  }
  if (draft.kind === 'compensatable' && pivotSeen) {
    problems.push(
      `${where}: compensatable steps must come before the pivot; move it up or make it retriable.`,
    );
  }
  if (draft.kind === 'pivot' && pivotSeen) problems.push(`${where}: a saga has at most one pivot.`);
  if (draft.kind !== 'compensatable' && draft.options.compensate) {
    problems.push(
      `${where}: a ${draft.kind} step cannot be compensated; remove "compensate", or make it a compensatable step before the pivot.`,
    );
  }
  if (draft.kind === 'retriable' && !pivotSeen) {
    problems.push(
      `${where}: retriable steps come after the pivot; add a pivot before it or make it compensatable.`,
    );
  }
  if (typeof draft.options.command?.type !== 'string')
    problems.push(`${where}: "command" must be made with defineCommand().`);
  if (typeof draft.options.payload !== 'function')
    problems.push(`${where}: "payload" must be a function of the saga data.`);
  for (const [label, value] of [
    ['maxAttempts', draft.options.maxAttempts],
    ['compensate.maxAttempts', draft.options.compensate?.maxAttempts],
  ] as const) {
    if (value !== undefined && (!Number.isInteger(value) || value < 1)) {
      problems.push(`${where}: ${label} must be a positive integer, got ${String(value)}.`);
    }
  }
  return problems;
}
