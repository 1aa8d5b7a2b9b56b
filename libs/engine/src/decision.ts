import { FieldError } from '@sagaflow/saga-dsl';
import { TimerEvent } from './saga-event';
import { CommandKind, SagaInstance } from './saga-instance';

/** Send one command; the shell writes it to the outbox in the same transaction as `next`. */
export interface SendCommandEffect {
  readonly type: 'sendCommand';
  /** Deterministic: one id per (saga, step, kind, attempt), so a re-decided transition re-sends nothing new. */
  readonly messageId: string;
  readonly sagaId: string;
  readonly sagaType: string;
  readonly sagaVersion: number;
  readonly step: string;
  readonly kind: CommandKind;
  readonly attempt: number;
  /** Stable across attempts of the same step and kind: what participants dedupe on. */
  readonly idempotencyKey: string;
  readonly commandType: string;
  readonly topic: string;
  readonly payload: unknown;
  /** On a compensation: the idempotency key of the forward command it undoes; null on forward commands. */
  readonly compensates: string | null;
  /** False for notifications: the participant must not reply. */
  readonly expectsReply: boolean;
}

/**
 * Wake the saga with `event` after `delayMs`. The shell stores the timer in the same
 * transaction (PostgreSQL holds every deadline); `key` is deterministic, so scheduling twice
 * is one timer.
 */
export interface ScheduleTimerEffect {
  readonly type: 'scheduleTimer';
  readonly key: string;
  readonly delayMs: number;
  readonly event: TimerEvent;
}

/** The timer is no longer needed. Cancelling is tidiness: a stale timer is ignored anyway. */
export interface CancelTimerEffect {
  readonly type: 'cancelTimer';
  readonly key: string;
}

/** What other services may react to; published on the lifecycle topic. */
export type LifecycleEventType =
  'saga.started' | 'saga.stepCompleted' | 'saga.completed' | 'saga.compensated' | 'saga.failed';

/**
 * Publish a saga lifecycle event. `eventId` is deterministic (saga, version, position), so a
 * transition re-published after a crash carries the same id and consumers can dedupe.
 */
export interface EmitEventEffect {
  readonly type: 'emitEvent';
  readonly eventId: string;
  readonly event: LifecycleEventType;
  readonly sagaId: string;
  readonly sagaType: string;
  readonly sagaVersion: number;
  readonly businessKey: string | null;
  /** The instance version the event belongs to. */
  readonly version: number;
  readonly step?: string;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type Effect = SendCommandEffect | ScheduleTimerEffect | CancelTimerEffect | EmitEventEffect;

export type JournalType =
  | 'saga.started'
  | 'command.sent'
  | 'reply.received'
  /** Written by the shell for a valid reply the core ignored (late or stale), so the timeline shows it. */
  | 'reply.ignored'
  | 'step.skipped'
  | 'step.completed'
  | 'step.timedOut'
  | 'step.retrying'
  | 'step.failed'
  | 'saga.deadlineReached'
  | 'saga.compensating'
  | 'saga.completed'
  | 'saga.compensated'
  | 'saga.failed'
  /** An operator's action, with who and why. */
  | 'operator.action';

/** One line of the instance's timeline; the shell adds time, actor and version. */
export interface JournalEntry {
  readonly type: JournalType;
  readonly step?: string;
  readonly kind?: CommandKind;
  readonly attempt?: number;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type IgnoreReason = 'late' | 'stale';
export type RejectReason = 'invalid-input' | 'invalid-reply' | 'unknown-step' | 'illegal-action';

export type Decision =
  | {
      readonly kind: 'applied';
      readonly next: SagaInstance;
      readonly effects: readonly Effect[];
      readonly journal: readonly JournalEntry[];
    }
  /** Valid but without effect: after the end (`late`) or for another step or attempt (`stale`). */
  | { readonly kind: 'ignored'; readonly reason: IgnoreReason; readonly message: string }
  /** Invalid: the shell parks the message (or answers 400) with this reason. */
  | {
      readonly kind: 'rejected';
      readonly reason: RejectReason;
      readonly message: string;
      readonly errors: readonly FieldError[];
    };
