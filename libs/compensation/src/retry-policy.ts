import { RetryPolicy } from '@sagaflow/saga-dsl';

export interface FailureFacts {
  /** What the participant said (timeouts count as retryable). */
  readonly retryable: boolean;
  readonly type: string;
}

export type RetryDecision =
  { readonly retry: true; readonly delayMs: number } | { readonly retry: false };

/**
 * Should `attempt` be followed by another? Retried when the participant marked the failure
 * retryable (unless its type is in `neverRetryOn`) or when its type is in `retryOn`, and
 * attempts remain. The delay grows exponentially up to `maxDelayMs`, minus a jitter that is
 * derived from `seed` (saga, step, kind, attempt), so the decision is pure and repeatable.
 *
 * @example
 * decideRetry(step.retry, { retryable: true, type: 'timeout' }, 1, 'saga-1:charge:forward:1');
 * // → { retry: true, delayMs: 912 }
 */
export function decideRetry(
  policy: RetryPolicy,
  failure: FailureFacts,
  attempt: number,
  seed: string,
): RetryDecision {
  const retryableType =
    policy.retryOn.includes(failure.type) ||
    (failure.retryable && !policy.neverRetryOn.includes(failure.type));
  if (!retryableType || attempt >= policy.maxAttempts) return { retry: false };
  return { retry: true, delayMs: backoffDelay(policy, attempt, seed) };
}

/** The delay after `attempt` failed: initial × multiplier^(attempt-1), capped, minus jitter. */
export function backoffDelay(policy: RetryPolicy, attempt: number, seed: string): number {
  const exponential = policy.initialDelayMs * Math.pow(policy.multiplier, attempt - 1);
  const capped = Math.min(policy.maxDelayMs, exponential);
  return Math.round(capped * (1 - policy.jitter * unitHash(seed)));
}

/**
 * FNV-1a with murmur3's final mix (so seeds that differ in one character still land far
 * apart), scaled to [0, 1): a stable stand-in for randomness in a pure function.
 */
function unitHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) / 0x100000000;
}
