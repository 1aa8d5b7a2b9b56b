import { Decision, Effect, EmitEventEffect, JournalEntry, LifecycleEventType } from './decision';
import { SagaInstance } from './saga-instance';

/** One transition being built: the next state, effects and journal lines, in order. */
export interface Transition {
  readonly next: SagaInstance;
  readonly effects: readonly Effect[];
  readonly journal: readonly JournalEntry[];
}

/** What happened so far in this transition, carried into the function that finishes it. */
export interface Trail {
  readonly effects: readonly Effect[];
  readonly journal: readonly JournalEntry[];
}

export const EMPTY_TRAIL: Trail = { effects: [], journal: [] };

export function extend(
  trail: Trail,
  journal: readonly JournalEntry[],
  effects: readonly Effect[] = [],
): Trail {
  return { effects: [...trail.effects, ...effects], journal: [...trail.journal, ...journal] };
}

export function finish(next: SagaInstance, trail: Trail): Transition {
  return { next, effects: trail.effects, journal: trail.journal };
}

/** Completes a decision: the lifecycle events are derived from its journal, in one place. */
export function applied(t: Transition): Decision {
  return {
    kind: 'applied',
    next: t.next,
    effects: [...t.effects, ...lifecycleEvents(t)],
    journal: t.journal,
  };
}

const LIFECYCLE: Partial<Record<JournalEntry['type'], LifecycleEventType>> = {
  'saga.started': 'saga.started',
  'step.completed': 'saga.stepCompleted',
  'saga.completed': 'saga.completed',
  'saga.compensated': 'saga.compensated',
  'saga.failed': 'saga.failed',
};

function lifecycleEvents({ next, journal }: Transition): EmitEventEffect[] {
  return journal.flatMap((entry, position) => {
    const succeeded =
      entry.type === 'reply.received' &&
      entry.kind === 'forward' &&
      (entry.detail?.outcome as { status?: string } | undefined)?.status === 'success';
    const event = succeeded ? 'saga.stepCompleted' : LIFECYCLE[entry.type];
    if (!event) return [];
    const effect: EmitEventEffect = {
      type: 'emitEvent',
      eventId: `${next.id}:v${next.version}:${position}`,
      event,
      sagaId: next.id,
      sagaType: next.sagaType,
      sagaVersion: next.sagaVersion,
      businessKey: next.businessKey,
      version: next.version,
      ...(entry.step ? { step: entry.step } : {}),
      ...(event === 'saga.compensated' || event === 'saga.failed'
        ? { detail: { cause: (entry.detail as { cause?: unknown } | undefined)?.cause } }
        : {}),
    };
    return [effect];
  });
}
