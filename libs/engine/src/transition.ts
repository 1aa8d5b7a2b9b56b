import { Decision, Effect, JournalEntry } from './decision';
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

export function applied(t: Transition): Decision {
  return { kind: 'applied', next: t.next, effects: t.effects, journal: t.journal };
}
