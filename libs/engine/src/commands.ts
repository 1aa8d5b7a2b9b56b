import { RuntimeStep, SagaDefinition, validate } from '@sagaflow/saga-dsl';
import { SendCommandEffect } from './decision';
import { CommandKind, SagaFailure, SagaInstance } from './saga-instance';

export type BuiltCommand =
  | { readonly ok: true; readonly effect: SendCommandEffect }
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
 * Builds the command for a step from the saga data. The author's payload function and the
 * command's schema both run here, so an invalid outgoing command becomes a step failure
 * (`invalid-command`) instead of a message a participant would have to reject.
 */
export function buildCommand(
  definition: SagaDefinition,
  instance: SagaInstance,
  index: number,
  kind: CommandKind,
  attempt: number,
): BuiltCommand {
  const step = definition.steps[index]!;
  const target = kind === 'forward' ? step.command : step.compensation?.command;
  if (!target) return fail(step, kind, 'no-compensation', 'the step has no compensation');
  const raw = producePayload(step, instance, index, kind);
  if (!raw.ok) return fail(step, kind, 'invalid-command', raw.message);
  const checked = validate(target.payload, raw.payload);
  if (!checked.ok) {
    const detail = checked.errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ');
    return fail(step, kind, 'invalid-command', `payload of ${target.type} is invalid: ${detail}`);
  }
  const name = step.compiled.name;
  return {
    ok: true,
    effect: {
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
    },
  };
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
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      message: `the payload function of step "${step.compiled.name}" threw: ${message}`,
    };
  }
}

function fail(step: RuntimeStep, kind: CommandKind, type: string, message: string): BuiltCommand {
  return { ok: false, failure: { step: step.compiled.name, kind, type, message } };
}

export function sentJournal(effect: SendCommandEffect) {
  return {
    type: 'command.sent' as const,
    step: effect.step,
    kind: effect.kind,
    attempt: effect.attempt,
    detail: {
      messageId: effect.messageId,
      commandType: effect.commandType,
      topic: effect.topic,
      payload: effect.payload,
    },
  };
}
