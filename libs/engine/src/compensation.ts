import { planCompensation } from '@sagaflow/compensation';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { buildCommand, sentJournal } from './commands';
import { CompensatingSaga, SagaFailure, SagaInstance } from './saga-instance';
import { Transition, transition } from './transition';

/** Turns a failed saga around: undo the completed compensatable steps, latest first. */
export function startCompensation(
  definition: SagaDefinition,
  instance: SagaInstance,
  cause: SagaFailure,
): Transition {
  const plan = planCompensation(definition.compiled, instance.completed).map((p) => p.index);
  const journal = [
    {
      type: 'saga.compensating' as const,
      step: cause.step,
      detail: { cause, plan: plan.map((i) => definition.steps[i]!.compiled.name) },
    },
  ];
  return compensateNext(definition, instance, plan, cause, journal);
}

/** The current compensation succeeded: move to the next one, or finish as `compensated`. */
export function compensationSucceeded(
  definition: SagaDefinition,
  instance: CompensatingSaga,
): Transition {
  return compensateNext(definition, instance, instance.remaining, instance.cause, []);
}

/** The current compensation failed: retry it while attempts remain, else wait for an operator. */
export function compensationFailed(
  definition: SagaDefinition,
  instance: CompensatingSaga,
  failure: SagaFailure,
  retryable: boolean,
): Transition {
  const step = definition.steps[instance.currentStep]!.compiled;
  if (retryable && instance.attempt < step.compensationMaxAttempts) {
    return sendCompensation(definition, { ...instance, attempt: instance.attempt + 1 }, [
      {
        type: 'step.retrying',
        step: step.name,
        kind: 'compensate',
        attempt: instance.attempt + 1,
        detail: { failure },
      },
    ]);
  }
  return failSaga(instance, instance.currentStep, failure);
}

function compensateNext(
  definition: SagaDefinition,
  instance: SagaInstance,
  plan: readonly number[],
  cause: SagaFailure,
  journal: Transition['journal'],
): Transition {
  const [current, ...remaining] = plan;
  const base = stripActive(instance);
  if (current === undefined) {
    return transition({ ...base, status: 'compensated', cause }, [
      ...journal,
      { type: 'saga.compensated', detail: { cause } },
    ]);
  }
  const next: CompensatingSaga = {
    ...base,
    status: 'compensating',
    currentStep: current,
    attempt: 1,
    remaining,
    cause,
  };
  return sendCompensation(definition, next, [...journal]);
}

function sendCompensation(
  definition: SagaDefinition,
  next: CompensatingSaga,
  journal: Transition['journal'],
): Transition {
  const built = buildCommand(definition, next, next.currentStep, 'compensate', next.attempt);
  if (!built.ok) return failSaga(next, next.currentStep, built.failure, journal);
  return transition(next, [...journal, sentJournal(built.effect)], [built.effect]);
}

/** `failed` is not terminal: the saga waits for an operator, with the reason on record. */
export function failSaga(
  instance: SagaInstance,
  failedStep: number,
  cause: SagaFailure,
  journal: Transition['journal'] = [],
): Transition {
  return transition({ ...stripActive(instance), status: 'failed', failedStep, cause }, [
    ...journal,
    { type: 'saga.failed', step: cause.step, kind: cause.kind, detail: { cause } },
  ]);
}

/** Drops the fields that only active states have, so a terminal state carries none of them. */
export function stripActive(instance: SagaInstance) {
  const { id, sagaType, sagaVersion, version, businessKey, data, completed } = instance;
  return { id, sagaType, sagaVersion, version, businessKey, data, completed };
}
