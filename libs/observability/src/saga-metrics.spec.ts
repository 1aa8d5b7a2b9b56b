import { MetricValueWithName, Registry } from 'prom-client';
import { SagaMetrics } from './saga-metrics';

async function series(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  // Histograms name each value (`_bucket`, `_sum`, `_count`); counters leave it out.
  return metric ? ((await metric.get()).values as Array<MetricValueWithName<string>>) : [];
}

function command(messageId: string, overrides: Record<string, unknown> = {}) {
  return {
    messageId,
    headers: { 'sagaflow-step': 'reserveCredit', 'sagaflow-reply-topic': 'replies' },
    body: { expectsReply: true, ...overrides },
  };
}

describe('SagaMetrics', () => {
  let registry: Registry;
  let metrics: SagaMetrics;

  beforeEach(() => {
    registry = new Registry();
    metrics = new SagaMetrics(registry, 4);
  });

  it('counts the lifecycle lines of a committed transition, by saga type and version', async () => {
    metrics.transitionCommitted('order', 1, [{ type: 'saga.started' }, { type: 'command.sent' }]);
    metrics.transitionCommitted('order', 1, [
      { type: 'reply.received' },
      { type: 'saga.completed' },
    ]);
    metrics.transitionCommitted('order', 2, [{ type: 'saga.compensated' }]);
    metrics.transitionCommitted('order', 2, [{ type: 'saga.failed' }]);

    const labels = { saga_type: 'order', saga_version: '1' };
    expect(await series(registry, 'sagaflow_sagas_started_total')).toEqual([
      expect.objectContaining({ labels, value: 1 }),
    ]);
    expect(await series(registry, 'sagaflow_sagas_completed_total')).toEqual([
      expect.objectContaining({ labels, value: 1 }),
    ]);
    expect(await series(registry, 'sagaflow_sagas_compensated_total')).toEqual([
      expect.objectContaining({ labels: { ...labels, saga_version: '2' }, value: 1 }),
    ]);
    expect(await series(registry, 'sagaflow_sagas_failed_total')).toEqual([
      expect.objectContaining({ labels: { ...labels, saga_version: '2' }, value: 1 }),
    ]);
  });

  it('starts every counter of a registered definition at zero', async () => {
    metrics.registerDefinitions([{ name: 'order', version: 1 }]);
    for (const what of ['started', 'completed', 'compensated', 'failed'])
      expect(await series(registry, `sagaflow_sagas_${what}_total`)).toEqual([
        expect.objectContaining({ labels: { saga_type: 'order', saga_version: '1' }, value: 0 }),
      ]);
  });

  it('times a step from the command published to its reply applied, by outcome', async () => {
    metrics.commandsPublished([command('s:reserveCredit:forward:1')]);
    metrics.stepSettled(
      'order',
      's:reserveCredit:forward:1',
      'reserveCredit',
      'forward',
      'success',
    );
    // A second reply to the same command (or one this process never published) is not timed.
    metrics.stepSettled(
      'order',
      's:reserveCredit:forward:1',
      'reserveCredit',
      'forward',
      'success',
    );
    metrics.stepSettled('order', 'elsewhere:1', 'reserveCredit', 'forward', 'failure');

    const values = await series(registry, 'sagaflow_step_duration_seconds');
    const count = values.find((v) => v.metricName === 'sagaflow_step_duration_seconds_count');
    expect(count).toEqual(
      expect.objectContaining({
        labels: { saga_type: 'order', step: 'reserveCredit', kind: 'forward', outcome: 'success' },
        value: 1,
      }),
    );
    expect(values.filter((v) => v.labels.outcome === 'failure')).toEqual([]);
  });

  it('does not time notifications, lifecycle events or dead-letter copies, and forgets old clocks beyond its bound', async () => {
    metrics.commandsPublished([
      command('notify:1', { expectsReply: false }),
      { messageId: 'event:1', headers: {}, body: {} },
      command('a'),
      command('b'),
      command('c'),
      command('d'),
      command('e'),
    ]);
    for (const id of ['notify:1', 'event:1', 'a', 'b', 'c', 'd', 'e'])
      metrics.stepSettled('order', id, 'reserveCredit', 'forward', 'timeout');

    const values = await series(registry, 'sagaflow_step_duration_seconds');
    const count = values.find((v) => v.metricName === 'sagaflow_step_duration_seconds_count');
    // Bound 4: two generations of 2; starting the third (e) dropped the first (a, b).
    expect(count?.value).toBe(3);
  });

  it('observes saga durations by type and end status', async () => {
    metrics.sagaEnded('order', 'compensated', 2.5);
    const values = await series(registry, 'sagaflow_saga_duration_seconds');
    expect(values).toContainEqual(
      expect.objectContaining({
        metricName: 'sagaflow_saga_duration_seconds_sum',
        labels: { saga_type: 'order', status: 'compensated' },
        value: 2.5,
      }),
    );
  });
});
