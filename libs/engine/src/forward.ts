import { SagaDefinition } from '@sagaflow/saga-dsl';
import { buildCommand, sentJournal } from './commands';
import { failSaga, startCompensation, stripActive } from './compensation';
import { RunningSaga, SagaFailure, SagaInstance } from './saga-instance';
import { Transition, transition } from './transition';

/** Sends step `index` (attempt 1), or completes the saga when no step is left. */
export function advanceTo(
  definition: SagaDefinition,
  instance: SagaInstance,
  index: number,
): Transition {
  if (index >= definition.steps.length) {
    return transition({ ...stripActive(instance), status: 'completed' }, [
      { type: 'saga.completed' },
    ]);
  }
  return sendForward(
    definition,
    { ...stripActive(instance), status: 'running', currentStep: index, attempt: 1 },
    [],
  );
}

/** Records the reply log, folds the reply into the data, and moves on. */
export function forwardSucceeded(
  definition: SagaDefinition,
  instance: RunningSaga,
  reply: unknown,
): Transition {
  const step = definition.steps[instance.currentStep]!;
  const completed = [...instance.completed, { index: instance.currentStep, log: reply }];
  let data: unknown;
  try {
    data = step.onReply(instance.data, reply);
  } catch (error) {
    return onReplyThrew(definition, { ...instance, completed }, error);
  }
  return advanceTo(definition, { ...instance, data, completed }, instance.currentStep + 1);
}

/**
 * The participant applied the step but the author's onReply threw. The effect happened, so
 * the step counts as completed: a compensatable step is undone with the rest; after a pivot
 * nothing can be undone, so the saga waits for an operator.
 */
function onReplyThrew(
  definition: SagaDefinition,
  instance: RunningSaga,
  error: unknown,
): Transition {
  const step = definition.steps[instance.currentStep]!.compiled;
  const message = `onReply of step "${step.name}" threw: ${error instanceof Error ? error.message : String(error)}`;
  const cause = { step: step.name, kind: 'forward' as const, type: 'on-reply-threw', message };
  if (step.kind === 'compensatable') return startCompensation(definition, instance, cause);
  return failSaga(instance, instance.currentStep, cause);
}

/**
 * A forward step failed. Retry while a retryable failure has attempts left; before or at the
 * pivot, compensate; after the pivot the saga cannot go back, so it waits for an operator.
 */
export function forwardFailed(
  definition: SagaDefinition,
  instance: RunningSaga,
  cause: SagaFailure,
  retryable: boolean,
): Transition {
  const step = definition.steps[instance.currentStep]!.compiled;
  const failed = {
    type: 'step.failed' as const,
    step: step.name,
    kind: 'forward' as const,
    attempt: instance.attempt,
    detail: { failure: cause, retryable },
  };
  if (retryable && instance.attempt < step.maxAttempts) {
    const retry = {
      type: 'step.retrying' as const,
      step: step.name,
      kind: 'forward' as const,
      attempt: instance.attempt + 1,
    };
    return sendForward(definition, { ...instance, attempt: instance.attempt + 1 }, [failed, retry]);
  }
  if (step.kind === 'retriable') return failSaga(instance, instance.currentStep, cause, [failed]);
  const t = startCompensation(definition, instance, cause);
  return { ...t, journal: [failed, ...t.journal] };
}

function sendForward(
  definition: SagaDefinition,
  next: RunningSaga,
  journal: Transition['journal'],
): Transition {
  const built = buildCommand(definition, next, next.currentStep, 'forward', next.attempt);
  if (!built.ok) return forwardFailed(definition, next, built.failure, false);
  return transition(next, [...journal, sentJournal(built.effect)], [built.effect]);
}
