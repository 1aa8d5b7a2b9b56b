import { SagaDefinition, validate } from '@sagaflow/saga-dsl';
import { sendAttempt } from './commands';
import {
  compensationRetryDue,
  compensationSucceeded,
  progressOf,
  startCompensation,
} from './compensation';
import { CancelTimerEffect, Decision, JournalEntry, SendCommandEffect } from './decision';
import { advance, forwardRetryDue, forwardSucceeded, pastPivot } from './forward';
import { OperatorAction, OperatorActionEvent } from './saga-event';
import {
  CompensatingSaga,
  FailedSaga,
  PendingStep,
  ResumePoint,
  RunningSaga,
  SagaInstance,
} from './saga-instance';
import { attemptTimerKey, cancelTimeoutIfArmed } from './timers';
import { EMPTY_TRAIL, extend, finish, Trail, Transition } from './transition';

/** An operator action either becomes a transition, or is refused with the reason. */
export type ActionOutcome =
  | { readonly ok: true; readonly t: Transition }
  | { readonly ok: false; readonly decision: Decision };

/**
 * Operator actions go through the same core as replies and timers, so an operator can only put
 * a saga where the engine itself could have put it. The first journal line says who and why.
 */
export function onOperatorAction(
  definition: SagaDefinition,
  instance: SagaInstance,
  event: OperatorActionEvent,
): ActionOutcome {
  const trail = extend(EMPTY_TRAIL, [actionLine(event)]);
  const action = event.action;
  switch (action.type) {
    case 'retry':
      return retry(definition, instance, trail);
    case 'resume':
      return resume(definition, instance, trail);
    case 'compensate':
    case 'cancel':
      return compensateNow(definition, instance, event, trail);
    case 'skip':
      return skip(definition, instance, action, trail);
    case 'markCompensated':
      return markCompensated(definition, instance, trail);
  }
}

function actionLine(event: OperatorActionEvent): JournalEntry {
  const { action } = event;
  return {
    type: 'operator.action',
    ...(action.type === 'skip' ? { step: action.step } : {}),
    detail: {
      action: action.type,
      actor: event.actor,
      reason: event.reason,
      ...(action.type === 'skip' ? { reply: action.reply } : {}),
      ...(action.type === 'markCompensated' ? { evidence: action.evidence } : {}),
    },
  };
}

function illegal(message: string): ActionOutcome {
  return {
    ok: false,
    decision: { kind: 'rejected', reason: 'illegal-action', message, errors: [] },
  };
}

const ok = (t: Transition): ActionOutcome => ({ ok: true, t });

/** A failed saga: re-send the failed forward steps of its stage, or the failed compensation. */
function retry(definition: SagaDefinition, instance: SagaInstance, trail: Trail): ActionOutcome {
  if (instance.status !== 'failed')
    return illegal(
      `retry applies to a failed saga; this one is ${instance.status}` +
        (instance.status === 'running' ? ' (resume sends attempts waiting for a backoff now)' : ''),
    );
  const point = instance.resume;
  if (!point)
    return illegal(
      `saga ${instance.id} failed before operator actions recorded where to resume; compensate it or mark it by hand`,
    );
  if (point.kind === 'compensate') {
    const next: CompensatingSaga = {
      ...progressOf(instance),
      status: 'compensating',
      currentStep: point.step,
      attempt: point.attempt + 1,
      waiting: 'reply',
      remaining: point.remaining,
      cause: instance.cause,
    };
    return ok(compensationRetryDue(definition, next, trail));
  }
  if (point.pending.length === 0)
    return ok(advance(definition, progressOf(instance), point.stage, trail));
  // Every outstanding member goes again, a member whose onReply threw too: the participant
  // answers a repeated idempotency key with its recorded reply, and onReply runs again.
  const resent = point.pending.map(nextAttempt);
  return ok(sendAll(definition, reopen(instance, point, resent), resent, trail));
}

/** A step that waited for its reply gets a new attempt; one that waited for a retry was never sent. */
function nextAttempt(p: PendingStep): PendingStep {
  return {
    step: p.step,
    attempt: p.waiting === 'reply' ? p.attempt + 1 : p.attempt,
    waiting: 'reply',
  };
}

/**
 * The failed saga running again in its stage, waiting for `pending`: their entries in
 * `completed` (an unknown outcome, or a reply whose onReply threw) go, as they are being
 * resolved again; a member that had failed for good still fails the stage.
 */
function reopen(
  instance: FailedSaga,
  point: Extract<ResumePoint, { kind: 'forward' }>,
  pending: readonly PendingStep[],
): RunningSaga {
  const resolving = new Set(pending.map((p) => p.step));
  return {
    ...progressOf(instance),
    completed: instance.completed.filter((c) => !resolving.has(c.index)),
    status: 'running',
    stage: point.stage,
    pending,
    stageFailure: point.stageFailure ?? null,
  };
}

