import { RetryPolicy } from '@sagaflow/saga-dsl';
import { backoffDelay, decideRetry } from './index';

const policy: RetryPolicy = {
  maxAttempts: 5,
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
  retryOn: [],
  neverRetryOn: [],
};
const exact: RetryPolicy = { ...policy, jitter: 0 };
const transient = { retryable: true, type: 'unavailable' };

describe('decideRetry', () => {
  it('retries a retryable failure while attempts remain, with the backoff delay', () => {
    expect(decideRetry(exact, transient, 1, 'seed')).toEqual({ retry: true, delayMs: 1000 });
    expect(decideRetry(exact, transient, 4, 'seed')).toEqual({ retry: true, delayMs: 8000 });
  });

  it('stops once the attempt that failed was the last one', () => {
    expect(decideRetry(exact, transient, 5, 'seed')).toEqual({ retry: false });
    expect(decideRetry(exact, transient, 6, 'seed')).toEqual({ retry: false });
    expect(decideRetry({ ...exact, maxAttempts: 1 }, transient, 1, 'seed')).toEqual({
      retry: false,
    });
  });

  it('does not retry a failure the participant marked not retryable', () => {
    expect(decideRetry(exact, { retryable: false, type: 'declined' }, 1, 'seed')).toEqual({
      retry: false,
    });
  });

  it('retries a type in retryOn although the participant marked it not retryable', () => {
    const p = { ...exact, retryOn: ['locked'] };
    expect(decideRetry(p, { retryable: false, type: 'locked' }, 1, 'seed')).toEqual({
      retry: true,
      delayMs: 1000,
    });
    expect(decideRetry(p, { retryable: false, type: 'locked' }, 5, 'seed')).toEqual({
      retry: false,
    });
  });

  it('never retries a type in neverRetryOn although the participant marked it retryable', () => {
    const p = { ...exact, neverRetryOn: ['fraud'] };
    expect(decideRetry(p, { retryable: true, type: 'fraud' }, 1, 'seed')).toEqual({ retry: false });
    expect(decideRetry(p, { retryable: true, type: 'other' }, 1, 'seed')).toMatchObject({
      retry: true,
    });
  });

  it('is pure: the same policy, failure, attempt and seed give the same decision', () => {
    expect(decideRetry(policy, transient, 2, 's:a:forward:2')).toEqual(
      decideRetry(policy, transient, 2, 's:a:forward:2'),
    );
  });
});

describe('backoffDelay', () => {
  it('grows by the multiplier from the initial delay, without jitter', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(exact, a, 'seed'))).toEqual([
      1000, 2000, 4000, 8000, 16_000,
    ]);
    expect([1, 2, 3].map((a) => backoffDelay({ ...exact, multiplier: 1 }, a, 'seed'))).toEqual([
      1000, 1000, 1000,
    ]);
  });

  it('caps every delay at maxDelay', () => {
    const capped = { ...exact, maxDelayMs: 5000 };
    expect([1, 2, 3, 4, 10, 100].map((a) => backoffDelay(capped, a, 'seed'))).toEqual([
      1000, 2000, 4000, 5000, 5000, 5000,
    ]);
  });

  it('takes off at most the jitter fraction, never adds to it, and rounds to whole ms', () => {
    for (let i = 0; i < 500; i++) {
      const delay = backoffDelay({ ...policy, initialDelayMs: 333 }, 1, `saga-${i}:step:forward:1`);
      expect(Number.isInteger(delay)).toBe(true);
      expect(delay).toBeGreaterThanOrEqual(Math.round(333 * 0.8));
      expect(delay).toBeLessThanOrEqual(333);
    }
  });

  it('spreads the delays of different sagas over the jitter range', () => {
    const delays = Array.from({ length: 200 }, (_, i) =>
      backoffDelay({ ...policy, jitter: 1 }, 1, `saga-${i}:step:forward:1`),
    );
    expect(Math.min(...delays)).toBeLessThan(250);
    expect(Math.max(...delays)).toBeGreaterThan(750);
    expect(new Set(delays).size).toBeGreaterThan(150);
  });

  it('is deterministic, and pinned: a changed hash would move every stored retry', () => {
    expect([1, 2, 3].map((a) => backoffDelay(policy, a, `saga-1:charge:forward:${a}`))).toEqual([
      850, 1720, 3216,
    ]);
    expect(backoffDelay(policy, 2, 'any seed')).toBe(backoffDelay(policy, 2, 'any seed'));
  });

  it('never goes below zero with full jitter, and is zero when the initial delay is zero', () => {
    expect(backoffDelay({ ...policy, jitter: 1 }, 3, 'x')).toBeGreaterThanOrEqual(0);
    expect(backoffDelay({ ...policy, initialDelayMs: 0 }, 4, 'x')).toBe(0);
  });
});
