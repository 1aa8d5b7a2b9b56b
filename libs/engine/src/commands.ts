import { RuntimeStep, SagaDefinition, validate } from '@sagaflow/saga-dsl';
import { JournalEntry, SendCommandEffect } from './decision';
import { CommandKind, SagaFailure, SagaInstance } from './saga-instance';
import { scheduleTimeout } from './timers';
import { extend, Trail } from './transition';

export type Sent =
  | { readonly ok: true; readonly trail: Trail }
  | { readonly ok: false; readonly failure: SagaFailure };

/** Message ids are deterministic, so re-running a decision never mints a second command. */
export function commandMessageId(
  sagaId: string,
  step: string,
  kind: CommandKind,
  attempt: number,
): string {
  return `${sagaId}:${step}:${kind}:${attempt}`;
}

export function idempotencyKey(sagaId: string, step: string, kind: CommandKind): string {
  return `${sagaId}:${step}:${kind}`;
}

/**
 * Sends one attempt of a step (forward or compensation) and arms its timeout. The author's
 * payload function and the command's schema both run here, so an invalid outgoing command is a
 * step failure (`invalid-command`), never a message a participant would have to reject.
 */
export function sendAttempt(
  definition: SagaDefinition,
  instance: SagaInstance,
  index: number,
  kind: CommandKind,
  attempt: number,
  trail: Trail,
): Sent {
  const step = definition.steps[index]!;
  const target = kind === 'forward' ? step.command : step.compensation?.command;
  const name = step.compiled.name;
  if (!target) return failed(name, kind, 'no-command', `step "${name}" has no ${kind} command`);
  const raw = producePayload(step, instance, index, kind);
  if (!raw.ok) return failed(name, kind, 'invalid-command', raw.message);
  const checked = validate(target.payload, raw.payload);
  if (!checked.ok) {
    const detail = checked.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
    return failed(name, kind, 'invalid-command', `payload of ${target.type} is invalid: ${detail}`);
  }
  const expectsReply = step.compiled.kind !== 'notification';
  const effect: SendCommandEffect = {
    type: 'sendCommand',
    messageId: commandMessageId(instance.id, name, kind, attempt),
    sagaId: instance.id,
    sagaType: instance.sagaType,
    sagaVersion: instance.sagaVersion,
    step: name,
    kind,
    attempt,
    idempotencyKey: idempotencyKey(instance.id, name, kind),
    commandType: target.type,
    topic: target.topic,
    payload: checked.value,
    compensates: kind === 'compensate' ? idempotencyKey(instance.id, name, 'forward') : null,
    expectsReply,
  };
  const timeoutMs =
    kind === 'forward' ? step.compiled.timeoutMs : step.compiled.compensationTimeoutMs;
  const timer =
    expectsReply && timeoutMs !== null
      ? [scheduleTimeout(instance.id, name, kind, attempt, timeoutMs)]
      : [];
  return { ok: true, trail: extend(trail, [sentJournal(effect)], [effect, ...timer]) };
}

type Produced = { ok: true; payload: unknown } | { ok: false; message: string };

function producePayload(
  step: RuntimeStep,
  instance: SagaInstance,
  index: number,
  kind: CommandKind,
): Produced {
  try {
    if (kind === 'forward') return { ok: true, payload: step.payload(instance.data) };
    const log = instance.completed.find((c) => c.index === index)?.log;
    return { ok: true, payload: step.compensation!.payload(instance.data, log) };
  } catch (error) {
    return {
      ok: false,
      message: `the ${kind} payload function of step "${step.compiled.name}" threw: ${messageOf(error)}`,
    };
  }
}

function failed(step: string, kind: CommandKind, type: string, message: string): Sent {
  return { ok: false, failure: { step, kind, type, message } };
}

function sentJournal(effect: SendCommandEffect): JournalEntry {
  return {
    type: 'command.sent',
    step: effect.step,
    kind: effect.kind,
    attempt: effect.attempt,
    detail: {
      messageId: effect.messageId,
      commandType: effect.commandType,
      topic: effect.topic,
      payload: effect.payload,
      ...(effect.expectsReply ? {} : { expectsReply: false }),
    },
  };
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