function sendAll(
  definition: SagaDefinition,
  running: RunningSaga,
  members: readonly PendingStep[],
  trail: Trail,
): Transition {
  let t = finish(running, trail);
  for (const member of members) {
    // An earlier member's failure may have ended the stage, or abandoned this member.
    if (t.next.status !== 'running' || !t.next.pending.some((p) => p.step === member.step))
      continue;
    t = forwardRetryDue(definition, t.next, member, t);
  }
  return t;
}

/** Attempts waiting out a backoff are sent now; their retry timers are cancelled. */
function resume(definition: SagaDefinition, instance: SagaInstance, trail: Trail): ActionOutcome {
  if (instance.status === 'compensating' && instance.waiting === 'retry') {
    const cancel = cancelRetry(
      definition,
      instance.id,
      instance.currentStep,
      'compensate',
      instance.attempt,
    );
    return ok(compensationRetryDue(definition, instance, extend(trail, [], [cancel])));
  }
  if (instance.status !== 'running' || !instance.pending.some((p) => p.waiting === 'retry'))
    return illegal(
      `resume sends attempts that wait for a retry backoff; saga ${instance.id} is ${instance.status} with none waiting` +
        (instance.status === 'failed' ? ' (use retry for a failed saga)' : ''),
    );
  const waiting = instance.pending.filter((p) => p.waiting === 'retry');
  const cancels = waiting.map((p) =>
    cancelRetry(definition, instance.id, p.step, 'forward', p.attempt),
  );
  return ok(sendAll(definition, instance, waiting, extend(trail, [], cancels)));
}

function cancelRetry(
  definition: SagaDefinition,
  sagaId: string,
  index: number,
  kind: 'forward' | 'compensate',
  attempt: number,
): CancelTimerEffect {
  const name = definition.steps[index]!.compiled.name;
  return { type: 'cancelTimer', key: attemptTimerKey(sagaId, name, kind, attempt, 'retry') };
}

/**
 * Compensate (or cancel) now. Steps still outstanding may have been applied, so they are
 * compensated too (participants accept a compensation for a command they never applied). Not
 * past the pivot, and not while the pivot's outcome is unknown: that needs a retry or a skip.
 */
function compensateNow(
  definition: SagaDefinition,
  instance: SagaInstance,
  event: OperatorActionEvent,
  trail: Trail,
): ActionOutcome {
  const outstanding = outstandingSteps(instance);
  if (outstanding === null)
    return illegal(
      instance.status === 'failed' || instance.status === 'compensating'
        ? `saga ${instance.id} is already compensating (or failed while compensating): retry the compensation, or mark it compensated with evidence`
        : `saga ${instance.id} is ${instance.status}: there is nothing left to compensate`,
    );
  const progress = progressOf(instance);
  if (pastPivot(definition, progress))
    return illegal(
      `saga ${instance.id} is past its pivot, so nothing can be undone: retry or skip the remaining steps`,
    );
  const pivot = definition.compiled.pivotIndex;
  const pivotUnknown =
    outstanding.some((p) => p.step === pivot) ||
    instance.completed.some((c) => c.index === pivot && c.unknown);
  if (pivotUnknown)
    return illegal(
      `the pivot of saga ${instance.id} has an unknown outcome: wait for its reply, retry it, or skip it with its reply`,
    );
  const maybeApplied = outstanding.filter(
    (p) =>
      (p.waiting === 'reply' || p.afterTimeout) &&
      !instance.completed.some((c) => c.index === p.step),
  );
  const cancels = outstanding.map((p) =>
    p.waiting === 'retry'
      ? [cancelRetry(definition, instance.id, p.step, 'forward', p.attempt)]
      : cancelTimeoutIfArmed(definition, instance.id, p.step, 'forward', p.attempt),
  );
  const completed = [
    ...instance.completed,
    ...maybeApplied.map((p) => ({ index: p.step, log: undefined, unknown: true as const })),
  ];
  const cancelled = event.action.type === 'cancel';
  const cause = {
    step: stepName(definition, instance),
    kind: 'forward' as const,
    type: cancelled ? 'cancelled' : 'operator-compensate',
    message: `${cancelled ? 'cancelled' : 'compensated'} by ${event.actor}: ${event.reason}`,
  };
  return ok(
    startCompensation(
      definition,
      { ...progress, completed },
      cause,
      extend(trail, [], cancels.flat()),
    ),
  );
}

/** The forward steps still outstanding, or null when the saga is not going forward. */
function outstandingSteps(instance: SagaInstance): readonly PendingStep[] | null {
  if (instance.status === 'running') return instance.pending;
  if (instance.status !== 'failed' || instance.cause.kind !== 'forward') return null;
  return instance.resume?.kind === 'forward' ? instance.resume.pending : [];
}

function stepName(definition: SagaDefinition, instance: SagaInstance): string {
  if (instance.status === 'running') return definition.compiled.stages[instance.stage]!.name;
  if (instance.status === 'failed') return definition.steps[instance.failedStep]!.compiled.name;
  return definition.compiled.name;
}

