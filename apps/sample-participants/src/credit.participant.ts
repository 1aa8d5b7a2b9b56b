import { handle, HandlerRegistration, ParticipantFailure } from '@sagaflow/participant';
import { ReleaseCredit, ReserveCredit } from '@sagaflow/sample-order';
import { randomUUID } from 'node:crypto';
import { PoolClient } from 'pg';
import { failIfTold, recordEffect, releaseReservation } from './effect-ledger';

export const CREDIT_SCHEMA = 'sample_credit';
const DEFAULT_LIMIT = 5000;

export async function ensureCreditTables(client: PoolClient): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS ${CREDIT_SCHEMA}.reservation (
    id text PRIMARY KEY, order_id text NOT NULL, customer_id text NOT NULL, amount numeric NOT NULL, status text NOT NULL)`);
}

/** Credit: every customer has a limit of 5000; a reservation beyond what is left is refused. */
export const creditHandlers: HandlerRegistration[] = [
  handle(ReserveCredit, async ({ orderId, customerId, amount }, ctx) => {
    failIfTold(ctx);
    const { rows } = await ctx.tx.query(
      `SELECT coalesce(sum(amount), 0)::float AS reserved FROM ${CREDIT_SCHEMA}.reservation WHERE customer_id = $1 AND status = 'reserved'`,
      [customerId],
    );
    if (rows[0].reserved + amount > DEFAULT_LIMIT) {
      throw ParticipantFailure.rejected(
        'insufficient-credit',
        `customer ${customerId} has ${DEFAULT_LIMIT - rows[0].reserved} of credit left`,
      );
    }
    const reservationId = `cr-${randomUUID()}`;
    await ctx.tx.query(
      `INSERT INTO ${CREDIT_SCHEMA}.reservation (id, order_id, customer_id, amount, status) VALUES ($1, $2, $3, $4, 'reserved')`,
      [reservationId, orderId, customerId, amount],
    );
    await recordEffect(CREDIT_SCHEMA, ctx, { reservationId, amount });
    return { reservationId };
  }),
  handle(ReleaseCredit, async (payload, ctx) => releaseReservation(CREDIT_SCHEMA, payload, ctx)),
];
