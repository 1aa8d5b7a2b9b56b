import { defineSaga } from '@sagaflow/saga-dsl';
import { ChargePayment } from '@sagaflow/sample-order';
import { z } from 'zod';

/**
 * A deployment's own saga definitions, as the orchestrator and the admin API load them:
 * build this module, then start both apps with
 * `SAGAFLOW_DEFINITIONS=dist/examples/definitions/refund.js` (comma-separate several modules).
 * The module exports `definitions`, an array of built sagas; see docs/dsl.md.
 *
 * The refund saga charges the card back through the sample payment service, so the sample
 * participants run it to completion.
 */
export const refundSaga = defineSaga({
  name: 'refund',
  version: 1,
  input: z.object({ orderId: z.string(), amount: z.number(), card: z.string() }),
})
  .pivot('chargeBack', {
    command: ChargePayment,
    payload: (o) => ({ orderId: o.orderId, amount: o.amount, card: o.card }),
  })
  .build();

export const definitions = [refundSaga];
