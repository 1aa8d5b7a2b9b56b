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

/** A step deadline fired (wired to timers by the durability work; the core already handles it). */
export interface TimedOutEvent {
  readonly type: 'timedOut';
  readonly step: string;
  readonly kind: CommandKind;
  readonly attempt: number;
}

export type SagaEvent = StartedEvent | ReplyReceivedEvent | TimedOutEvent;
