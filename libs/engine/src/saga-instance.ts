import { CompletedStep } from '@sagaflow/compensation';

/** Every status a saga instance can have; mirrored by a CHECK constraint in the migrations. */
export const SAGA_STATUSES = [
  'running',
  'compensating',
  'completed',
  'compensated',
  'failed',
] as const;
export type SagaStatus = (typeof SAGA_STATUSES)[number];
export const TERMINAL_STATUSES: readonly SagaStatus[] = ['completed', 'compensated'];

export type CommandKind = 'forward' | 'compensate';

/** Why a saga stopped going forward (or stopped altogether). */
export interface SagaFailure {
  readonly step: string;
  readonly kind: CommandKind;
  readonly type: string;
  readonly message: string;
}

interface SagaInstanceBase {
  readonly id: string;
  readonly sagaType: string;
  readonly sagaVersion: number;
  /** Optimistic-lock version: 1 after start, +1 per applied transition. */
  readonly version: number;
  readonly businessKey: string | null;
  readonly data: unknown;
  /** Forward steps that succeeded, in order, with their reply logs. */
  readonly completed: readonly CompletedStep[];
}

/** What an outstanding step attempt waits for: its reply, or the timer of its next attempt. */
export type Waiting = 'reply' | 'retry';

/** A step of the current stage that has not finished yet. */
export interface PendingStep {
  readonly step: number;
  readonly attempt: number;
  readonly waiting: Waiting;
  /** Waiting to retry after the previous attempt timed out: that attempt's outcome is unknown. */
  readonly afterTimeout?: true;
}

export interface RunningSaga extends SagaInstanceBase {
  readonly status: 'running';
  /** The current stage (one step, or a parallel group). */
  readonly stage: number;
  /** Its steps still outstanding; never empty. */
  readonly pending: readonly PendingStep[];
  /**
   * Set when a step of the stage failed for good (or the deadline passed) while others are
   * still outstanding: no new attempts start, and the saga compensates once they settle.
   */
  readonly stageFailure: SagaFailure | null;
}

export interface CompensatingSaga extends SagaInstanceBase {
  readonly status: 'compensating';
  /** The step being undone now. */
  readonly currentStep: number;
  readonly attempt: number;
  readonly waiting: Waiting;
  /** Steps still to undo after the current one, in order. */
  readonly remaining: readonly number[];
  readonly cause: SagaFailure;
}

export interface CompletedSaga extends SagaInstanceBase {
  readonly status: 'completed';
}

export interface CompensatedSaga extends SagaInstanceBase {
  readonly status: 'compensated';
  readonly cause: SagaFailure;
}

/**
 * Where an operator's retry picks a failed saga up: the stage it was in with the steps still
 * outstanding (empty when the failure came while entering the stage, so nothing was sent), or
 * the compensation that failed with the ones still to run after it.
 */
export type ResumePoint =
  | {
      readonly kind: 'forward';
      readonly stage: number;
      readonly pending: readonly PendingStep[];
      /** A member of the stage that already failed for good: the stage still compensates. */
      readonly stageFailure?: SagaFailure | null;
    }
  | {
      readonly kind: 'compensate';
      readonly step: number;
      readonly attempt: number;
      readonly remaining: readonly number[];
    };

/** Waiting for an operator: a post-pivot step or a compensation exhausted its attempts. */
export interface FailedSaga extends SagaInstanceBase {
  readonly status: 'failed';
  readonly failedStep: number;
  readonly cause: SagaFailure;
  /** What a retry resumes; null only for instances stored before operator actions existed. */
  readonly resume: ResumePoint | null;
}

export type SagaInstance =
  RunningSaga | CompensatingSaga | CompletedSaga | CompensatedSaga | FailedSaga;
export type ActiveSaga = RunningSaga | CompensatingSaga;

export function isTerminal(instance: SagaInstance): boolean {
  return TERMINAL_STATUSES.includes(instance.status);
}
