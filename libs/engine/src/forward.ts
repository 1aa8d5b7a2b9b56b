import { decideRetry } from '@sagaflow/compensation';
import { SagaDefinition } from '@sagaflow/saga-dsl';
import { sendAttempt } from './commands';
import { failSaga, progressOf, resumeForward, startCompensation } from './compensation';
import { PendingStep, RunningSaga, SagaFailure } from './saga-instance';
import { enterStage, failedLine, guard, Progress } from './stage';
import { cancelTimeoutIfArmed, scheduleRetry } from './timers';
import { extend, finish, Trail, Transition } from './transition';

/** Starts a stage; if entering it fails, handles that failure like any other. */
export function advance(
  definition: SagaDefinition,
  progress: Progress,
  stage: number,
  trail: Trail,
): Transition {
  const entered = enterStage(definition, progress, stage, trail);
  if (entered.ok) return entered.t;
  return failedAt(
    definition,
    progress,
    stage,
    entered.step,
    entered.failure,
    extend(trail, [failedLine(entered.failure, undefined, false)]),
  );
}

/** A step of the current stage succeeded: record its log, fold its reply, move on when the stage is done. */
export function forwardSucceeded(
  definition: SagaDefinition,
  instance: RunningSaga,
  member: PendingStep,
  reply: unknown,
  trail: Trail,
): Transition {
  const step = definition.steps[member.step]!;
  const name = step.compiled.name;
  const done = extend(
    trail,
    [],
    cancelTimeoutIfArmed(definition, instance.id, member.step, 'forward', member.attempt),
  );
  const completed = [...instance.completed, { index: member.step, log: reply }];
  const folded = guard(name, 'on-reply-threw', () => step.onReply(instance.data, reply));
  // The participant applied the step even if onReply threw: it counts as completed either way.
  if (!folded.ok)
    return finalFailure(
      definition,
      { ...instance, completed },
      member.step,
      folded.failure,
      extend(done, [failedLine(folded.failure, member.attempt, false)]),
    );
  const next: RunningSaga = {
    ...instance,
    data: folded.value,
    completed,
    pending: instance.pending.filter((p) => p.step !== member.step),
  };
  if (step.compiled.kind === 'pivot')
    return advance(definition, progressOf(next), instance.stage + 1, done);
  if (next.pending.length > 0) return finish(next, done);
  if (next.stageFailure)
    return startCompensation(definition, progressOf(next), next.stageFailure, done);
  return advance(definition, progressOf(next), instance.stage + 1, done);
}

export interface FailureFacts {
  /** What the participant said; timeouts with `onTimeout: 'retry'` count as retryable. */
  readonly retryable: boolean;
  /** A timeout: the attempt may have been applied. */
  readonly outcomeUnknown: boolean;
  /** False when the step's policy forbids another attempt (`onTimeout: 'compensate'`). */
  readonly allowRetry: boolean;
}

/**
 * A step attempt failed or timed out. Retry it by its policy (with backoff) unless the stage
 * already failed; otherwise it failed for good. When the saga gives up on an attempt that timed
 * out, the step may have been applied, so it is compensated too — or, for a pivot, an operator
 * decides.
 */
export function forwardFailed(
  definition: SagaDefinition,
  instance: RunningSaga,
  member: PendingStep,
  failure: SagaFailure,
  facts: FailureFacts,
  trail: Trail,
): Transition {
  const step = definition.steps[member.step]!.compiled;
  const cancel = facts.outcomeUnknown
    ? []
    : cancelTimeoutIfArmed(definition, instance.id, member.step, 'forward', member.attempt);
  const failed = extend(trail, [failedLine(failure, member.attempt, facts.retryable)], cancel);
  const seed = `${instance.id}:${step.name}:forward:${member.attempt}`;
  const decision =
    instance.stageFailure || !facts.allowRetry
      ? ({ retry: false } as const)
      : decideRetry(
          step.retry,
          { retryable: facts.retryable, type: failure.type },
          member.attempt,
          seed,
        );
  if (!decision.retry) {
    if (facts.outcomeUnknown && step.kind === 'pivot')
      return failSaga(
        definition,
        progressOf(instance),
        member.step,
        failure,
        resumeForward(instance),
        failed,
      );
    const progress = facts.outcomeUnknown
      ? {
          ...instance,
          completed: [
            ...instance.completed,
            { index: member.step, log: undefined, unknown: true as const },
          ],
        }
      : instance;
    return finalFailure(definition, progress, member.step, failure, failed);
  }
  const attempt = member.attempt + 1;
  const retrying = extend(failed, [
    {
      type: 'step.retrying',
      step: step.name,
      kind: 'forward',
      attempt,
      detail: { delayMs: decision.delayMs },
    },
  ]);
  if (decision.delayMs === 0)
    return sendRetry(
      definition,
      instance,
      { step: member.step, attempt, waiting: 'reply' },
      retrying,
    );
  const waiting = replace(instance, {
    step: member.step,
    attempt,
    waiting: 'retry',
    ...(facts.outcomeUnknown ? { afterTimeout: true as const } : {}),
  });
  return finish(
    waiting,
    extend(
      retrying,
      [],
      [scheduleRetry(instance.id, step.name, 'forward', attempt, decision.delayMs)],
    ),
  );
}

