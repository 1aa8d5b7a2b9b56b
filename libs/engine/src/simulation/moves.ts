import fc from 'fast-check';
import { sagaShapeArb, SagaShape, ShapeFocus, ShapeOptions } from './shape';

const pick = fc.nat({ max: 1000 });

/*
 * A move is an abstract choice, interpreted against the world when it is played: `pick`
 * selects among what exists at that moment (modulo its count). So every generated sequence is
 * playable, and fast-check shrinks sequences and picks without producing impossible events.
 */

/** `poison`: a valid reply whose id starts with `bad` (a faulty onReply throws on it). */
export type ReplyKind = 'ok' | 'fail' | 'transient' | 'malformed' | 'poison';
export type ActionType = 'retry' | 'resume' | 'compensate' | 'cancel' | 'skip' | 'markCompensated';

export type Move =
  /** A participant answers a command it has not answered yet (maybe superseded, maybe late). */
  | {
      readonly t: 'reply';
      readonly pick: number;
      readonly outcome: ReplyKind;
      readonly failType: number;
    }
  /** A reply delivered again: the same message id, or the same attempt with a new message id. */
  | { readonly t: 'redeliver'; readonly pick: number; readonly sameId: boolean }
  /** A reply for an attempt that was never sent or another one (reordered), a notification, a step that does not exist. */
  | {
      readonly t: 'misdirected';
      readonly pick: number;
      readonly variant: 'older' | 'newer' | 'notification' | 'unknownStep';
      readonly outcome: ReplyKind;
    }
  /** The clock moves to the next armed timer, which fires. */
  | { readonly t: 'fireNext' }
  /** The clock moves on; every timer that falls due fires, in due order. */
  | { readonly t: 'elapse'; readonly ms: number }
  /** A step timer that already fired or was cancelled fires (again). */
  | { readonly t: 'staleTimer'; readonly pick: number }
  | {
      readonly t: 'operator';
      readonly action: ActionType;
      readonly pick: number;
      /** For skip: reply data that matches the step's reply schema, or not. */
      readonly valid: boolean;
      /** Pick among the actions the operator table allows now, instead of `action` (if any). */
      readonly legal: boolean;
    }
  /** The orchestrator dies: the instance is reloaded from its stored form. */
  | { readonly t: 'crash' };

/** How participants answer in the drain phase (cycled); then the operator retries what failed. */
export type DrainOutcome = 'ok' | 'fail' | 'transient';

export interface SimCase {
  readonly shape: SagaShape;
  /** Bit i set: the i-th conditional step is skipped (listed in the input). */
  readonly skipMask: number;
  readonly moves: readonly Move[];
  readonly drain: readonly DrainOutcome[];
}

/** Move weights: reply, redeliver, misdirected, fireNext, elapse, staleTimer, operator, crash. */
const WEIGHTS = {
  broad: { moves: [40, 5, 5, 10, 4, 4, 12, 4], replies: [12, 2, 3, 1, 1] },
  parallel: { moves: [40, 3, 3, 6, 3, 2, 20, 3], replies: [8, 2, 6, 1, 1] },
  backoff: { moves: [40, 1, 1, 2, 1, 1, 25, 2], replies: [6, 1, 8, 0, 0] },
} as const;

/** The moves of one focus (see ShapeFocus). */
export function moveArb(focus: ShapeFocus = 'broad'): fc.Arbitrary<Move> {
  const w = WEIGHTS[focus];
  const kinds: ReplyKind[] = ['ok', 'fail', 'transient', 'malformed', 'poison'];
  const replyKind = fc.oneof(
    ...kinds
      .map((k, i) => ({ weight: w.replies[i]!, arbitrary: fc.constant(k) }))
      .filter((x) => x.weight > 0),
  );
  const arbitraries: fc.Arbitrary<Move>[] = [
    fc.record({
      t: fc.constant('reply' as const),
      pick,
      outcome: replyKind,
      failType: fc.nat({ max: 3 }),
    }),
    fc.record({ t: fc.constant('redeliver' as const), pick, sameId: fc.boolean() }),
    fc.record({
      t: fc.constant('misdirected' as const),
      pick,
      variant: fc.constantFrom(
        'older' as const,
        'newer' as const,
        'notification' as const,
        'unknownStep' as const,
      ),
      outcome: replyKind,
    }),
    fc.constant({ t: 'fireNext' as const }),
    fc.record({
      t: fc.constant('elapse' as const),
      ms: fc.constantFrom(10, 100, 1000, 10_000, 100_000),
    }),
    fc.record({ t: fc.constant('staleTimer' as const), pick }),
    fc.record({
      t: fc.constant('operator' as const),
      action: fc.constantFrom<ActionType>(
        'retry',
        'resume',
        'compensate',
        'cancel',
        'skip',
        'markCompensated',
      ),
      pick,
      valid: fc.oneof(
        { weight: 4, arbitrary: fc.constant(true) },
        { weight: 1, arbitrary: fc.constant(false) },
      ),
      legal: fc.boolean(),
    }),
    fc.constant({ t: 'crash' as const }),
  ];
  return fc.oneof(...arbitraries.map((arbitrary, i) => ({ weight: w.moves[i]!, arbitrary })));
}

export interface CaseOptions extends ShapeOptions {
  readonly maxMoves?: number;
}

export function simCaseArb(options: CaseOptions = {}): fc.Arbitrary<SimCase> {
  return fc.record({
    shape: sagaShapeArb(options),
    skipMask: fc.nat({ max: 63 }),
    moves: fc.array(moveArb(options.focus), { maxLength: options.maxMoves ?? 80, size: 'max' }),
    drain: fc.array(fc.constantFrom<DrainOutcome>('ok', 'ok', 'fail', 'transient'), {
      minLength: 1,
      maxLength: 4,
    }),
  });
}

/** Only successful replies, in any order among those awaited: the happy path. */
export function happyCaseArb(options: ShapeOptions = {}): fc.Arbitrary<SimCase> {
  return fc.record({
    shape: sagaShapeArb({ ...options, faults: false }),
    skipMask: fc.nat({ max: 63 }),
    moves: fc.array(
      fc.record({
        t: fc.constant('reply' as const),
        pick: fc.nat({ max: 1000 }),
        outcome: fc.constant<ReplyKind>('ok'),
        failType: fc.constant(0),
      }),
      { maxLength: 30, size: 'max' },
    ),
    drain: fc.constant<DrainOutcome[]>(['ok']),
  });
}
