import { z } from 'zod';

/** The domain topic the shop publishes placed orders on (the orchestrator adds its prefix). */
export const ORDER_PLACED_TOPIC = 'orders.order-placed';

/**
 * The shop's "order placed" event, as published on `orders.order-placed`. It starts the order
 * saga (see `orderSaga`'s `startOn`); `eventId` makes the start idempotent, so a redelivered or
 * re-published event starts one saga only. The event schema checks the shape; the saga's own
 * input schema still applies its business rules (a card of 12 to 19 digits, limits).
 */
export const OrderPlaced = z.object({
  eventId: z.string().min(1).max(200),
  orderId: z.string(),
  customerId: z.string(),
  sku: z.string(),
  quantity: z.number().int(),
  amount: z.number(),
  card: z.string(),
});
export type OrderPlaced = z.infer<typeof OrderPlaced>;
