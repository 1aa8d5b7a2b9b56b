import { CompletedStep } from '@sagaflow/compensation';
import {
  PendingStep,
  ResumePoint,
  SagaFailure,
  SagaInstance,
  SagaStatus,
  Waiting,
} from '@sagaflow/engine';

/** The columns of `saga_instance` the engine state maps onto. */
export interface SagaInstanceRow {
  readonly id: string;
  readonly saga_type: string;
  readonly saga_version: number;
  readonly status: SagaStatus;
  readonly current_step: number | null;
  readonly attempt: number | null;
  readonly data: unknown;
  readonly state: StoredState;
  readonly last_error: SagaFailure | null;
  readonly business_key: string | null;
  readonly version: number;
  readonly created_at?: Date;
  readonly updated_at?: Date;
}

/** The parts of the state that only the engine reads, kept together in one jsonb column. */
interface StoredState {
  readonly completed: readonly CompletedStep[];
  readonly stage?: number;
  readonly pending?: readonly PendingStep[];
  readonly stageFailure?: SagaFailure | null;
  readonly waiting?: Waiting;
  readonly remaining?: readonly number[];
  readonly failedStep?: number;
  readonly resume?: ResumePoint | null;
}

export function toInstance(row: SagaInstanceRow): SagaInstance {
  const base = {
    id: row.id,
    sagaType: row.saga_type,
    sagaVersion: row.saga_version,
    version: row.version,
    businessKey: row.business_key,
    data: row.data,
    completed: row.state.completed,
  };
  switch (row.status) {
    case 'running':
      return {
        ...base,
        status: 'running',
        stage: row.state.stage!,
        pending: row.state.pending!,
        stageFailure: row.state.stageFailure ?? null,
      };
    case 'compensating':
      return {
        ...base,
        status: 'compensating',
        currentStep: row.current_step!,
        attempt: row.attempt!,
        waiting: row.state.waiting ?? 'reply',
        remaining: row.state.remaining ?? [],
        cause: row.last_error!,
      };
    case 'completed':
      return { ...base, status: 'completed' };
    case 'compensated':
      return { ...base, status: 'compensated', cause: row.last_error! };
    case 'failed':
      return {
        ...base,
        status: 'failed',
        failedStep: row.state.failedStep!,
        cause: row.last_error!,
        resume: row.state.resume ?? null,
      };
  }
}

/**
 * `current_step` and `attempt` are columns for queries and the CHECK constraint: the step
 * being undone while compensating, the first outstanding step of the stage while running.
 */
export function toRow(instance: SagaInstance): SagaInstanceRow {
  const active =
    instance.status === 'running'
      ? instance.pending[0]
      : instance.status === 'compensating'
        ? { step: instance.currentStep, attempt: instance.attempt }
        : undefined;
  return {
    id: instance.id,
    saga_type: instance.sagaType,
    saga_version: instance.sagaVersion,
    status: instance.status,
    current_step: active ? active.step : null,
    attempt: active ? active.attempt : null,
    data: instance.data,
    state: {
      completed: instance.completed,
      ...(instance.status === 'running'
        ? { stage: instance.stage, pending: instance.pending, stageFailure: instance.stageFailure }
        : {}),
      ...(instance.status === 'compensating'
        ? { remaining: instance.remaining, waiting: instance.waiting }
        : {}),
      ...(instance.status === 'failed'
        ? { failedStep: instance.failedStep, resume: instance.resume }
        : {}),
    },
    last_error: 'cause' in instance ? instance.cause : null,
    business_key: instance.businessKey,
    version: instance.version,
  };
}
