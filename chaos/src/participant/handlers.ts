import { CommandEnvelope } from '@sagaflow/messaging';
import {
  handle,
  HandlerContext,
  HandlerRegistration,
  ParticipantFailure,
} from '@sagaflow/participant';
import {
  ChargePayment,
  ConfirmOrder,
  NotifyCustomer,
  ReleaseCredit,
  ReleaseInventory,
  ReserveCredit,
  ReserveInventory,
} from '@sagaflow/sample-order';
import { Pool } from 'pg';
import { ChaosService, ledgerSchema, PlanFlag, planOf } from '../plan';
import { FaultDecider } from './faults';
import { recordEffect } from './ledger';

/** Writes one injected fault to `chaos.fault`, outside the handler's transaction (it may roll back). */
export type FaultRecorder = (
  type: string,
  command: CommandEnvelope,
  detail?: object,
) => Promise<void>;

export function faultRecorder(pool: Pool, service: ChaosService): FaultRecorder {
  return async (type, command, detail = {}) => {
    await pool.query(
      `INSERT INTO chaos.fault (source, type, saga_id, step, kind, message_id, detail)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        `participant:${service}`,
        type,
        command.sagaId,
        command.step,
        command.kind,
        command.messageId,
        JSON.stringify({ attempt: command.attempt, ...detail }),
      ],
    );
  };
}

/**
 * The simulated participants' handlers on the participant kit: each effect is written to the
 * service's ledger in the kit's transaction; the saga's plan (in its `orderId`) says which
 * command is rejected for good, and the fault decider which first attempt fails transiently.
 */
export function handlersFor(
  service: ChaosService,
  faults: FaultDecider,
  recordFault: FaultRecorder,
): HandlerRegistration[] {
  const schema = ledgerSchema(service);
  const apply = async (
    ctx: HandlerContext,
    orderId: string,
    reject: PlanFlag | null,
    detail: Record<string, unknown> = {},
  ) => {
    const { command } = ctx;
    if (reject && planOf(orderId).flags.has(reject)) {
      const type = reject === 'pc' || reject === 'pi' ? 'chaos-permanent' : 'chaos-rejected';
      await recordFault(
        type === 'chaos-permanent' ? 'permanent-compensation-failure' : 'business-rejection',
        command,
      );
      throw ParticipantFailure.rejected(
        type,
        `${command.commandType} refused by the saga's plan (${reject})`,
      );
    }
    if (faults.transient(command)) {
      await recordFault('transient-error', command);
      throw ParticipantFailure.transient(
        'chaos-transient',
        `${command.commandType} attempt 1 failed on purpose`,
      );
    }
    await recordEffect(ctx.tx, schema, {
      sagaId: command.sagaId,
      step: command.step,
      kind: command.kind,
      commandType: command.commandType,
      messageId: command.messageId,
      attempt: command.attempt,
      source: 'participant',
      detail,
    });
  };
  const id = (prefix: string, ctx: HandlerContext) => `${prefix}-${ctx.command.sagaId}`;
  switch (service) {
    case 'credit':
      return [
        handle(ReserveCredit, async (p, ctx) => {
          await apply(ctx, p.orderId, 'rc', { amount: p.amount });
          return { reservationId: id('cr', ctx) };
        }),
        handle(ReleaseCredit, async (p, ctx) => {
          await apply(ctx, p.orderId, 'pc', { forward: ctx.forwardReply });
          return {};
        }),
      ];
    case 'inventory':
      return [
        handle(ReserveInventory, async (p, ctx) => {
          await apply(ctx, p.orderId, 'ri', { sku: p.sku, quantity: p.quantity });
          return { reservationId: id('inv', ctx) };
        }),
        handle(ReleaseInventory, async (p, ctx) => {
          await apply(ctx, p.orderId, 'pi', { forward: ctx.forwardReply });
          return {};
        }),
      ];
    case 'payment':
      return [
        handle(ChargePayment, async (p, ctx) => {
          await apply(ctx, p.orderId, 'dp', { amount: p.amount });
          return { chargeId: id('ch', ctx) };
        }),
      ];
    case 'order':
      return [
        handle(ConfirmOrder, async (p, ctx) => {
          await apply(ctx, p.orderId, 'rf');
          return { confirmedAt: new Date().toISOString() };
        }),
        handle(NotifyCustomer, async (p, ctx) => {
          await apply(ctx, p.orderId, null, { template: p.template });
          return {};
        }),
      ];
  }
}
