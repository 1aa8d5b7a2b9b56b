import { defineSaga } from '@sagaflow/saga-dsl';
import { z } from 'zod';
import {
  ChargePayment,
  ConfirmOrder,
  NotifyCustomer,
  ReleaseCredit,
  ReleaseInventory,
  ReserveCredit,
  ReserveInventory,
} from './order-commands';
import { ORDER_PLACED_TOPIC, OrderPlaced } from './order-events';

export const OrderInput = z.object({
  orderId: z.string().min(1).max(100),
  customerId: z.string().min(1).max(100),
  sku: z.string().min(1).max(100),
  quantity: z.number().int().positive().max(1000),
  amount: z.number().positive().max(1_000_000),
  card: z.string().regex(/^\d{12,19}$/, 'card must be 12 to 19 digits'),
});
export type OrderInput = z.infer<typeof OrderInput>;

/**
 * The sample order saga: reserve credit → reserve inventory → charge payment (the pivot) →
 * confirm order (retriable) → tell the customer (a notification). A failure up to the charge
 * undoes the reservations in reverse order. Compensations fall back to the order id when a
 * reservation's reply never arrived (its log is then undefined).
 *
 * It starts from the admin API (`POST /sagas`) or from an `OrderPlaced` event on
 * `orders.order-placed`, once per event id.
 */
export const orderSaga = defineSaga({
  name: 'order',
  version: 1,
  input: OrderInput,
  deadline: '5m',
  sensitive: ['card'],
  startOn: {
    topic: ORDER_PLACED_TOPIC,
    event: OrderPlaced,
    eventId: (event) => event.eventId,
    input: ({ orderId, customerId, sku, quantity, amount, card }) => ({
      orderId,
      customerId,
      sku,
      quantity,
      amount,
      card,
    }),
    businessKey: (event) => event.orderId,
  },
})
  .step('reserveCredit', {
    command: ReserveCredit,
    payload: (o) => ({ orderId: o.orderId, customerId: o.customerId, amount: o.amount }),
    onReply: (o, r) => ({ ...o, creditReservationId: r.reservationId }),
    compensate: {
      command: ReleaseCredit,
      payload: (o, log) => ({ orderId: o.orderId, reservationId: log?.reservationId }),
    },
    timeout: '30s',
  })
  .step('reserveInventory', {
    command: ReserveInventory,
    payload: (o) => ({ orderId: o.orderId, sku: o.sku, quantity: o.quantity }),
    onReply: (o, r) => ({ ...o, inventoryReservationId: r.reservationId }),
    compensate: {
      command: ReleaseInventory,
      payload: (o, log) => ({ orderId: o.orderId, reservationId: log?.reservationId }),
    },
    timeout: '30s',
  })
  .pivot('chargePayment', {
    command: ChargePayment,
    payload: (o) => ({ orderId: o.orderId, amount: o.amount, card: o.card }),
    onReply: (o, r) => ({ ...o, chargeId: r.chargeId }),
    timeout: '1m',
    onTimeout: 'park',
  })
  .retriable('confirmOrder', {
    command: ConfirmOrder,
    payload: (o) => ({ orderId: o.orderId, chargeId: o.chargeId }),
    onReply: (o, r) => ({ ...o, confirmedAt: r.confirmedAt }),
    timeout: '30s',
    retry: { maxAttempts: 20, initialDelay: '500ms', maxDelay: '1m' },
  })
  .notify('notifyCustomer', {
    command: NotifyCustomer,
    payload: (o) => ({ orderId: o.orderId, customerId: o.customerId, template: 'order-confirmed' }),
  })
  .build();
