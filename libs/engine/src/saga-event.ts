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

export type SagaEvent = StartedEvent | ReplyReceivedEvent | TimerEvent;
