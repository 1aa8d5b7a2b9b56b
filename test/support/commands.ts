import { randomUUID } from 'node:crypto';
import { CommandEnvelope, PROTOCOL } from '@sagaflow/messaging';

/** A first-attempt forward command of a new saga, as the orchestrator would send it. */
export function forwardCommand(
  command: { type: string },
  payload: unknown,
  names: { sagaType: string; step: string; replyTopic: string },
): CommandEnvelope {
  const sagaId = randomUUID();
  return {
    protocol: PROTOCOL,
    messageId: `${sagaId}:${names.step}:forward:1`,
    sagaId,
    sagaType: names.sagaType,
    sagaVersion: 1,
    step: names.step,
    kind: 'forward',
    attempt: 1,
    idempotencyKey: `${sagaId}:${names.step}:forward`,
    commandType: command.type,
    replyTopic: names.replyTopic,
    expectsReply: true,
    compensates: null,
    payload,
  };
}
