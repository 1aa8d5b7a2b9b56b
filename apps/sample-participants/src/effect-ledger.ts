import { HandlerContext, ParticipantFailure } from '@sagaflow/participant';
import { PoolClient } from 'pg';

/**
 * Every sample participant appends one row per effect it applies, in the handler's
 * transaction and with no unique constraint: a duplicate effect would show as a second row,
 * which is exactly what the crash tests count.
 */
export async function ensureLedger(client: PoolClient, schema: string): Promise<void> {
  await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
  await client.query(`
    CREATE TABLE IF NOT EXISTS ${schema}.effect_ledger (
      id bigserial PRIMARY KEY,
      saga_id uuid NOT NULL,
      step text NOT NULL,
      kind text NOT NULL,
      command_type text NOT NULL,
      detail jsonb NOT NULL DEFAULT '{}',
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
}

export async function recordEffect(
  schema: string,
  ctx: HandlerContext,
  detail: Record<string, unknown>,
): Promise<void> {
  const { sagaId, step, kind, commandType } = ctx.command;
  await ctx.tx.query(
    `INSERT INTO ${schema}.effect_ledger (saga_id, step, kind, command_type, detail) VALUES ($1, $2, $3, $4, $5)`,
    [sagaId, step, kind, commandType, JSON.stringify(detail)],
  );
}

/**
 * `FAIL_COMMANDS=inventory.reserve,payment.charge` makes these command types fail with a
 * business rejection, so demos and tests can fail any step on purpose.
 */
export function failIfTold(ctx: HandlerContext, env: NodeJS.ProcessEnv = process.env): void {
  const { commandType, attempt } = ctx.command;
  if (listed(env.FAIL_COMMANDS, commandType)) {
    throw ParticipantFailure.rejected(
      'simulated-failure',
      `${commandType} was told to fail (FAIL_COMMANDS)`,
    );
  }
  // TRANSIENT_FAILURES=order.confirm: the first attempt of these fails transiently, so the
  // saga retries after a backoff timer — what crash tests of the timer path need.
  if (attempt === 1 && listed(env.TRANSIENT_FAILURES, commandType)) {
    throw ParticipantFailure.transient(
      'simulated-outage',
      `${commandType} attempt 1 was told to fail transiently (TRANSIENT_FAILURES)`,
    );
  }
}

function listed(variable: string | undefined, commandType: string): boolean {
  return (variable ?? '')
    .split(',')
    .map((s) => s.trim())
    .includes(commandType);
}
/**
 * Releases a reservation in `<schema>.reservation`, by its id when the saga has it, else by
 * the reply this service recorded for the forward command, else by order: the saga's log is
 * missing when the reservation timed out.
 */
export async function releaseReservation(
  schema: string,
  payload: { orderId: string; reservationId?: string | undefined },
  ctx: HandlerContext,
): Promise<Record<string, never>> {
  // Compensations can be told to fail too (FAIL_COMMANDS=inventory.release), so failed
  // compensations — and the operator actions that fix them — can be shown and tested.
  failIfTold(ctx);
  const recorded = (ctx.forwardReply as { reservationId?: string } | null)?.reservationId;
  const id = payload.reservationId ?? recorded;
  const [column, value] = id ? ['id', id] : ['order_id', payload.orderId];
  const released = await ctx.tx.query(
    `UPDATE ${schema}.reservation SET status = 'released' WHERE ${column} = $1 AND status = 'reserved'`,
    [value],
  );
  await recordEffect(schema, ctx, {
    reservationId: id ?? null,
    orderId: payload.orderId,
    released: released.rowCount,
  });
  return {};
}
