import { handle, HandlerRegistration, ParticipantFailure } from '@sagaflow/participant';
import { ChargePayment } from '@sagaflow/sample-order';
import { randomUUID } from 'node:crypto';
import { failIfTold, recordEffect } from './effect-ledger';

export const PAYMENT_SCHEMA = 'sample_payment';
/** The well-known test card that always declines. */
export const DECLINED_CARD = '4000000000000002';

/** Payments: the pivot. Charges succeed except for the declined test card. */
export const paymentHandlers: HandlerRegistration[] = [
  handle(ChargePayment, async ({ amount, card }, ctx) => {
    failIfTold(ctx);
    if (card === DECLINED_CARD)
      throw ParticipantFailure.rejected('card-declined', 'the card was declined');
    const chargeId = `ch-${randomUUID()}`;
    await recordEffect(PAYMENT_SCHEMA, ctx, { chargeId, amount });
    return { chargeId };
  }),
];
