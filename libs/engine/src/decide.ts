import { SagaDefinition, validate } from '@sagaflow/saga-dsl';
import {
  compensationFailed,
  compensationRetryDue,
  compensationSucceeded,
  failSaga,
  progressOf,
  resumeForward,
  startCompensation,
} from './compensation';
import { Decision } from './decision';
import { onOperatorAction } from './operator';
import { EngineContractError } from './engine-error';
import {
  abandonRetries,
  advance,
  forwardFailed,
  forwardRetryDue,
  forwardSucceeded,
} from './forward';
import {
  ReplyReceivedEvent,
  RetryDueEvent,
  SagaEvent,
  StartedEvent,
  TimedOutEvent,
} from './saga-event';
import { CompensatingSaga, PendingStep, RunningSaga, SagaInstance, Waiting } from './saga-instance';
import { deadlineKey } from './timers';
import { applied, EMPTY_TRAIL, extend, finish, Transition } from './transition';

/**
 * The engine core: given a definition, the stored instance (null before start) and an event,
 * returns the next instance with the effects to carry out and the journal lines to append —
 * or says why the event is ignored or rejected. Pure: no I/O, no clock, no randomness.
 *
 * @example
 * const d = decide(orderSaga, null, { type: 'started', sagaId, input, businessKey: null });
 * if (d.kind === 'applied') await store.save(d.next, d.effects, d.journal);
 */
export function decide(
  definition: SagaDefinition,
  instance: SagaInstance | null,
  event: SagaEvent,
): Decision {
  if (event.type === 'started') {
    if (instance)
      throw new EngineContractError(
        `saga ${instance.id} already exists: "started" is only valid for a new instance`,
      );
    return start(definition, event);
  }
  if (!instance)
    throw new EngineContractError(
      `"${event.type}" needs a stored instance; park events for unknown sagas instead`,
    );
  assertSameDefinition(definition, instance);
  switch (event.type) {
    case 'replyReceived':
      return onReply(definition, instance, event);
    case 'timedOut':
      return onTimeout(definition, instance, event);
    case 'retryDue':
      return onRetryDue(definition, instance, event);
    case 'deadlineReached':
      return onDeadline(definition, instance);
    case 'operatorAction': {
      const outcome = onOperatorAction(definition, instance, event);
      return outcome.ok ? bumped(instance, outcome.t) : outcome.decision;
    }
  }
}

function start(definition: SagaDefinition, event: StartedEvent): Decision {
  const input = validate(definition.input, event.input);
  if (!input.ok)
    return {
      kind: 'rejected',
      reason: 'invalid-input',
      message: `input of saga "${definition.compiled.name}" is invalid`,
      errors: input.errors,
    };
  const progress = {
    id: event.sagaId,
    sagaType: definition.compiled.name,
    sagaVersion: definition.compiled.version,
    version: 1,
    businessKey: event.businessKey,
    data: input.value,
    completed: [],
  };
  const deadline = definition.compiled.deadlineMs;
  const timers =
    deadline === null
      ? []
      : [
          {
            type: 'scheduleTimer' as const,
            key: deadlineKey(event.sagaId),
            delayMs: deadline,
            event: { type: 'deadlineReached' as const },
          },
        ];
  return applied(
    advance(
      definition,
      progress,
      0,
      extend(EMPTY_TRAIL, [{ type: 'saga.started', detail: { input: input.value } }], timers),
    ),
  );
}

function onReply(
  definition: SagaDefinition,
  instance: SagaInstance,
  event: ReplyReceivedEvent,
): Decision {
  const index = definition.steps.findIndex((s) => s.compiled.name === event.step);
  if (index === -1)
    return {
      kind: 'rejected',
      reason: 'unknown-step',
      message: `saga "${instance.sagaType}" v${instance.sagaVersion} has no step "${event.step}"`,
      errors: [],
    };
  const target = awaiting(instance, index, event, 'reply');
  if (!target.ok) return target.decision;
  const trail = extend(EMPTY_TRAIL, [
    {
      type: 'reply.received',
      step: event.step,
      kind: event.kind,
      attempt: event.attempt,
      detail: { messageId: event.messageId, outcome: event.outcome },
    },
  ]);
  const outcome = event.outcome;
  if (outcome.status === 'failure') {
    const cause = {
      step: event.step,
      kind: event.kind,
      type: outcome.type,
      message: outcome.message,
    };
    return bumped(
      instance,
      target.instance.status === 'running'
        ? forwardFailed(
            definition,
            target.instance,
            target.member,
            cause,
            { retryable: outcome.retryable, outcomeUnknown: false, allowRetry: true },
            trail,
          )
        : compensationFailed(definition, target.instance, cause, outcome.retryable, trail),
    );
  }
  const step = definition.steps[index]!;
  const schema = event.kind === 'forward' ? step.command?.reply : step.compensation?.command.reply;
  const reply = schema
    ? validate(schema, outcome.data)
    : { ok: true as const, value: outcome.data };
  if (!reply.ok)
    return {
      kind: 'rejected',
      reason: 'invalid-reply',
      message: `reply to ${event.kind} "${event.step}" does not match its schema`,
      errors: reply.errors,
    };
  return bumped(
    instance,
    target.instance.status === 'running'
      ? forwardSucceeded(definition, target.instance, target.member, reply.value, trail)
      : compensationSucceeded(definition, target.instance, trail),
  );
}

