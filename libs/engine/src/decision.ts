import { FieldError } from '@sagaflow/saga-dsl';
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
}

export type Effect = SendCommandEffect;

export type JournalType =
  | 'saga.started'
  | 'command.sent'
  | 'reply.received'
  /** Written by the shell for a valid reply the core ignored (late or stale), so the timeline shows it. */
  | 'reply.ignored'
  | 'step.retrying'
  | 'step.failed'
  | 'saga.compensating'
  | 'saga.completed'
  | 'saga.compensated'
  | 'saga.failed';

/** One line of the instance's timeline; the shell adds time, actor and version. */
export interface JournalEntry {
  readonly type: JournalType;
  readonly step?: string;
  readonly kind?: CommandKind;
  readonly attempt?: number;
  readonly detail?: Readonly<Record<string, unknown>>;
}

export type IgnoreReason = 'late' | 'stale';
export type RejectReason = 'invalid-input' | 'invalid-reply' | 'unknown-step';

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
