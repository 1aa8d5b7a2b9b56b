import { backoffDelay } from '@sagaflow/compensation';
import { RetryOptions, defineCommand, defineSaga } from '@sagaflow/saga-dsl';
import { z } from 'zod';
import { Scenario, scenario } from './testing/scenario';

const Ping = defineCommand({
  type: 'test.ping',
  topic: 'test.commands',
  payload: z.object({}),
  reply: z.object({}),
});
const Unping = defineCommand({
  type: 'test.unping',
  topic: 'test.commands',
  payload: z.object({}),
  reply: z.object({}),
});

/** reserve (compensatable, the step under test) → charge (pivot) → confirm (retriable, also under test). */
function saga(retry: RetryOptions) {
  return defineSaga({ name: 'retries', version: 1, input: z.object({}) })
    .step('reserve', {
      command: Ping,
      payload: () => ({}),
      compensate: { command: Unping, payload: () => ({}) },
      retry,
    })
    .pivot('charge', { command: Ping, payload: () => ({}) })
    .retriable('confirm', { command: Ping, payload: () => ({}), retry })
    .build();
}
const confirming = (retry: RetryOptions, sagaId = 'saga-1') =>
  scenario(saga(retry), sagaId).start({}).reply('reserve').reply('charge');

/** Fails `step` retryably until its attempts run out; returns each backoff delay. */
function delaysOf(s: Scenario, step: string): number[] {
  const delays: number[] = [];
  for (let attempt = 1; ; attempt++) {
    s.fail(step, { retryable: true, type: 'unavailable' });
    const timer = s.scheduled.find((t) => t.key.endsWith(':retry'));
    if (!timer) return delays;
    delays.push(timer.delayMs);
    s.fireTimer(s.timerKey(step, 'forward', attempt + 1, 'retry'));
  }
}

describe('decide: retry backoff', () => {
  it('grows the delay by the multiplier and caps it at maxDelay', () => {
    const s = confirming({
      maxAttempts: 7,
      initialDelay: '1s',
      multiplier: 3,
      maxDelay: '20s',
      jitter: 0,
    });
    expect(delaysOf(s, 'confirm')).toEqual([1000, 3000, 9000, 20_000, 20_000, 20_000]);
    s.expectStatus('failed');
    expect(s.sent.filter((c) => c.step === 'confirm')).toHaveLength(7);
  });

  it('takes at most the jitter fraction off each delay', () => {
    const s = confirming({
      maxAttempts: 12,
      initialDelay: 100,
      multiplier: 2,
      maxDelay: '1h',
      jitter: 0.5,
    });
    const delays = delaysOf(s, 'confirm');
    expect(delays).toHaveLength(11);
    delays.forEach((delay, i) => {
      const full = 100 * 2 ** i;
      expect(delay).toBeGreaterThanOrEqual(full / 2);
      expect(delay).toBeLessThanOrEqual(full);
    });
    // Jitter really varies: not every delay is the full exponential one.
    expect(delays.some((d, i) => d !== 100 * 2 ** i)).toBe(true);
  });

  it('is deterministic: the same saga, step and attempt always get the same delay', () => {
    const retry: RetryOptions = { maxAttempts: 6, jitter: 1 };
    const first = delaysOf(confirming(retry), 'confirm');
    expect(delaysOf(confirming(retry), 'confirm')).toEqual(first);
    const policy = saga(retry).steps[2]!.compiled.retry;
    expect(first).toEqual(
      [1, 2, 3, 4, 5].map((attempt) =>
        backoffDelay(policy, attempt, `saga-1:confirm:forward:${attempt}`),
      ),
    );
  });

  it('spreads the retries of different sagas apart (the seed includes the saga id)', () => {
    const retry: RetryOptions = { maxAttempts: 4, jitter: 1 };
    const delays = ['saga-1', 'saga-2', 'saga-3'].map((id) =>
      delaysOf(confirming(retry, id), 'confirm'),
    );
    expect(new Set(delays.map((d) => JSON.stringify(d))).size).toBe(3);
  });

  it('backs off before the pivot too, then compensates when attempts run out', () => {
    const s = scenario(saga({ maxAttempts: 2, initialDelay: '3s', jitter: 0 })).start({});
    expect(delaysOf(s, 'reserve')).toEqual([3000]);
    s.expectStatus('compensated');
  });
});

describe('decide: which failures are retried', () => {
  it('retries a failure the participant marked retryable', () => {
    confirming({})
      .fail('confirm', { retryable: true, type: 'unavailable' })
      .expectTimer('saga-1:confirm:forward:2:retry');
  });

  it('does not retry a failure the participant marked not retryable', () => {
    confirming({}).fail('confirm', { retryable: false, type: 'declined' }).expectStatus('failed');
  });

  it('retries a type listed in retryOn even when the participant said not retryable', () => {
    const s = confirming({ retryOn: ['locked'] }).fail('confirm', {
      retryable: false,
      type: 'locked',
    });
    s.expectStatus('running').expectTimer('saga-1:confirm:forward:2:retry');
    expect(s.journal.find((j) => j.type === 'step.failed')).toMatchObject({
      detail: { retryable: false },
    });
  });

  it('never retries a type listed in neverRetryOn even when the participant said retryable', () => {
    confirming({ neverRetryOn: ['fraud'] })
      .fail('confirm', { retryable: true, type: 'fraud' })
      .expectStatus('failed')
      .expectNoTimer();
  });

  it('applies retryOn and neverRetryOn to the type only: other types follow the participant', () => {
    const retry: RetryOptions = { retryOn: ['locked'], neverRetryOn: ['fraud'] };
    confirming(retry)
      .fail('confirm', { retryable: true, type: 'timeout-upstream' })
      .expectStatus('running');
    confirming(retry)
      .fail('confirm', { retryable: false, type: 'declined' })
      .expectStatus('failed');
  });

  it('compensates at once before the pivot when neverRetryOn overrides a retryable failure', () => {
    scenario(saga({ neverRetryOn: ['fraud'] }))
      .start({})
      .fail('reserve', { retryable: true, type: 'fraud' })
      .expectStatus('compensated')
      .expectNoTimer();
  });

  it('still stops at maxAttempts for a type in retryOn', () => {
    const s = confirming({ maxAttempts: 2, retryOn: ['locked'] });
    s.fail('confirm', { type: 'locked' }).fireTimer('saga-1:confirm:forward:2:retry');
    s.fail('confirm', { type: 'locked' }).expectStatus('failed');
  });
});
