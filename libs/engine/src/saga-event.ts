import { CommandKind } from './saga-instance';

export type ReplyOutcome =
  | { readonly status: 'success'; readonly data: unknown }
  | {
      readonly status: 'failure';
      /** True for transient failures worth another attempt with the same idempotency key. */
      readonly retryable: boolean;
      /** Machine-readable failure type, e.g. `insufficient-credit`. */
      readonly type: string;
      readonly message: string;
    };

export interface StartedEvent {
  readonly type: 'started';
  readonly sagaId: string;
  readonly input: unknown;
  readonly businessKey: string | null;
}

export interface ReplyReceivedEvent {
  readonly type: 'replyReceived';
  readonly messageId: string;
  readonly step: string;
  readonly kind: CommandKind;
  readonly attempt: number;
  readonly outcome: ReplyOutcome;
}

/** A step attempt's deadline passed with no reply. Stale (another attempt, step done) → ignored. */
export interface TimedOutEvent {
  readonly type: 'timedOut';
  readonly step: string;
  readonly kind: CommandKind;
  readonly attempt: number;
}

/** The backoff before `attempt` is over: send it. */
export interface RetryDueEvent {
  readonly type: 'retryDue';
  readonly step: string;
  readonly kind: CommandKind;
  readonly attempt: number;
}

/** The saga's own deadline passed. */
export interface DeadlineReachedEvent {
  readonly type: 'deadlineReached';
}

/** Events that timers deliver; serialisable, stored with the timer. */
export type TimerEvent = TimedOutEvent | RetryDueEvent | DeadlineReachedEvent;

/**
 * What an operator can ask of a saga. Each is legal only in some states; the core says why
 * not otherwise (`rejected` with `illegal-action`).
 */
export type OperatorAction =
  /** A failed saga: re-send the failed step (or compensation) as a new attempt, same idempotency key. */
  | { readonly type: 'retry' }
  /** A running saga waiting out a retry backoff: send those attempts now. */
  | { readonly type: 'resume' }
  /** Undo what completed now (before the pivot): a running or forward-failed saga compensates. */
  | { readonly type: 'compensate' }
  /** Like compensate, recorded as a cancellation. */
  | { readonly type: 'cancel' }
  /** Treat an outstanding or failed forward step as succeeded with this reply data. */
  | { readonly type: 'skip'; readonly step: string; readonly reply: unknown }
  /** A failed (or stuck) compensation was done by hand: record the evidence and go on. */
  | { readonly type: 'markCompensated'; readonly evidence: string };

export interface OperatorActionEvent {
  readonly type: 'operatorAction';
  readonly action: OperatorAction;
  /** Who asked (principal name), and why: both go into the timeline. */
  readonly actor: string;
  readonly reason: string;
}

export type SagaEvent = StartedEvent | ReplyReceivedEvent | TimerEvent | OperatorActionEvent;