/** The backoff before the next attempt is over: send it. */
export function forwardRetryDue(
  definition: SagaDefinition,
  instance: RunningSaga,
  member: PendingStep,
  trail: Trail,
): Transition {
  return sendRetry(definition, instance, { ...member, waiting: 'reply' }, trail);
}

function sendRetry(
  definition: SagaDefinition,
  instance: RunningSaga,
  member: PendingStep,
  trail: Trail,
): Transition {
  const next = replace(instance, member);
  const sent = sendAttempt(definition, next, member.step, 'forward', member.attempt, trail);
  if (!sent.ok)
    return finalFailure(
      definition,
      next,
      member.step,
      sent.failure,
      extend(trail, [failedLine(sent.failure, member.attempt, false)]),
    );
  return finish(next, sent.trail);
}

/**
 * A step failed for good. Past the pivot nothing can be undone, so the saga waits for an
 * operator. Before it, the saga compensates — once the other steps of the stage settle.
 */
export function finalFailure(
  definition: SagaDefinition,
  instance: RunningSaga,
  index: number,
  failure: SagaFailure,
  trail: Trail,
): Transition {
  if (definition.steps[index]!.compiled.kind === 'retriable' || pastPivot(definition, instance)) {
    return failSaga(
      definition,
      progressOf(instance),
      index,
      failure,
      resumeForward(instance),
      trail,
    );
  }
  const settled = abandonRetries(definition, {
    ...instance,
    pending: instance.pending.filter((p) => p.step !== index),
  });
  if (settled.pivotUnknown !== null)
    return failSaga(
      definition,
      progressOf(settled.instance),
      settled.pivotUnknown,
      failure,
      resumeForward(instance),
      trail,
    );
  const stageFailure = instance.stageFailure ?? failure;
  if (settled.instance.pending.length > 0)
    return finish({ ...settled.instance, stageFailure }, trail);
  return startCompensation(definition, progressOf(settled.instance), stageFailure, trail);
}

/**
 * Stops every step of the stage that waits for a retry: no new attempts once the stage failed.
 * One whose last attempt timed out may have been applied, so it counts as completed with an
 * unknown outcome (and will be compensated); a pivot in that state is reported instead.
 */
export function abandonRetries(
  definition: SagaDefinition,
  instance: RunningSaga,
): { instance: RunningSaga; pivotUnknown: number | null } {
  const retrying = instance.pending.filter((p) => p.waiting === 'retry');
  const unknown = retrying.filter((p) => p.afterTimeout);
  const pivot = unknown.find((p) => definition.steps[p.step]!.compiled.kind === 'pivot');
  const completed = [
    ...instance.completed,
    ...unknown.map((p) => ({ index: p.step, log: undefined, unknown: true as const })),
  ];
  const pending = instance.pending.filter((p) => p.waiting === 'reply');
  return { instance: { ...instance, completed, pending }, pivotUnknown: pivot ? pivot.step : null };
}

export function pastPivot(definition: SagaDefinition, progress: Progress): boolean {
  const pivot = definition.compiled.pivotIndex;
  return pivot !== null && progress.completed.some((c) => c.index === pivot && !c.unknown);
}

/**
 * A failure while entering stages from `stage` on: nothing entered in this decision is kept
 * (local steps' data, messages), so a retry enters again from `stage`.
 */
function failedAt(
  definition: SagaDefinition,
  progress: Progress,
  stage: number,
  index: number,
  failure: SagaFailure,
  trail: Trail,
): Transition {
  if (pastPivot(definition, progress)) {
    const resume = { kind: 'forward' as const, stage, pending: [] };
    return failSaga(definition, progress, index, failure, resume, trail);
  }
  return startCompensation(definition, progress, failure, trail);
}

function replace(instance: RunningSaga, member: PendingStep): RunningSaga {
  return {
    ...instance,
    pending: instance.pending.map((p) => (p.step === member.step ? member : p)),
  };
}
