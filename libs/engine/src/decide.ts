import { SagaDefinition, validate } from '@sagaflow/saga-dsl';
import { compensationFailed, compensationSucceeded } from './compensation';
import { Decision } from './decision';
import { EngineContractError } from './engine-error';
import { advanceTo, forwardFailed, forwardSucceeded } from './forward';
import { ReplyReceivedEvent, SagaEvent, StartedEvent, TimedOutEvent } from './saga-event';
import { ActiveSaga, SagaInstance } from './saga-instance';
import { Transition, applied, prepend } from './transition';

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
  if (event.type === 'replyReceived') return onReply(definition, instance, event);
  return onTimeout(definition, instance, event);
}

function start(definition: SagaDefinition, event: StartedEvent): Decision {
  const input = validate(definition.input, event.input);
  if (!input.ok) {
    return {
      kind: 'rejected',
      reason: 'invalid-input',
      message: `input of saga "${definition.compiled.name}" is invalid`,
      errors: input.errors,
    };
  }
  const fresh: SagaInstance = {
    id: event.sagaId,
    sagaType: definition.compiled.name,
    sagaVersion: definition.compiled.version,
    version: 1,
    businessKey: event.businessKey,
    data: input.value,
    completed: [],
    status: 'running',
    currentStep: 0,
    attempt: 1,
  };
  return applied(
    prepend(
      [{ type: 'saga.started', detail: { input: input.value } }],
      advanceTo(definition, fresh, 0),
    ),
  );
}

function onReply(
  definition: SagaDefinition,
  instance: SagaInstance,
  event: ReplyReceivedEvent,
): Decision {
  const stepIndex = definition.steps.findIndex((s) => s.compiled.name === event.step);
  if (stepIndex === -1) {
    return {
      kind: 'rejected',
      reason: 'unknown-step',
      message: `saga "${instance.sagaType}" v${instance.sagaVersion} has no step "${event.step}"`,
      errors: [],
    };
  }
  const active = awaiting(instance, stepIndex, event);
  if (!active.ok) return active.decision;
  const received = {
    type: 'reply.received' as const,
    step: event.step,
    kind: event.kind,
    attempt: event.attempt,
    detail: { messageId: event.messageId, outcome: event.outcome },
  };
  const outcome = event.outcome;
  if (outcome.status === 'success') {
    const step = definition.steps[stepIndex]!;
    const schema = event.kind === 'forward' ? step.command.reply : step.compensation!.command.reply;
    const reply = validate(schema, outcome.data);
    if (!reply.ok) {
      return {
        kind: 'rejected',
        reason: 'invalid-reply',
        message: `reply to ${event.kind} "${event.step}" does not match its schema`,
        errors: reply.errors,
      };
    }
    return applied(
      bump(instance, prepend([received], succeed(definition, active.instance, reply.value))),
    );
  }
  const cause = {
    step: event.step,
    kind: event.kind,
    type: outcome.type,
    message: outcome.message,
  };
  return applied(
    bump(
      instance,
      prepend([received], fail(definition, active.instance, cause, outcome.retryable)),
    ),
  );
}

function onTimeout(
  definition: SagaDefinition,
  instance: SagaInstance,
  event: TimedOutEvent,
): Decision {
  const stepIndex = definition.steps.findIndex((s) => s.compiled.name === event.step);
  const active = awaiting(instance, stepIndex, event);
  if (!active.ok) return active.decision;
  const cause = {
    step: event.step,
    kind: event.kind,
    type: 'timeout',
    message: `no reply to attempt ${event.attempt}`,
  };
  return applied(bump(instance, fail(definition, active.instance, cause, true)));
}

function succeed(definition: SagaDefinition, instance: ActiveSaga, reply: unknown): Transition {
  return instance.status === 'running'
    ? forwardSucceeded(definition, instance, reply)
    : compensationSucceeded(definition, instance);
}

function fail(
  definition: SagaDefinition,
  instance: ActiveSaga,
  cause: Parameters<typeof forwardFailed>[2],
  retryable: boolean,
): Transition {
  return instance.status === 'running'
    ? forwardFailed(definition, instance, cause, retryable)
    : compensationFailed(definition, instance, cause, retryable);
}

type Awaiting = { ok: true; instance: ActiveSaga } | { ok: false; decision: Decision };

/** Is the instance waiting for exactly this step, kind and attempt? Anything else changes nothing. */
function awaiting(
  instance: SagaInstance,
  stepIndex: number,
  event: ReplyReceivedEvent | TimedOutEvent,
): Awaiting {
  const what = `${event.kind} "${event.step}" attempt ${event.attempt}`;
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
  const expectedKind = instance.status === 'running' ? 'forward' : 'compensate';
  const matches =
    event.kind === expectedKind &&
    stepIndex === instance.currentStep &&
    event.attempt === instance.attempt;
  if (!matches) {
    return {
      ok: false,
      decision: {
        kind: 'ignored',
        reason: 'stale',
        message: `${what} is not what the saga awaits (step ${instance.currentStep}, ${expectedKind}, attempt ${instance.attempt})`,
      },
    };
  }
  return { ok: true, instance };
}

/** Exactly one version step per applied transition, whatever path produced it. */
function bump(before: SagaInstance, t: Transition): Transition {
  return { ...t, next: { ...t.next, version: before.version + 1 } };
}

function assertSameDefinition(definition: SagaDefinition, instance: SagaInstance): void {
  const { name, version } = definition.compiled;
  if (instance.sagaType !== name || instance.sagaVersion !== version) {
    throw new EngineContractError(
      `instance ${instance.id} is ${instance.sagaType} v${instance.sagaVersion} but was given ${name} v${version}: load the definition the instance started with`,
    );
  }
}
