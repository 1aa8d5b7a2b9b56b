import { CommandEnvelope } from '@sagaflow/messaging';
import { CommandDefinition } from '@sagaflow/saga-dsl';
import { PoolClient } from 'pg';

/** What a handler gets besides the payload: the command envelope and the open transaction. */
export interface HandlerContext {
  readonly command: CommandEnvelope;
  /** Write the effect with this client: it commits together with the idempotency record. */
  readonly tx: PoolClient;
  /**
   * On a compensation: the reply this participant recorded for the forward command (null for a
   * forward command). The saga's log may be missing when the forward timed out, so undo by this.
   */
  readonly forwardReply: unknown;
}

export type CommandHandler<P, R> = (payload: P, context: HandlerContext) => Promise<R> | R;

export interface HandlerRegistration {
  readonly command: CommandDefinition;
  readonly handle: CommandHandler<unknown, unknown>;
}

/**
 * Binds a handler to a command definition; the payload and the reply are typed by it, so a
 * handler that drifts from the saga's command fails to compile.
 *
 * @example
 * handle(ReserveCredit, async ({ customerId, amount }, { tx }) => {
 *   const id = await credit.reserve(tx, customerId, amount);
 *   return { reservationId: id };
 * });
 */
export function handle<P, R>(
  command: CommandDefinition<P, R>,
  handler: CommandHandler<P, R>,
): HandlerRegistration {
  return { command, handle: handler as CommandHandler<unknown, unknown> };
}
