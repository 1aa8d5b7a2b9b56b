import { CompiledSaga, CompiledStep } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { planCompensation } from './index';

/** A compiled step in its serialisable form, as the engine or the admin API would load it. */
function step(
  index: number,
  name: string,
  kind: CompiledStep['kind'],
  compensation: string | null,
): CompiledStep {
  return {
    index,
    name,
    kind,
    command: { type: `test.${name}`, topic: 'test' },
    compensation: compensation === null ? null : { type: compensation, topic: 'test' },
    maxAttempts: 1,
    compensationMaxAttempts: 3,
  };
}

describe('planCompensation', () => {
  const order = orderSaga.compiled;

  it('plans the completed compensatable steps, latest first, with their logs', () => {
    const completed = [
      { index: 0, log: { reservationId: 'cr-1' } },
      { index: 1, log: { reservationId: 'inv-1' } },
    ];

    expect(planCompensation(order, completed)).toEqual([
      {
        index: 1,
        step: 'reserveInventory',
        commandType: 'inventory.release',
        log: { reservationId: 'inv-1' },
      },
      {
        index: 0,
        step: 'reserveCredit',
        commandType: 'credit.release',
        log: { reservationId: 'cr-1' },
      },
    ]);
  });

  it('orders by step index even when the history is out of order', () => {
    const plan = planCompensation(order, [
      { index: 1, log: null },
      { index: 0, log: null },
    ]);
    expect(plan.map((p) => p.index)).toEqual([1, 0]);
  });

  it('plans nothing when nothing completed', () => {
    expect(planCompensation(order, [])).toEqual([]);
  });

  it('plans nothing once the pivot completed, whatever else did', () => {
    const completed = [0, 1, 2].map((index) => ({ index, log: {} }));
    expect(planCompensation(order, completed)).toEqual([]);
    expect(planCompensation(order, [...completed, { index: 3, log: {} }])).toEqual([]);
  });

  it('skips steps that have no compensation, and indexes the saga does not have', () => {
    const saga: CompiledSaga = {
      name: 'mixed',
      version: 1,
      pivotIndex: 2,
      steps: [
        step(0, 'a', 'compensatable', 'test.undoA'),
        step(1, 'b', 'compensatable', null),
        step(2, 'c', 'pivot', null),
      ],
    };
    const completed = [0, 1, 7].map((index) => ({ index, log: index }));

    expect(planCompensation(saga, completed)).toEqual([
      { index: 0, step: 'a', commandType: 'test.undoA', log: 0 },
    ]);
  });

  it('compensates every completed step of a saga without a pivot', () => {
    const saga: CompiledSaga = {
      name: 'no-pivot',
      version: 1,
      pivotIndex: null,
      steps: [
        step(0, 'a', 'compensatable', 'test.undoA'),
        step(1, 'b', 'compensatable', 'test.undoB'),
      ],
    };
    const plan = planCompensation(
      saga,
      [0, 1].map((index) => ({ index, log: null })),
    );
    expect(plan.map((p) => p.step)).toEqual(['b', 'a']);
  });

  it('leaves the history untouched', () => {
    const completed = Object.freeze([
      Object.freeze({ index: 0, log: 'a' }),
      Object.freeze({ index: 1, log: 'b' }),
    ]);
    planCompensation(order, completed);
    expect(completed.map((c) => c.index)).toEqual([0, 1]);
  });

  it('works on the JSON form of the compiled saga', () => {
    const json = JSON.parse(JSON.stringify(order)) as CompiledSaga;
    const completed = [{ index: 0, log: { reservationId: 'cr-1' } }];
    expect(planCompensation(json, completed)).toEqual(planCompensation(order, completed));
  });
});
