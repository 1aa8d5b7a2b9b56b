import { Decision, Effect, JournalEntry } from './decision';
import { SagaInstance } from './saga-instance';

/** Accumulates one transition: the next state, effects and journal lines, in order. */
export interface Transition {
  readonly next: SagaInstance;
  readonly effects: readonly Effect[];
  readonly journal: readonly JournalEntry[];
}

export function transition(
  next: SagaInstance,
  journal: JournalEntry[] = [],
  effects: Effect[] = [],
): Transition {
  return { next, effects, journal };
}

/** Appends journal lines recorded before `t` (the event itself) to a transition. */
export function prepend(before: readonly JournalEntry[], t: Transition): Transition {
  return { ...t, journal: [...before, ...t.journal] };
}

export function applied(t: Transition): Decision {
  return { kind: 'applied', next: t.next, effects: t.effects, journal: t.journal };
}
