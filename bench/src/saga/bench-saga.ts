import { defineSaga, SagaDefinition } from '@sagaflow/saga-dsl';
import ms from 'ms';
import { z } from 'zod';
import { BenchCharge, BenchConfirm, BenchRelease, BenchReserve } from './bench-commands';

export const BenchInput = z.object({ orderId: z.string().min(1), amount: z.number().positive() });
export type BenchInput = z.infer<typeof BenchInput>;

export const BENCH_SAGA = 'bench';

/**
 * The benchmark's saga: three command steps shaped like the sample order saga — a compensatable
 * reservation, the pivot, a retriable confirmation — with the sample's per-step timeouts, so
 * each step arms and cancels a timer as a real saga does. `stepTimeoutMs: null` drops them
 * (`--step-timeout none`), to measure what timers cost.
 */
export function benchSaga(stepTimeoutMs: number | null): SagaDefinition {
  const timeout = stepTimeoutMs ? { timeout: stepTimeoutMs } : {};
  return defineSaga({ name: BENCH_SAGA, version: 1, input: BenchInput })
    .step('reserve', {
      command: BenchReserve,
      payload: (o) => ({ orderId: o.orderId, amount: o.amount }),
      onReply: (o, r) => ({ ...o, reservationId: r.reservationId }),
      compensate: {
        command: BenchRelease,
        payload: (o, log) => ({ orderId: o.orderId, reservationId: log?.reservationId }),
      },
      ...timeout,
    })
    .pivot('charge', {
      command: BenchCharge,
      payload: (o) => ({ orderId: o.orderId, amount: o.amount }),
      onReply: (o, r) => ({ ...o, chargeId: r.chargeId }),
      ...timeout,
    })
    .retriable('confirm', {
      command: BenchConfirm,
      payload: (o) => ({ orderId: o.orderId, chargeId: o.chargeId }),
      onReply: (o, r) => ({ ...o, confirmedAt: r.confirmedAt }),
      ...timeout,
    })
    .build();
}

/** The definition of this process, from BENCH_STEP_TIMEOUT (set by the bench for every process). */
export function benchSagaFromEnv(env: NodeJS.ProcessEnv = process.env): SagaDefinition {
  return benchSaga(parseStepTimeout(env.BENCH_STEP_TIMEOUT ?? '30s'));
}

/** `30s`, `1m`, `5000` (ms) or `none`. */
export function parseStepTimeout(raw: string): number | null {
  if (raw === 'none') return null;
  const value = /^\d+$/.test(raw) ? Number(raw) : ms(raw as ms.StringValue);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`--step-timeout ${raw} is invalid: use e.g. 30s, 1m or none`);
  return value;
}
