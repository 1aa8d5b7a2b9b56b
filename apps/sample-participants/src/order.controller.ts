import { Controller } from '@nestjs/common';
import { Ctx, MessagePattern, Payload } from '@nestjs/microservices';
import { participantRpcFailure, ParticipantFailure, SagaflowContext } from '@sagaflow/participant';
import { PayloadOf, ReplyOf } from '@sagaflow/saga-dsl';
import { ConfirmOrder, NotifyCustomer } from '@sagaflow/sample-order';
import { failIfTold, recordEffect } from './effect-ledger';

export const ORDER_SCHEMA = 'sample_order';

/** The order service is a NestJS microservice: its handler is an ordinary `@MessagePattern`. */
@Controller()
export class OrderController {
  @MessagePattern(ConfirmOrder.type)
  async confirm(
    @Payload() { orderId, chargeId }: PayloadOf<typeof ConfirmOrder>,
    @Ctx() ctx: SagaflowContext,
  ): Promise<ReplyOf<typeof ConfirmOrder>> {
    try {
      failIfTold({ command: ctx.command, tx: ctx.tx, forwardReply: null });
    } catch (error) {
      throw participantRpcFailure(error as ParticipantFailure);
    }
    await recordEffect(
      ORDER_SCHEMA,
      { command: ctx.command, tx: ctx.tx, forwardReply: null },
      { orderId, chargeId },
    );
    return { confirmedAt: new Date().toISOString() };
  }

  /** A notification: recorded once per idempotency key; the kit sends no reply. */
  @MessagePattern(NotifyCustomer.type)
  async notify(
    @Payload() payload: PayloadOf<typeof NotifyCustomer>,
    @Ctx() ctx: SagaflowContext,
  ): Promise<ReplyOf<typeof NotifyCustomer>> {
    await recordEffect(
      ORDER_SCHEMA,
      { command: ctx.command, tx: ctx.tx, forwardReply: null },
      { email: payload.template },
    );
    return {};
  }
}