/** A timeout: retry, compensate or park, as the step says; compensations always retry. */
function onTimeout(
  definition: SagaDefinition,
  instance: SagaInstance,
  event: TimedOutEvent,
): Decision {
  const index = definition.steps.findIndex((s) => s.compiled.name === event.step);
  const target = awaiting(instance, index, event, 'reply');
  if (!target.ok) return target.decision;
  const trail = extend(EMPTY_TRAIL, [
    { type: 'step.timedOut', step: event.step, kind: event.kind, attempt: event.attempt },
  ]);
  const cause = {
    step: event.step,
    kind: event.kind,
    type: 'timeout',
    message: `no reply to ${event.kind} attempt ${event.attempt} in time`,
  };
  if (target.instance.status === 'compensating')
    return bumped(instance, compensationFailed(definition, target.instance, cause, true, trail));
  const policy = definition.steps[index]!.compiled.onTimeout;
  if (policy === 'park')
    return bumped(
      instance,
      failSaga(
        definition,
        progressOf(target.instance),
        index,
        cause,
        resumeForward(target.instance),
        trail,
      ),
    );
  const retry = policy === 'retry';
  return bumped(
    instance,
    forwardFailed(
      definition,
      target.instance,
      target.member,
      cause,
      { retryable: retry, outcomeUnknown: true, allowRetry: retry },
      trail,
    ),
  );
}

function onRetryDue(
  definition: SagaDefinition,
  instance: SagaInstance,
  event: RetryDueEvent,
): Decision {
  const index = definition.steps.findIndex((s) => s.compiled.name === event.step);
  const target = awaiting(instance, index, event, 'retry');
  if (!target.ok) return target.decision;
  return bumped(
    instance,
    target.instance.status === 'running'
      ? forwardRetryDue(definition, target.instance, target.member, EMPTY_TRAIL)
      : compensationRetryDue(definition, target.instance, EMPTY_TRAIL),
  );
}

/**
 * The saga's deadline. Before the pivot: start nothing new, wait for the replies already
 * awaited, then compensate. After the pivot it can only go forward, so it is only recorded.
 */
function onDeadline(definition: SagaDefinition, instance: SagaInstance): Decision {
  if (instance.status !== 'running')
    return {
      kind: 'ignored',
      reason: 'late',
      message: `the deadline passed while the saga was ${instance.status}`,
    };
  const pivot = definition.compiled.pivotIndex;
  const pastPivot = pivot !== null && instance.completed.some((c) => c.index === pivot);
  const trail = extend(EMPTY_TRAIL, [{ type: 'saga.deadlineReached', detail: { pastPivot } }]);
  if (pastPivot) return bumped(instance, finish(instance, trail));
  const stage = definition.compiled.stages[instance.stage]!;
  const cause = {
    step: stage.name,
    kind: 'forward' as const,
    type: 'deadline',
    message: `the saga did not finish within ${definition.compiled.deadlineMs} ms`,
  };
  const settled = abandonRetries(definition, instance);
  if (settled.pivotUnknown !== null)
    return bumped(
      instance,
      failSaga(
        definition,
        progressOf(settled.instance),
        settled.pivotUnknown,
        cause,
        resumeForward(instance),
        trail,
      ),
    );
  if (settled.instance.pending.length === 0)
    return bumped(
      instance,
      startCompensation(definition, progressOf(settled.instance), cause, trail),
    );
  return bumped(
    instance,
    finish({ ...settled.instance, stageFailure: instance.stageFailure ?? cause }, trail),
  );
}

type Target =
  | { ok: true; instance: RunningSaga; member: PendingStep }
  | { ok: true; instance: CompensatingSaga; member: PendingStep }
  | { ok: false; decision: Decision };

/** Is the instance waiting for exactly this step, kind, attempt (and reply or retry)? Anything else changes nothing. */
function awaiting(
  instance: SagaInstance,
  index: number,
  event: { step: string; kind: string; attempt: number },
  waiting: Waiting,
): Target {
  const what = `${event.kind} "${event.step}" attempt ${event.attempt}`;
  if (instance.status === 'running' && event.kind === 'forward') {
    const member = instance.pending.find(
      (p) => p.step === index && p.attempt === event.attempt && p.waiting === waiting,
    );
    if (member) return { ok: true, instance, member };
  } else if (instance.status === 'compensating' && event.kind === 'compensate') {
    const { currentStep, attempt } = instance;
    if (currentStep === index && attempt === event.attempt && instance.waiting === waiting)
      return { ok: true, instance, member: { step: currentStep, attempt, waiting } };
  }
  if (instance.status !== 'running' && instance.status !== 'compensating') {
    return {
      ok: false,
      decision: {
        kind: 'ignored',
        reason: 'late',
        message: `${what} arrived after the saga became ${instance.status}`,
      },
    };
  }
  return {
    ok: false,
    decision: { kind: 'ignored', reason: 'stale', message: `${what} is not what the saga awaits` },
  };
}

/** Exactly one version step per applied transition, whatever path produced it. */
function bumped(before: SagaInstance, t: Transition): Decision {
  return applied({ ...t, next: { ...t.next, version: before.version + 1 } });
}

function assertSameDefinition(definition: SagaDefinition, instance: SagaInstance): void {
  const { name, version } = definition.compiled;
  if (instance.sagaType !== name || instance.sagaVersion !== version) {
    throw new EngineContractError(
      `instance ${instance.id} is ${instance.sagaType} v${instance.sagaVersion} but was given ${name} v${version}: load the definition the instance started with`,
    );
  }
}