/** The operator vouches for the step's outcome: its reply data goes through the step's schema and `onReply`. */
function skip(
  definition: SagaDefinition,
  instance: SagaInstance,
  action: Extract<OperatorAction, { type: 'skip' }>,
  trail: Trail,
): ActionOutcome {
  const index = definition.steps.findIndex((s) => s.compiled.name === action.step);
  if (index === -1)
    return {
      ok: false,
      decision: {
        kind: 'rejected',
        reason: 'unknown-step',
        message: `saga "${instance.sagaType}" v${instance.sagaVersion} has no step "${action.step}"`,
        errors: [],
      },
    };
  const schema = definition.steps[index]!.command?.reply;
  const reply = schema
    ? validate(schema, action.reply)
    : { ok: true as const, value: action.reply };
  if (!reply.ok)
    return {
      ok: false,
      decision: {
        kind: 'rejected',
        reason: 'invalid-reply',
        message: `the reply data for step "${action.step}" does not match its reply schema`,
        errors: reply.errors,
      },
    };
  if (instance.status === 'running') {
    const member = instance.pending.find((p) => p.step === index);
    if (!member) return notOutstanding(definition, instance, action.step);
    const cancel =
      member.waiting === 'retry'
        ? [cancelRetry(definition, instance.id, index, 'forward', member.attempt)]
        : [];
    return ok(
      forwardSucceeded(definition, instance, member, reply.value, extend(trail, [], cancel)),
    );
  }
  const point = instance.status === 'failed' ? instance.resume : null;
  const member =
    point?.kind === 'forward' ? point.pending.find((p) => p.step === index) : undefined;
  if (instance.status !== 'failed' || point?.kind !== 'forward' || !member)
    return notOutstanding(definition, instance, action.step);
  const others = point.pending.filter((p) => p !== member).map(nextAttempt);
  const t = sendAll(definition, reopen(instance, point, [member, ...others]), others, trail);
  if (t.next.status !== 'running' || !t.next.pending.some((p) => p.step === index)) return ok(t);
  return ok(forwardSucceeded(definition, t.next, member, reply.value, t));
}

function notOutstanding(
  definition: SagaDefinition,
  instance: SagaInstance,
  step: string,
): ActionOutcome {
  const names = (pending: readonly PendingStep[]) =>
    pending.map((p) => definition.steps[p.step]!.compiled.name).join(', ') || 'none';
  const outstanding =
    instance.status === 'running'
      ? names(instance.pending)
      : instance.status === 'failed' && instance.resume?.kind === 'forward'
        ? names(instance.resume.pending)
        : 'none';
  return illegal(
    `step "${step}" is not an outstanding forward step of saga ${instance.id} (${instance.status}; outstanding: ${outstanding})`,
  );
}

/** A compensation done by hand (evidence in the journal): the saga goes on to the next one. */
function markCompensated(
  definition: SagaDefinition,
  instance: SagaInstance,
  trail: Trail,
): ActionOutcome {
  if (instance.status === 'compensating') {
    const cancel =
      instance.waiting === 'retry'
        ? [
            cancelRetry(
              definition,
              instance.id,
              instance.currentStep,
              'compensate',
              instance.attempt,
            ),
          ]
        : [];
    return ok(compensationSucceeded(definition, instance, extend(trail, [], cancel)));
  }
  if (instance.status !== 'failed' || instance.resume?.kind !== 'compensate')
    return illegal(
      `mark-compensated applies to a saga whose compensation failed or is stuck; saga ${instance.id} is ${instance.status}` +
        (instance.status === 'failed'
          ? ' after a forward step failed (retry, skip or compensate it)'
          : ''),
    );
  const point = instance.resume;
  const current: CompensatingSaga = {
    ...progressOf(instance),
    status: 'compensating',
    currentStep: point.step,
    attempt: point.attempt,
    waiting: 'reply',
    remaining: point.remaining,
    cause: instance.cause,
  };
  return ok(compensationSucceeded(definition, current, trail));
}

/** One compensation command a dry run says will be sent, in order. */
export interface PlannedCommand {
  readonly step: string;
  readonly commandType: string;
  readonly topic: string;
  readonly idempotencyKey: string;
  readonly compensates: string | null;
  readonly payload: unknown;
}

/**
 * Every compensation a compensating saga will send, in order, with the payloads it will carry:
 * the current one, then the rest (data does not change while compensating, so payloads are
 * known now). A failing payload function ends the list, as it would fail the saga.
 */
export function compensationPlan(
  definition: SagaDefinition,
  instance: SagaInstance,
): PlannedCommand[] {
  if (instance.status !== 'compensating') return [];
  const plan: PlannedCommand[] = [];
  for (const index of [instance.currentStep, ...instance.remaining]) {
    const sent = sendAttempt(definition, instance, index, 'compensate', 1, EMPTY_TRAIL);
    if (!sent.ok) break;
    const effect = sent.trail.effects.find(
      (e): e is SendCommandEffect => e.type === 'sendCommand',
    )!;
    const { step, commandType, topic, idempotencyKey, compensates, payload } = effect;
    plan.push({ step, commandType, topic, idempotencyKey, compensates, payload });
  }
  return plan;
}
