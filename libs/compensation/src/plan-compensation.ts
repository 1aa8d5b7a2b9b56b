import { CompiledSaga } from '@sagaflow/saga-dsl';
import { CompletedStep } from './completed-step';

/** One compensation to run: which step it undoes and the log its payload is built from. */
export interface PlannedCompensation {
  readonly index: number;
  readonly step: string;
  readonly commandType: string;
  readonly log: unknown;
}

/**
 * Plans the undo of a failed saga: every completed compensatable step, in the reverse of the
 * order they completed (members of a parallel group complete in any order). The pivot and
 * the steps after it are never undone: a saga never compensates past its pivot.
 *
 * @example
 * planCompensation(orderSaga.compiled, [{ index: 0, log: { id: 'r1' } }, { index: 1, log: {} }]);
 * // → [{ index: 1, step: 'reserveInventory', … }, { index: 0, step: 'reserveCredit', … }]
 */
export function planCompensation(
  saga: CompiledSaga,
  completed: readonly CompletedStep[],
): PlannedCompensation[] {
  if (saga.pivotIndex !== null && completed.some((c) => c.index === saga.pivotIndex)) return [];
  return [...completed].reverse().flatMap((c) => {
    const step = saga.steps[c.index];
    if (!step || step.kind !== 'compensatable' || !step.compensation) return [];
    return [{ index: c.index, step: step.name, commandType: step.compensation.type, log: c.log }];
  });
}
