import { CommandDefinition } from './command';
import { StandardSchemaV1 } from './standard-schema';

/**
 * Where a step stands relative to the point of no return (Garcia-Molina & Salem's sagas,
 * refined by the pivot/retriable split): compensatable steps can be undone, the pivot
 * cannot, and retriable steps after it must eventually succeed.
 */
export type StepKind = 'compensatable' | 'pivot' | 'retriable';

export interface CompiledCommandRef {
  readonly type: string;
  readonly topic: string;
}

/** One step in serialisable form: what the engine runs and the admin API shows. */
export interface CompiledStep {
  readonly index: number;
  readonly name: string;
  readonly kind: StepKind;
  readonly command: CompiledCommandRef;
  readonly compensation: CompiledCommandRef | null;
  /** Forward attempts before the step counts as failed (retryable failures only). */
  readonly maxAttempts: number;
  /** Compensation attempts before the saga becomes `failed` (retryable failures only). */
  readonly compensationMaxAttempts: number;
}

/** The serialisable (JSON) form of a saga definition. */
export interface CompiledSaga {
  readonly name: string;
  readonly version: number;
  readonly pivotIndex: number | null;
  readonly steps: readonly CompiledStep[];
}

/** The compiled form plus the author's functions that build payloads and fold replies. */
export interface RuntimeStep {
  readonly compiled: CompiledStep;
  readonly command: CommandDefinition;
  readonly payload: (data: unknown) => unknown;
  readonly onReply: (data: unknown, reply: unknown) => unknown;
  readonly compensation: {
    readonly command: CommandDefinition;
    readonly payload: (data: unknown, log: unknown) => unknown;
  } | null;
}

/**
 * What `build()` returns: everything the engine needs to run instances of one saga version.
 * `Input` is what starts it; `Data` is the saga data after the last step.
 */
export interface SagaDefinition<Input = unknown, Data = unknown> {
  readonly compiled: CompiledSaga;
  readonly input: StandardSchemaV1<unknown, Input>;
  readonly steps: readonly RuntimeStep[];
  /** Phantom: the saga data type at the end, for tests and tooling. */
  readonly __data?: Data;
}
