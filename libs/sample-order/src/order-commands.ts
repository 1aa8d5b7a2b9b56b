import { defineCommand } from '@sagaflow/saga-dsl';
import { z } from 'zod';

const Empty = z.object({}).strict();

export const ReserveCredit = defineCommand({
  type: 'credit.reserve',
  topic: 'credit.commands',
  payload: z.object({ orderId: z.string(), customerId: z.string(), amount: z.number().positive() }),
  reply: z.object({ reservationId: z.string() }),
});

/** Releases by reservation id, or — when the reservation's reply never arrived — by order. */
export const ReleaseCredit = defineCommand({
  type: 'credit.release',
  topic: 'credit.commands',
  payload: z.object({ orderId: z.string(), reservationId: z.string().optional() }),
  reply: Empty,
});

export const ReserveInventory = defineCommand({
  type: 'inventory.reserve',
  topic: 'inventory.commands',
  payload: z.object({
    orderId: z.string(),
    sku: z.string(),
    quantity: z.number().int().positive(),
  }),
  reply: z.object({ reservationId: z.string() }),
});

export const ReleaseInventory = defineCommand({
  type: 'inventory.release',
  topic: 'inventory.commands',
  payload: z.object({ orderId: z.string(), reservationId: z.string().optional() }),
  reply: Empty,
});

export const ChargePayment = defineCommand({
  type: 'payment.charge',
  topic: 'payment.commands',
  payload: z.object({ orderId: z.string(), amount: z.number().positive(), card: z.string() }),
  reply: z.object({ chargeId: z.string() }),
});

export const ConfirmOrder = defineCommand({
  type: 'order.confirm',
  topic: 'order.commands',
  payload: z.object({ orderId: z.string(), chargeId: z.string() }),
  reply: z.object({ confirmedAt: z.string() }),
});

/** A notification: the order service emails the customer; no reply is awaited. */
export const NotifyCustomer = defineCommand({
  type: 'order.notify-customer',
  topic: 'order.commands',
  payload: z.object({ orderId: z.string(), customerId: z.string(), template: z.string() }),
  reply: Empty,
});

/** Every command topic of the sample, for topic provisioning. */
export const ORDER_COMMAND_TOPICS = [
  'credit.commands',
  'inventory.commands',
  'payment.commands',
  'order.commands',
] as const;
