import { SagaDefinition } from '@sagaflow/saga-dsl';
import { messageOf, sendAttempt } from './commands';
import { JournalEntry } from './decision';
import { PendingStep, SagaFailure, SagaInstance } from './saga-instance';
import { deadlineKey } from './timers';
import { extend, finish, Trail, Transition } from './transition';

/** Data and completed steps: the part of an instance that survives every transition. */
export type Progress = Pick<
  SagaInstance,
  'id' | 'sagaType' | 'sagaVersion' | 'version' | 'businessKey' | 'data' | 'completed'
>;

export type StageOutcome =
  | { readonly ok: true; readonly t: Transition }
  | { readonly ok: false; readonly failure: SagaFailure; readonly step: number };

/**
 * Starts stage `index` and every stage after it that finishes at once: steps whose condition
 * is false are skipped, local steps transform the data, notifications are sent without waiting.
 * Stops at the first stage with steps to await, or completes the saga. A failure while entering
 * a stage discards that stage's messages (nothing is committed yet) and is returned.
 */
export function enterStage(
  definition: SagaDefinition,
  progress: Progress,
  index: number,
  trail: Trail,
): StageOutcome {
  let current = progress;
  let soFar = trail;
  for (let stage = index; stage < definition.compiled.stages.length; stage++) {
    const entered = enterOne(definition, current, stage, soFar);
    if (!entered.ok) return entered;
    if (entered.pending.length > 0) {
      return {
        ok: true,
        t: finish(
          {
            ...entered.progress,
            status: 'running',
            stage,
            pending: entered.pending,
            stageFailure: null,
          },
          entered.trail,
        ),
      };
    }
    current = entered.progress;
    soFar = entered.trail;
  }
  return { ok: true, t: complete(definition, current, soFar) };
}

type Entered =
  | { ok: true; progress: Progress; pending: PendingStep[]; trail: Trail }
  | { ok: false; failure: SagaFailure; step: number };

function enterOne(
  definition: SagaDefinition,
  progress: Progress,
  stage: number,
  trail: Trail,
): Entered {
  let current = progress;
  let soFar = trail;
  const pending: PendingStep[] = [];
  for (const index of definition.compiled.stages[stage]!.steps) {
    const step = definition.steps[index]!;
    const name = step.compiled.name;
    const run = guard(name, 'condition-threw', () => step.when === null || step.when(current.data));
    if (!run.ok) return { ok: false, failure: run.failure, step: index };
    if (!run.value) {
      soFar = extend(soFar, [{ type: 'step.skipped', step: name }]);
    } else if (step.compiled.kind === 'local') {
      const data = guard(name, 'local-step-threw', () => step.onReply(current.data, undefined));
      if (!data.ok) return { ok: false, failure: data.failure, step: index };
      current = { ...current, data: data.value };
      soFar = extend(soFar, [{ type: 'step.completed', step: name }]);
    } else {
      const sent = sendAttempt(definition, current as SagaInstance, index, 'forward', 1, soFar);
      if (!sent.ok) return { ok: false, failure: sent.failure, step: index };
      soFar = sent.trail;
      if (step.compiled.kind !== 'notification')
        pending.push({ step: index, attempt: 1, waiting: 'reply' });
    }
  }
  return { ok: true, progress: current, pending, trail: soFar };
}

function complete(definition: SagaDefinition, progress: Progress, trail: Trail): Transition {
  const cancel =
    definition.compiled.deadlineMs === null
      ? []
      : [{ type: 'cancelTimer' as const, key: deadlineKey(progress.id) }];
  return finish(
    { ...progress, status: 'completed' },
    extend(trail, [{ type: 'saga.completed' }], cancel),
  );
}

type Guarded<T> = { ok: true; value: T } | { ok: false; failure: SagaFailure };

/** Runs an author's function; a throw becomes a non-retryable step failure with the message. */
export function guard<T>(step: string, type: string, run: () => T): Guarded<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return {
      ok: false,
      failure: {
        step,
        kind: 'forward',
        type,
        message: `${type.replace(/-/g, ' ')} in step "${step}": ${messageOf(error)}`,
      },
    };
  }
}

export function failedLine(
  failure: SagaFailure,
  attempt: number | undefined,
  retryable: boolean,
): JournalEntry {
  return {
    type: 'step.failed',
    step: failure.step,
    kind: failure.kind,
    ...(attempt ? { attempt } : {}),
    detail: { failure, retryable },
  };
}
