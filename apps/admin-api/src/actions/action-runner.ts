import { Injectable } from '@nestjs/common';
import { OperatorAction } from '@sagaflow/engine';
import { OperatorActions, OperatorResult } from '@sagaflow/runtime';
import { Request, Response } from 'express';
import { mayActOn, Principal } from '../auth/principal';
import { etagOf, expectedVersion } from './if-match';
import {
  ActionResponse,
  IdempotentActions,
  idempotencyKeyOf,
  isKeyClash,
} from './idempotent-action';

/** The route's name for each action, as the audit log and the responses spell it. */
export const ACTION_NAMES: Record<OperatorAction['type'], string> = {
  retry: 'retry',
  resume: 'resume',
  compensate: 'compensate',
  cancel: 'cancel',
  skip: 'skip',
  markCompensated: 'mark-compensated',
};

export interface ActionCall {
  readonly sagaId: string;
  readonly action: OperatorAction;
  readonly reason: string;
  readonly ifMatch?: string | undefined;
  readonly idempotencyKey?: string | undefined;
}

/** The saga types the principal's credentials allow it to act on. */
export function scopeOf(principal: Principal): (sagaType: string) => boolean {
  return (sagaType) => mayActOn(principal, sagaType);
}

/** How the journal names the person behind an action. */
export function actorOf(principal: Principal): string {
  return `${principal.name} (${principal.id})`;
}

/** What an applied action answers: the saga's new state and what the action set going. */
export function actionView(sagaId: string, action: OperatorAction, result: OperatorResult) {
  return {
    sagaId,
    action: ACTION_NAMES[action.type],
    status: result.instance.status,
    version: result.instance.version,
    compensationPlan: result.plan,
    journal: result.journal,
  };
}

/**
 * One operator action over HTTP: idempotency replay, the engine's decision and its writes,
 * and the audit record — all three in the action's transaction.
 */
@Injectable()
export class ActionRunner {
  constructor(
    private readonly actions: OperatorActions,
    private readonly idempotency: IdempotentActions,
  ) {}

  async run(req: Request, res: Response, call: ActionCall): Promise<unknown> {
    const key = idempotencyKeyOf(call.idempotencyKey);
    const version = expectedVersion(call.ifMatch);
    const replayed = await this.idempotency.replay(req, key);
    if (replayed) return answer(res, replayed, true);
    const name = ACTION_NAMES[call.action.type];
    try {
      const result = await this.actions.apply(
        {
          sagaId: call.sagaId,
          action: call.action,
          actor: actorOf(req.principal!),
          reason: call.reason,
          mayActOn: scopeOf(req.principal!),
          ...(version !== undefined ? { expectedVersion: version } : {}),
          ...traceOf(req),
        },
        (sql, result) =>
          this.idempotency.record(sql, req, {
            action: name,
            sagaId: call.sagaId,
            reason: call.reason,
            idempotencyKey: key,
            response: { statusCode: 200, body: actionView(call.sagaId, call.action, result) },
          }),
      );
      res.setHeader('ETag', etagOf(result.instance.version));
      return actionView(call.sagaId, call.action, result);
    } catch (error) {
      // Two calls raced with one key: the other one's answer is this one's.
      if (key !== undefined && isKeyClash(error)) {
        const winner = await this.idempotency.replay(req, key);
        if (winner) return answer(res, winner, true);
      }
      throw error;
    }
  }

  /** `?dryRun=true`: the decision without the writes — the exact compensation plan. */
  async preview(req: Request, call: ActionCall): Promise<unknown> {
    const version = expectedVersion(call.ifMatch);
    const result = await this.actions.preview({
      sagaId: call.sagaId,
      action: call.action,
      actor: actorOf(req.principal!),
      reason: call.reason,
      mayActOn: scopeOf(req.principal!),
      ...(version !== undefined ? { expectedVersion: version } : {}),
    });
    return {
      dryRun: true,
      sagaId: call.sagaId,
      action: ACTION_NAMES[call.action.type],
      wouldBecome: result.instance.status,
      compensationPlan: result.plan,
      journal: result.journal,
    };
  }
}

function answer(res: Response, stored: ActionResponse, replayed: boolean): unknown {
  res.status(stored.statusCode);
  if (replayed) res.setHeader('Idempotent-Replayed', 'true');
  const version = (stored.body as { version?: unknown } | null)?.version;
  if (typeof version === 'number') res.setHeader('ETag', etagOf(version));
  return stored.body;
}

function traceOf(req: Request): { traceparent?: string } {
  const header = req.headers.traceparent;
  return typeof header === 'string' ? { traceparent: header } : {};
}
