import { TimerToSchedule } from '@sagaflow/persistence';

/**
 * W3C trace context level 1: `version-traceid-spanid-flags`, lowercase hex; version `ff` is
 * invalid, a later version may append fields. A plain pattern: the one in @opentelemetry/core
 * (lookaheads) costs microseconds per header, and every transition checks one.
 */
const TRACEPARENT = /^([\da-f]{2})-([\da-f]{32})-([\da-f]{16})-[\da-f]{2}(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

function parse(traceparent: string): { traceId: string; spanId: string } | null {
  const m = TRACEPARENT.exec(traceparent);
  if (!m || m[1] === 'ff' || (m[1] === '00' && m[4] !== undefined)) return null;
  if (m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return null;
  return { traceId: m[2]!, spanId: m[3]! };
}

/** Where a timer row keeps the trace of the transition that armed it (inside its `event`). */
export const TIMER_TRACE_FIELD = 'traceparent';

/**
 * The trace id of a W3C `traceparent` header, or undefined when the header is absent or invalid.
 *
 * @example
 * traceIdOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'); // '4bf92f35…4736'
 */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  if (!traceparent) return undefined;
  return parse(traceparent)?.traceId;
}

/** The header if it is a valid W3C `traceparent`; anything else is dropped, never propagated. */
export function validTraceparent(traceparent: string | undefined): string | undefined {
  return traceparent && parse(traceparent) ? traceparent : undefined;
}

/**
 * Stamps `traceparent` on the timers a transition armed (`timers[from…]`), so the transition the
 * timer fires later (a timeout, a retry, the deadline) joins the same trace. The timer's `event`
 * is jsonb, so the header travels with it at no schema cost; `timerTraceparent` reads it back.
 */
export function stampTimers(
  timers: TimerToSchedule[],
  from: number,
  traceparent: string | undefined,
): void {
  if (!traceparent) return;
  for (let i = from; i < timers.length; i++) {
    const timer = timers[i]!;
    const event: TimerToSchedule['event'] & Record<string, unknown> = {
      ...timer.event,
      [TIMER_TRACE_FIELD]: traceparent,
    };
    timers[i] = { ...timer, event };
  }
}

/**
 * Splits a stored timer event into the event the core expects and the trace it carries.
 *
 * @example
 * const { event, traceparent } = timerTraceparent<TimerEvent>(due.event);
 */
export function timerTraceparent<E extends { readonly type: string }>(
  stored: { readonly type: string } & Record<string, unknown>,
): { event: E; traceparent: string | undefined } {
  if (!(TIMER_TRACE_FIELD in stored))
    return { event: stored as unknown as E, traceparent: undefined };
  const { [TIMER_TRACE_FIELD]: raw, ...event } = stored;
  return {
    event: event as unknown as E,
    traceparent: validTraceparent(typeof raw === 'string' ? raw : undefined),
  };
}
