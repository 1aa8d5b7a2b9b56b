import { SagaDefinition } from '@sagaflow/saga-dsl';
import { commandMessageId } from './commands';
import { CommandKind, SagaInstance } from './saga-instance';

/** The fields of a reply that name the command it answers. */
export interface ReplyAddress {
  readonly inReplyTo: string;
  readonly step: string;
  readonly kind: CommandKind;
  readonly attempt: number;
}

/**
 * Does this reply answer a command the orchestrator could have sent? `null` when it may, else
 * why not. A reply that answers no command is forged or corrupt, not merely stale: the shell
 * parks it (`unmatched-reply`) instead of ignoring it, so an operator sees it.
 *
 * Two checks, both safe against every legitimate reply:
 * - `inReplyTo` must be the id of the command for (saga, step, kind, attempt): participants
 *   echo the command's `messageId`, and the orchestrator mints it deterministically.
 * - an attempt above the one the saga awaits for that step was never sent: a command is
 *   published only after the transition that created it commits, so its reply cannot reach
 *   a batch before the instance shows that attempt.
 *
 * A step the definition does not have is left to `decide` (`unknown-step`).
 */
export function unmatchedReply(
  definition: SagaDefinition,
  instance: SagaInstance,
  reply: ReplyAddress,
): string | null {
  const index = definition.steps.findIndex((s) => s.compiled.name === reply.step);
  if (index < 0) return null;
  const expected = commandMessageId(instance.id, reply.step, reply.kind, reply.attempt);
  if (reply.inReplyTo !== expected)
    return `inReplyTo "${reply.inReplyTo}" is not the command ${reply.kind} "${reply.step}" attempt ${reply.attempt} of saga ${instance.id} (expected "${expected}"): echo the command's messageId`;
  const awaited = awaitedAttempt(instance, index, reply.kind);
  if (awaited !== null && reply.attempt > awaited)
    return `${reply.kind} "${reply.step}" attempt ${reply.attempt} was never sent: the saga is at attempt ${awaited}`;
  return null;
}

/** The attempt the saga is at for this step and kind, when that step is outstanding. */
function awaitedAttempt(instance: SagaInstance, index: number, kind: CommandKind): number | null {
  if (instance.status === 'running' && kind === 'forward')
    return instance.pending.find((p) => p.step === index)?.attempt ?? null;
  if (instance.status === 'compensating' && kind === 'compensate' && instance.currentStep === index)
    return instance.attempt;
  return null;
}
