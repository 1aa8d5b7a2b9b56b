import { defineCommand } from '@sagaflow/saga-dsl';
import { z } from 'zod';

/** Three commands of a bench saga, one per participant topic, each with a small typed reply. */
export const BenchReserve = defineCommand({
  type: 'bench.reserve',
  topic: 'bench.reserve.commands',
  payload: z.object({ orderId: z.string(), amount: z.number().positive() }),
  reply: z.object({ reservationId: z.string() }),
});

export const BenchRelease = defineCommand({
  type: 'bench.release',
  topic: 'bench.reserve.commands',
  payload: z.object({ orderId: z.string(), reservationId: z.string().optional() }),
  reply: z.object({}),
});

export const BenchCharge = defineCommand({
  type: 'bench.charge',
  topic: 'bench.charge.commands',
  payload: z.object({ orderId: z.string(), amount: z.number().positive() }),
  reply: z.object({ chargeId: z.string() }),
});

export const BenchConfirm = defineCommand({
  type: 'bench.confirm',
  topic: 'bench.confirm.commands',
  payload: z.object({ orderId: z.string(), chargeId: z.string() }),
  reply: z.object({ confirmedAt: z.string() }),
});

export const BENCH_COMMAND_TOPICS = [
  'bench.reserve.commands',
  'bench.charge.commands',
  'bench.confirm.commands',
] as const;
