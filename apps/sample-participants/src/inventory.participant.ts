import { handle, HandlerRegistration, ParticipantFailure } from '@sagaflow/participant';
import { ReleaseInventory, ReserveInventory } from '@sagaflow/sample-order';
import { randomUUID } from 'node:crypto';
import { PoolClient } from 'pg';
import { failIfTold, recordEffect, releaseReservation } from './effect-ledger';

export const INVENTORY_SCHEMA = 'sample_inventory';

export async function ensureInventoryTables(client: PoolClient): Promise<void> {
  await client.query(`CREATE TABLE IF NOT EXISTS ${INVENTORY_SCHEMA}.reservation (
    id text PRIMARY KEY, order_id text NOT NULL, sku text NOT NULL, quantity integer NOT NULL, status text NOT NULL)`);
}

/** Inventory: any SKU is in stock, except those starting with `OUT-OF-STOCK`. */
export const inventoryHandlers: HandlerRegistration[] = [
  handle(ReserveInventory, async ({ orderId, sku, quantity }, ctx) => {
    failIfTold(ctx);
    if (sku.startsWith('OUT-OF-STOCK'))
      throw ParticipantFailure.rejected(
        'out-of-stock',
        `${sku} is out of stock (wanted ${quantity})`,
      );
    const reservationId = `inv-${randomUUID()}`;
    await ctx.tx.query(
      `INSERT INTO ${INVENTORY_SCHEMA}.reservation (id, order_id, sku, quantity, status) VALUES ($1, $2, $3, $4, 'reserved')`,
      [reservationId, orderId, sku, quantity],
    );
    await recordEffect(INVENTORY_SCHEMA, ctx, { reservationId, sku, quantity });
    return { reservationId };
  }),
  handle(ReleaseInventory, async (payload, ctx) =>
    releaseReservation(INVENTORY_SCHEMA, payload, ctx),
  ),
];
