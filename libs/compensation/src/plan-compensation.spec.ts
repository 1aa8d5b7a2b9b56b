import { CompiledSaga, CompiledStep, RetryPolicy } from '@sagaflow/saga-dsl';
import { orderSaga } from '@sagaflow/sample-order';
import { planCompensation } from './index';

const policy: RetryPolicy = {
  maxAttempts: 3,
  initialDelayMs: 1000,
  multiplier: 2,
  maxDelayMs: 60_000,
  jitter: 0.2,
  retryOn: [],
  neverRetryOn: [],
};

/** A compiled step in its serialisable form, as the engine or the admin API would load it. */
function step(
  index: number,
  name: string,
  kind: CompiledStep['kind'],
  compensation: string | null,
  stage = index,
): CompiledStep {
  return {
    index,
    name,
    kind,
    stage,
    command: kind === 'local' ? null : { type: `test.${name}`, topic: 'test' },
    compensation: compensation === null ? null : { type: compensation, topic: 'test' },
    timeoutMs: null,
    onTimeout: 'retry',
    retry: policy,
    compensationTimeoutMs: null,
    compensationRetry: { ...policy, maxAttempts: 5 },
    conditional: false,
  };
}

function saga(pivotIndex: number | null, steps: CompiledStep[]): CompiledSaga {
  const stages = [...new Set(steps.map((s) => s.stage))].map((index) => {
    const members = steps.filter((s) => s.stage === index).map((s) => s.index);
    return { index, name: `stage${index}`, parallel: members.length > 1, steps: members };
  });
  return { name: 'test', version: 1, pivotIndex, deadlineMs: null, steps, stages };
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

  it('follows the reverse of completion order, not step order (group members finish in any order)', () => {
    const group = saga(3, [
      step(0, 'a', 'compensatable', 'test.undoA', 0),
      step(1, 'b', 'compensatable', 'test.undoB', 0),
      step(2, 'c', 'compensatable', 'test.undoC', 0),
      step(3, 'pay', 'pivot', null, 1),
    ]);
    const plan = planCompensation(group, [
      { index: 1, log: 'b' },
      { index: 2, log: 'c' },
      { index: 0, log: 'a' },
    ]);
    expect(plan.map((p) => p.step)).toEqual(['a', 'c', 'b']);
    expect(
      planCompensation(order, [
        { index: 1, log: null },
        { index: 0, log: null },
      ]).map((p) => p.index),
    ).toEqual([0, 1]);
  });

  it('plans a step whose outcome is unknown, with log undefined, in its completion place', () => {
    const plan = planCompensation(order, [
      { index: 0, log: { reservationId: 'cr-1' } },
      { index: 1, log: undefined, unknown: true },
    ]);
    expect(plan).toEqual([
      { index: 1, step: 'reserveInventory', commandType: 'inventory.release', log: undefined },
      {
        index: 0,
        step: 'reserveCredit',
        commandType: 'credit.release',
        log: { reservationId: 'cr-1' },
      },
    ]);
  });

  it('plans nothing when nothing completed', () => {
    expect(planCompensation(order, [])).toEqual([]);
  });

  it('plans nothing once the pivot completed, whatever else did', () => {
    const completed = [0, 1, 2].map((index) => ({ index, log: {} }));
    expect(planCompensation(order, completed)).toEqual([]);
    expect(planCompensation(order, [...completed, { index: 3, log: {} }])).toEqual([]);
  });

  it('skips steps that have no compensation, are not compensatable, or the saga does not have', () => {
    const mixed = saga(4, [
      step(0, 'a', 'compensatable', 'test.undoA'),
      step(1, 'b', 'compensatable', null),
      step(2, 'n', 'notification', null),
      step(3, 'l', 'local', null),
      step(4, 'c', 'pivot', null),
    ]);
    const completed = [0, 1, 2, 3, 7].map((index) => ({ index, log: index }));

    expect(planCompensation(mixed, completed)).toEqual([
      { index: 0, step: 'a', commandType: 'test.undoA', log: 0 },
    ]);
  });

  it('compensates every completed step of a saga without a pivot', () => {
    const noPivot = saga(null, [
      step(0, 'a', 'compensatable', 'test.undoA'),
      step(1, 'b', 'compensatable', 'test.undoB'),
    ]);
    const plan = planCompensation(
      noPivot,
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
