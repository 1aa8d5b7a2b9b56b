import { SagaFailure, SagaInstance } from '@sagaflow/engine';
import { StoredInstance } from '@sagaflow/persistence';
import { orderSaga } from '@sagaflow/sample-order';
import { sagaDetailView } from './saga-detail.view';

const cause: SagaFailure = { step: 'confirmOrder', kind: 'forward', type: 'down', message: 'down' };
const base = {
  id: 's-1',
  sagaType: 'order',
  sagaVersion: 1,
  version: 3,
  businessKey: 'o-1',
  data: { orderId: 'o-1', card: '4111' },
  completed: [{ index: 0, log: { reservationId: 'r-1', card: '4111' } }],
};
const updatedAt = new Date('2025-01-01T00:10:00Z');

function view(instance: SagaInstance, redact: readonly string[] = []) {
  const stored: StoredInstance = {
    instance,
    idempotencyKey: 'k',
    createdAt: new Date(0),
    updatedAt,
  };
  return sagaDetailView({
    stored,
    definition: orderSaga,
    journal: [
      {
        id: '1',
        sagaId: 's-1',
        instanceVersion: 1,
        type: 'saga.started',
        actor: 'api',
        detail: { input: { card: '4111' } },
        recordedAt: new Date(0),
      },
    ],
    audit: [],
    timers: [
      {
        key: 's-1:deadline',
        event: { type: 'deadlineReached' },
        dueAt: new Date(300_000),
        overdue: true,
      },
    ],
    redact,
  });
}

describe('sagaDetailView', () => {
  it('describes the step a running saga waits on, and its deadline', () => {
    const v = view({
      ...base,
      status: 'running',
      stage: 1,
      pending: [{ step: 1, attempt: 2, waiting: 'retry' }],
      stageFailure: null,
    });
    expect(v.currentStep).toEqual({
      index: 1,
      name: 'reserveInventory',
      kind: 'compensatable',
      phase: 'forward',
      attempt: 2,
      waiting: 'retry',
      since: updatedAt,
    });
    expect(v.deadline).toEqual(new Date(300_000));
    expect(v.pendingTimers).toEqual([
      {
        key: 's-1:deadline',
        type: 'deadlineReached',
        step: null,
        kind: null,
        attempt: null,
        dueAt: new Date(300_000),
        overdue: true,
      },
    ]);
  });

  it('describes the compensation under way, and the step a failed saga stopped at', () => {
    const compensating = view({
      ...base,
      status: 'compensating',
      currentStep: 0,
      attempt: 1,
      waiting: 'reply',
      remaining: [],
      cause,
    });
    expect(compensating.currentStep).toMatchObject({
      index: 0,
      phase: 'compensate',
      waiting: 'reply',
    });
    const failed = view({ ...base, status: 'failed', failedStep: 3, cause, resume: null });
    expect(failed.currentStep).toMatchObject({
      index: 3,
      name: 'confirmOrder',
      phase: 'forward',
      attempt: null,
      waiting: 'operator',
    });
    expect(view({ ...base, status: 'completed' }).currentStep).toBeNull();
  });

  it('redacts data, completed-step logs and timeline details when asked', () => {
    const v = view({ ...base, status: 'completed' }, ['card']);
    expect(v.data).toEqual({ orderId: 'o-1', card: '[redacted]' });
    expect(v.completedSteps[0]!.log).toEqual({ reservationId: 'r-1', card: '[redacted]' });
    expect(v.timeline[0]!.detail).toEqual({ input: { card: '[redacted]' } });
    expect(v.redacted).toEqual(['card']);
    expect(view({ ...base, status: 'completed' }).data).toEqual(base.data);
  });
});
