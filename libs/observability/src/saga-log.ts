import { CommandKind, Effect, SagaInstance } from '@sagaflow/engine';
import { redactSensitive, SagaDefinition } from '@sagaflow/saga-dsl';
import { StepOutcome } from './saga-metrics';

/** What caused a transition, as logs, spans and the step clock need it. */
export interface TransitionCause {
  /** The core's event: `started`, `replyReceived`, `timedOut`, `retryDue`, `deadlineReached`… */
  readonly event: string;
  readonly step?: string | null;
  readonly kind?: CommandKind | null;
  readonly attempt?: number | null;
  /** For a reply: the command it answers and how it went. */
  readonly reply?: {
    readonly inReplyTo: string;
    readonly outcome: Exclude<StepOutcome, 'timeout'>;
  };
}

/** The fields every log line about a saga carries. */
export interface SagaLogFields {
  readonly sagaId: string;
  readonly sagaType: string;
  readonly sagaVersion: number;
  readonly version: number;
  readonly status: string;
  readonly event: string;
  readonly step: string | null;
  readonly kind: CommandKind | null;
  readonly attempt: number | null;
}

/**
 * The saga fields of a transition's log line. A start names the first step it sends (attempt 1),
 * so even `saga started` says where the saga is.
 */
export function sagaFields(t: {
  readonly next: SagaInstance;
  readonly effects: readonly Effect[];
  readonly cause: TransitionCause;
}): SagaLogFields {
  const { next, cause } = t;
  const first = cause.step ? undefined : t.effects.find((e) => e.type === 'sendCommand');
  return {
    sagaId: next.id,
    sagaType: next.sagaType,
    sagaVersion: next.sagaVersion,
    version: next.version,
    status: next.status,
    event: cause.event,
    step: cause.step ?? first?.step ?? null,
    kind: cause.kind ?? first?.kind ?? null,
    attempt: cause.attempt ?? first?.attempt ?? null,
  };
}

/**
 * A payload as it may be logged: every field the definition marks `sensitive` reads
 * `[redacted]`, at any depth.
 *
 * @example
 * redactPayload(orderSaga, { orderId: '1', card: '4242…' }); // { orderId: '1', card: '[redacted]' }
 */
export function redactPayload(definition: SagaDefinition | undefined, value: unknown): unknown {
  return redactSensitive(value, definition?.compiled.sensitive ?? []);
}

/** The commands a transition sends, payloads redacted: for debug lines. */
export function commandLines(definition: SagaDefinition, effects: readonly Effect[]) {
  return effects.flatMap((e) =>
    e.type === 'sendCommand'
      ? [
          {
            step: e.step,
            kind: e.kind,
            attempt: e.attempt,
            commandType: e.commandType,
            payload: redactPayload(definition, e.payload),
          },
        ]
      : [],
  );
}
