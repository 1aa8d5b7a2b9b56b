import { CommandDefinition } from './command';
import { RetryPolicy, TimeoutAction } from './retry-options';
import { StandardSchemaV1 } from './standard-schema';

/**
 * Where a step stands relative to the point of no return (Garcia-Molina & Salem's sagas,
 * refined by the pivot/retriable split): compensatable steps can be undone, the pivot cannot,
 * retriable steps after it must eventually succeed. Notifications are sent without awaiting a
 * reply; local steps transform the saga data. Neither is ever compensated.
 */
export type StepKind = 'compensatable' | 'pivot' | 'retriable' | 'notification' | 'local';

export interface CompiledCommandRef {
  readonly type: string;
  readonly topic: string;
}

/** One step in serialisable form: what the engine runs and the admin API shows. */
export interface CompiledStep {
  readonly index: number;
  readonly name: string;
  readonly kind: StepKind;
  /** The stage the step belongs to (members of a parallel group share one). */
  readonly stage: number;
  /** Null for local steps. */
  readonly command: CompiledCommandRef | null;
  readonly compensation: CompiledCommandRef | null;
  /** How long to wait for a reply; null waits for ever. */
  readonly timeoutMs: number | null;
  readonly onTimeout: TimeoutAction;
  readonly retry: RetryPolicy;
  readonly compensationTimeoutMs: number | null;
  readonly compensationRetry: RetryPolicy;
  /** True when a `when` condition may skip the step. */
  readonly conditional: boolean;
}

/** Steps that start together: one step, or a parallel group joined before the next stage. */
export interface CompiledStage {
  readonly index: number;
  readonly name: string;
  readonly parallel: boolean;
  readonly steps: readonly number[];
}

/** Which domain event starts the saga, in serialisable form. */
export interface CompiledStartOn {
  /** The domain topic, without the deployment's prefix (the orchestrator adds it). */
  readonly topic: string;
}

/** The serialisable (JSON) form of a saga definition, including its step graph. */
export interface CompiledSaga {
  readonly name: string;
  readonly version: number;
  /**
   * The domain event that starts the saga. Absent (not null) when only explicit starts do, so
   * the stored form — and the hash — of a definition without `startOn` is what it always was.
   */
  readonly startOn?: CompiledStartOn;
  /** Index of the pivot step, or null when every forward step can be compensated. */
  readonly pivotIndex: number | null;
  /** After this long the saga compensates (if it has not passed its pivot). */
  readonly deadlineMs: number | null;
  /** Field names redacted for viewers and in logs; absent when none (keeps older hashes). */
  readonly sensitive?: readonly string[];
  readonly steps: readonly CompiledStep[];
  readonly stages: readonly CompiledStage[];
}

/** The compiled form plus the author's functions. */
export interface RuntimeStep {
  readonly compiled: CompiledStep;
  /** Null for local steps. */
  readonly command: CommandDefinition | null;
  readonly payload: (data: unknown) => unknown;
  readonly onReply: (data: unknown, reply: unknown) => unknown;
  readonly compensation: {
    readonly command: CommandDefinition;
    readonly payload: (data: unknown, log: unknown) => unknown;
  } | null;
  readonly when: ((data: unknown) => boolean) | null;
}

/** `startOn` with the author's functions, as the start-event consumer runs them. */
export interface RuntimeStartOn {
  readonly topic: string;
  /** Validates the event's JSON body. */
  readonly event: StandardSchemaV1;
  /** The event's unique id: one saga per id (the start's idempotency key). */
  readonly eventId: (event: unknown) => unknown;
  /** Maps the validated event to the saga input (then validated by the input schema). */
  readonly input: (event: unknown) => unknown;
  readonly businessKey: ((event: unknown) => unknown) | null;
}

/**
 * What `build()` returns: everything the engine needs to run instances of one saga version.
 * `Input` is what starts it; `Data` is the saga data after the last step.
 */
export interface SagaDefinition<Input = unknown, Data = unknown> {
  readonly compiled: CompiledSaga;
  readonly input: StandardSchemaV1<unknown, Input>;
  readonly steps: readonly RuntimeStep[];
  /** Null when the saga is only started explicitly (the admin API, StartSaga). */
  readonly startOn: RuntimeStartOn | null;
  /** Phantom: the saga data type at the end, for tests and tooling. */
  readonly __data?: Data;
}
