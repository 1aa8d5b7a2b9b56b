import { SagaEvent, OperatorAction, ReplyOutcome, TimerEvent } from '../saga-event';
import { SendCommandEffect } from '../decision';
import { SagaInstance } from '../saga-instance';
import {
  MALFORMED_FORWARD_REPLY,
  MALFORMED_SKIP_DATA,
  MALFORMED_UNDO_REPLY,
  VALID_UNDO_REPLY,
} from './build';
import { ActionType, DrainOutcome, Move, ReplyKind } from './moves';
import { FAILURE_TYPES, flatSteps, SagaShape } from './shape';
import { SAGA_ID, World } from './world';

/** What playing a move needs from the run. */
export interface MoveContext {
  readonly world: World;
  readonly shape: SagaShape;
  feed(event: SagaEvent, label: string): void;
  readonly fire: (event: TimerEvent, key: string) => void;
  crash(): void;
}

/** Turns an abstract move into events for the world as it is now (or nothing, if none fits). */
export function playMove(ctx: MoveContext, move: Move): void {
  switch (move.t) {
    case 'reply': {
      const live = ctx.world.unanswered();
      if (live.length === 0) return;
      const command = live[move.pick % live.length]!;
      ctx.world.answered.add(command.messageId);
      const event = ctx.world.replyTo(command, replyOutcome(command, move.outcome, move.failType));
      ctx.world.delivered.push(event);
      ctx.feed(event, `reply ${label(event)} ${move.outcome}`);
      return;
    }
    case 'redeliver': {
      const all = ctx.world.delivered;
      if (all.length === 0) return;
      const first = all[move.pick % all.length]!;
      const event = move.sameId ? first : ctx.world.replyTo(first, first.outcome);
      ctx.feed(event, `redeliver ${label(event)} ${move.sameId ? 'same id' : 'new id'}`);
      return;
    }
    case 'misdirected':
      return misdirected(ctx, move);
    case 'fireNext':
      ctx.world.fireNext(ctx.fire);
      return;
    case 'elapse':
      ctx.world.elapse(move.ms, ctx.fire);
      return;
    case 'staleTimer': {
      const stale = [...ctx.world.scheduled.keys()].filter(
        // The deadline carries no attempt, so only the shell can tell a stale one: never sent.
        (k) => !ctx.world.armed.has(k) && k !== `${SAGA_ID}:deadline`,
      );
      if (stale.length === 0) return;
      const key = stale[move.pick % stale.length]!;
      ctx.feed(ctx.world.scheduled.get(key)!, `stale timer ${key.slice(SAGA_ID.length + 1)}`);
      return;
    }
    case 'operator': {
      const action = operatorAction(ctx, move);
      ctx.feed(
        { type: 'operatorAction', action, actor: 'sim', reason: 'simulation' },
        `operator ${JSON.stringify(action)}`,
      );
      return;
    }
    case 'crash':
      return ctx.crash();
  }
}

function misdirected(ctx: MoveContext, move: Extract<Move, { t: 'misdirected' }>): void {
  if (move.variant === 'unknownStep') {
    const event = ctx.world.replyTo(
      { step: 'ghost', kind: 'forward', attempt: 1 },
      replyOutcome({ kind: 'forward', step: 'ghost', attempt: 1 }, move.outcome, 0),
    );
    ctx.feed(event, `reply to an unknown step`);
    return;
  }
  const notification = move.variant === 'notification';
  const candidates = ctx.world.sent.filter((c) => c.expectsReply !== notification);
  if (candidates.length === 0) return;
  const command = candidates[move.pick % candidates.length]!;
  const attempt =
    move.variant === 'newer'
      ? command.attempt + 1
      : move.variant === 'older'
        ? command.attempt - 1 || command.attempt + 2
        : command.attempt;
  const event = ctx.world.replyTo({ ...command, attempt }, replyOutcome(command, move.outcome, 1));
  ctx.feed(event, `${move.variant} reply ${label(event)} ${move.outcome}`);
}

function operatorAction(ctx: MoveContext, move: Extract<Move, { t: 'operator' }>): OperatorAction {
  const allowed = move.legal ? allowedActions(ctx.world.instance) : [];
  const type = allowed.length > 0 ? allowed[move.pick % allowed.length]! : move.action;
  if (type === 'markCompensated') return { type: 'markCompensated', evidence: 'undone by hand' };
  if (type !== 'skip') return { type };
  const outstanding = outstandingSteps(ctx.world.instance);
  const names =
    move.pick % 2 === 0 && outstanding.length > 0
      ? outstanding.map((i) => flatSteps(ctx.shape)[i]!.name)
      : [...flatSteps(ctx.shape).map((s) => s.name), 'ghost'];
  const step = names[Math.floor(move.pick / 2) % names.length]!;
  const kind = flatSteps(ctx.shape).find((s) => s.name === step)?.kind;
  const reply = !move.valid
    ? MALFORMED_SKIP_DATA
    : kind === 'notification'
      ? {}
      : { id: `skip-${step}` };
  return { type: 'skip', step, reply };
}

/** A participant's answer of the given kind to `command`. */
export function replyOutcome(
  command: Pick<SendCommandEffect, 'kind' | 'step' | 'attempt'>,
  kind: ReplyKind | DrainOutcome,
  failType: number,
): ReplyOutcome {
  const forward = command.kind === 'forward';
  switch (kind) {
    case 'ok':
      return {
        status: 'success',
        data: forward
          ? { id: `${command.step}-${command.attempt}` }
          : command.attempt % 2
            ? VALID_UNDO_REPLY
            : {},
      };
    case 'poison':
      return { status: 'success', data: forward ? { id: `bad-${command.step}` } : {} };
    case 'malformed':
      return {
        status: 'success',
        data: forward ? MALFORMED_FORWARD_REPLY : MALFORMED_UNDO_REPLY,
      };
    case 'fail':
    case 'transient':
      return {
        status: 'failure',
        retryable: kind === 'transient',
        type: FAILURE_TYPES[failType % FAILURE_TYPES.length]!,
        message: `${command.step} ${kind}`,
      };
  }
}

/**
 * The actions the operator table (docs/architecture.md) allows in this state, read from the
 * instance's status and fields only; whether each applies is still the model's call.
 */
function allowedActions(i: SagaInstance | null): ActionType[] {
  // `resume` sends several attempts at once (the rarest situation): three times as likely.
  if (i?.status === 'running')
    return i.pending.some((p) => p.waiting === 'retry')
      ? ['compensate', 'cancel', 'skip', 'resume', 'resume', 'resume']
      : ['compensate', 'cancel', 'skip'];
  if (i?.status === 'compensating')
    return ['markCompensated', ...(i.waiting === 'retry' ? (['resume'] as const) : [])];
  if (i?.status !== 'failed') return [];
  if (i.resume?.kind === 'compensate') return ['retry', 'markCompensated'];
  return [
    'retry',
    'compensate',
    'cancel',
    ...(i.resume?.pending.length ? (['skip'] as const) : []),
  ];
}

function outstandingSteps(instance: SagaInstance | null): number[] {
  if (instance?.status === 'running') return instance.pending.map((p) => p.step);
  if (instance?.status === 'failed' && instance.resume?.kind === 'forward')
    return instance.resume.pending.map((p) => p.step);
  return [];
}

/** `step:kind:attempt`, for traces. */
export function label(e: { step: string; kind: string; attempt: number }): string {
  return `${e.step}:${e.kind}:${e.attempt}`;
}
