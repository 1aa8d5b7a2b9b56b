import { Duration } from './duration';

/** How a step (or its compensation) retries a failure. Every field has a default. */
export interface RetryOptions {
  /** Attempts in all, the first included. */
  readonly maxAttempts?: number;
  /** Delay before the second attempt (default `'1s'`); later delays grow by `multiplier`. */
  readonly initialDelay?: Duration;
  /** Growth factor between delays (default 2). */
  readonly multiplier?: number;
  /** Upper bound for one delay (default `'1m'`). */
  readonly maxDelay?: Duration;
  /** Fraction of each delay taken off at random, 0 to 1 (default 0.2), so retries spread out. */
  readonly jitter?: number;
  /** Failure types retried even when the participant marked them not retryable. */
  readonly retryOn?: readonly string[];
  /** Failure types never retried, even when the participant marked them retryable. */
  readonly neverRetryOn?: readonly string[];
}

/** The compiled form: every field resolved, durations in milliseconds. */
export interface RetryPolicy {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly multiplier: number;
  readonly maxDelayMs: number;
  readonly jitter: number;
  readonly retryOn: readonly string[];
  readonly neverRetryOn: readonly string[];
}

/** What a timeout means for a forward step: try again, give up and compensate, or stop for an operator. */
export type TimeoutAction = 'retry' | 'compensate' | 'park';
