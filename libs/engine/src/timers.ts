import { SagaDefinition } from '@sagaflow/saga-dsl';
import { CancelTimerEffect, ScheduleTimerEffect } from './decision';
import { CommandKind } from './saga-instance';

/** Timer keys are deterministic, so the shell can store them idempotently. */
export function attemptTimerKey(
  sagaId: string,
  step: string,
  kind: CommandKind,
  attempt: number,
  what: 'timeout' | 'retry',
): string {
  return `${sagaId}:${step}:${kind}:${attempt}:${what}`;
}

export function deadlineKey(sagaId: string): string {
  return `${sagaId}:deadline`;
}

export function scheduleTimeout(
  sagaId: string,
  step: string,
  kind: CommandKind,
  attempt: number,
  delayMs: number,
): ScheduleTimerEffect {
  return {
    type: 'scheduleTimer',
    key: attemptTimerKey(sagaId, step, kind, attempt, 'timeout'),
    delayMs,
    event: { type: 'timedOut', step, kind, attempt },
  };
}

export function scheduleRetry(
  sagaId: string,
  step: string,
  kind: CommandKind,
  attempt: number,
  delayMs: number,
): ScheduleTimerEffect {
  return {
    type: 'scheduleTimer',
    key: attemptTimerKey(sagaId, step, kind, attempt, 'retry'),
    delayMs,
    event: { type: 'retryDue', step, kind, attempt },
  };
}

export function cancelTimeout(
  sagaId: string,
  step: string,
  kind: CommandKind,
  attempt: number,
): CancelTimerEffect {
  return { type: 'cancelTimer', key: attemptTimerKey(sagaId, step, kind, attempt, 'timeout') };
}

/** Cancels an attempt's timeout, if the step has one (otherwise none was armed). */
export function cancelTimeoutIfArmed(
  definition: SagaDefinition,
  sagaId: string,
  index: number,
  kind: CommandKind,
  attempt: number,
): CancelTimerEffect[] {
  const step = definition.steps[index]!.compiled;
  const timeout = kind === 'forward' ? step.timeoutMs : step.compensationTimeoutMs;
  return timeout === null ? [] : [cancelTimeout(sagaId, step.name, kind, attempt)];
}
