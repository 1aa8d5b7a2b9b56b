import { TimerToSchedule } from '@sagaflow/persistence';
import { stampTimers, timerTraceparent, traceIdOf } from './trace-context';

const HEADER = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('trace context on timers', () => {
  it('stamps only the timers the transition armed, and reads the header back', () => {
    const timers: TimerToSchedule[] = [
      { key: 'earlier', sagaId: 's', delayMs: 1, event: { type: 'deadlineReached' } },
      { key: 'mine', sagaId: 's', delayMs: 1, event: { type: 'timedOut' } },
    ];
    stampTimers(timers, 1, HEADER);

    expect(timers[0]!.event).toEqual({ type: 'deadlineReached' });
    const { event, traceparent } = timerTraceparent<{ type: string }>(timers[1]!.event);
    expect(event).toEqual({ type: 'timedOut' });
    expect(traceparent).toBe(HEADER);
  });

  it('leaves timers as they are without a trace, and ignores a stored header that is not valid', () => {
    const timers: TimerToSchedule[] = [{ key: 'k', sagaId: 's', delayMs: 1, event: { type: 'x' } }];
    stampTimers(timers, 0, undefined);
    expect(timers[0]!.event).toEqual({ type: 'x' });
    expect(timerTraceparent({ type: 'x', traceparent: 'garbage' })).toEqual({
      event: { type: 'x' },
      traceparent: undefined,
    });
  });

  it('reads the trace id of a header', () => {
    expect(traceIdOf(HEADER)).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(traceIdOf('00-zz')).toBeUndefined();
    expect(traceIdOf(`ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`)).toBeUndefined();
    expect(traceIdOf(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01-extra`)).toBeUndefined();
    expect(traceIdOf(`01-${'a'.repeat(32)}-${'b'.repeat(16)}-01-extra`)).toBe('a'.repeat(32));
    expect(traceIdOf(undefined)).toBeUndefined();
  });
});
