import { decideRetry, planCompensation } from '@sagaflow/compensation';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { sendAttempt } from './commands';
import { CompensatingSaga, ResumePoint, RunningSaga, SagaFailure } from './saga-instance';
import { Progress } from './stage';
import { cancelTimeoutIfArmed, deadlineKey, scheduleRetry } from './timers';
import { extend, finish, Trail, Transition } from './transition';

/** Turns a failed saga around: undo what took effect, latest first (libs/compensation plans it). */
export function startCompensation(
  definition: SagaDefinition,
  progress: Progress,
  cause: SagaFailure,
  trail: Trail,
): Transition {
  const plan = planCompensation(definition.compiled, progress.completed).map((p) => p.index);
  const names = plan.map((i) => definition.steps[i]!.compiled.name);
  return compensateNext(
    definition,
    progress,
    plan,
    cause,
    extend(trail, [
      { type: 'saga.compensating', step: cause.step, detail: { cause, plan: names } },
    ]),
  );
}

/** The current compensation succeeded: on to the next one, or `compensated`. */
export function compensationSucceeded(
  definition: SagaDefinition,
  instance: CompensatingSaga,
  trail: Trail,
): Transition {
  const cancelled = extend(
    trail,
    [],
    cancelTimeoutIfArmed(
      definition,
      instance.id,
      instance.currentStep,
      'compensate',
      instance.attempt,
    ),
  );
  return compensateNext(
    definition,
    progressOf(instance),
    instance.remaining,
    instance.cause,
    cancelled,
  );
}

/**
 * The current compensation failed (or timed out): retry it by its policy, with backoff; when
 * attempts run out the saga becomes `failed` and waits for an operator — never a silent stop.
 */
export function compensationFailed(
  definition: SagaDefinition,
  instance: CompensatingSaga,
  failure: SagaFailure,
  retryable: boolean,
  trail: Trail,
): Transition {
  const step = definition.steps[instance.currentStep]!.compiled;
  const seed = `${instance.id}:${step.name}:compensate:${instance.attempt}`;
  const decision = decideRetry(
    step.compensationRetry,
    { retryable, type: failure.type },
    instance.attempt,
    seed,
  );
  // The attempt is over, so its timeout goes (after a timeout, cancelling is a no-op).
  const cancel = cancelTimeoutIfArmed(
    definition,
    instance.id,
    instance.currentStep,
    'compensate',
    instance.attempt,
  );
  const line = {
    type: 'step.failed' as const,
    step: step.name,
    kind: 'compensate' as const,
    attempt: instance.attempt,
    detail: { failure, retryable },
  };
  const failed = extend(trail, [line], cancel);
  if (!decision.retry)
    return failSaga(
      definition,
      progressOf(instance),
      instance.currentStep,
      failure,
      resumeCompensation(instance),
      failed,
    );
  const attempt = instance.attempt + 1;
  const retrying = extend(failed, [
    {
      type: 'step.retrying',
      step: step.name,
      kind: 'compensate',
      attempt,
      detail: { delayMs: decision.delayMs },
    },
  ]);
  if (decision.delayMs === 0)
    return sendCompensation(definition, { ...instance, attempt, waiting: 'reply' }, retrying);
  const waiting: CompensatingSaga = { ...instance, attempt, waiting: 'retry' };
  return finish(
    waiting,
    extend(
      retrying,
      [],
      [scheduleRetry(instance.id, step.name, 'compensate', attempt, decision.delayMs)],
    ),
  );
}

/** The backoff before the next compensation attempt is over. */
export function compensationRetryDue(
  definition: SagaDefinition,
  instance: CompensatingSaga,
  trail: Trail,
): Transition {
  return sendCompensation(definition, { ...instance, waiting: 'reply' }, trail);
}

function compensateNext(
  definition: SagaDefinition,
  progress: Progress,
  plan: readonly number[],
  cause: SagaFailure,
  trail: Trail,
): Transition {
  const [current, ...remaining] = plan;
  if (current === undefined) {
    return finish(
      { ...progress, status: 'compensated', cause },
      extend(
        trail,
        [{ type: 'saga.compensated', detail: { cause } }],
        cancelDeadline(definition, progress),
      ),
    );
  }
  const next: CompensatingSaga = {
    ...progress,
    status: 'compensating',
    currentStep: current,
    attempt: 1,
    waiting: 'reply',
    remaining,
    cause,
  };
  return sendCompensation(definition, next, trail);
}

function sendCompensation(
  definition: SagaDefinition,
  next: CompensatingSaga,
  trail: Trail,
): Transition {
  const sent = sendAttempt(definition, next, next.currentStep, 'compensate', next.attempt, trail);
  if (!sent.ok)
    return failSaga(
      definition,
      progressOf(next),
      next.currentStep,
      sent.failure,
      resumeCompensation(next),
      trail,
    );
  return finish(next, sent.trail);
}

/** `failed` is not terminal: the saga waits for an operator, with the reason on record. */
export function failSaga(
  definition: SagaDefinition,
  progress: Progress,
  failedStep: number,
  cause: SagaFailure,
  resume: ResumePoint,
  trail: Trail,
): Transition {
  const journal = [
    { type: 'saga.failed' as const, step: cause.step, kind: cause.kind, detail: { cause } },
  ];
  return finish(
    { ...progress, status: 'failed', failedStep, cause, resume },
    extend(trail, journal, cancelDeadline(definition, progress)),
  );
}

function cancelDeadline(definition: SagaDefinition, progress: Progress) {
  return definition.compiled.deadlineMs === null
    ? []
    : [{ type: 'cancelTimer' as const, key: deadlineKey(progress.id) }];
}

/** Drops the fields that only active states have. */
export function progressOf(instance: Progress): Progress {
  const { id, sagaType, sagaVersion, version, businessKey, data, completed } = instance;
  return { id, sagaType, sagaVersion, version, businessKey, data, completed };
}

/** A retry of a failed compensation re-runs it, then the ones after it. */
export function resumeCompensation(instance: CompensatingSaga): ResumePoint {
  return {
    kind: 'compensate',
    step: instance.currentStep,
    attempt: instance.attempt,
    remaining: instance.remaining,
  };
}

/** A retry of a failed forward step re-sends every step of its stage still outstanding. */
export function resumeForward(instance: RunningSaga): ResumePoint {
  return {
    kind: 'forward',
    stage: instance.stage,
    pending: instance.pending,
    stageFailure: instance.stageFailure,
  };
}
