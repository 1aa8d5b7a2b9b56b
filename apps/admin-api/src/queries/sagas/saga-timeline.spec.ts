import { TimelineEntry } from '@sagaflow/persistence';
import { mergeTimeline, SagaAuditEntry } from './saga-timeline';

const journal = (id: string, at: string, type: TimelineEntry['type']): TimelineEntry => ({
  id,
  sagaId: 's',
  instanceVersion: Number(id),
  type,
  actor: 'reply',
  detail: {},
  recordedAt: new Date(at),
});

const audit = (id: string, at: string, action: string): SagaAuditEntry => ({
  id,
  recordedAt: at,
  principal: { id: 'key:1', name: 'ops', role: 'operator' },
  action,
  reason: 'because',
  outcome: 'applied',
  statusCode: 200,
  detail: { step: 'chargePayment' },
});

describe('mergeTimeline', () => {
  it('orders journal and audit lines by time; a request comes before the transition it caused', () => {
    const lines = mergeTimeline(
      [
        journal('1', '2025-01-01T00:00:00.000Z', 'saga.started'),
        journal('2', '2025-01-01T00:00:05.000Z', 'command.sent'),
      ],
      [audit('9', '2025-01-01T00:00:05.000Z', 'saga.retry')],
    );
    expect(lines.map((l) => `${l.source}:${l.type}`)).toEqual([
      'journal:saga.started',
      'audit:operator.saga.retry',
      'journal:command.sent',
    ]);
    expect(lines[1]).toEqual({
      at: new Date('2025-01-01T00:00:05.000Z'),
      source: 'audit',
      version: null,
      type: 'operator.saga.retry',
      step: null,
      kind: null,
      attempt: null,
      actor: 'operator:ops',
      detail: {
        auditId: '9',
        outcome: 'applied',
        statusCode: 200,
        reason: 'because',
        step: 'chargePayment',
      },
    });
  });
});
