import { SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { setupTracing, Tracing, tracesEndpoint } from './tracing-setup';
import { SpanTracer } from './tracer';

const PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('SpanTracer.PROPAGATE_ONLY (tracing off)', () => {
  it('passes a valid header on unchanged and drops an invalid one', () => {
    const tracer = SpanTracer.PROPAGATE_ONLY;
    expect(tracer.start('x', PARENT, {}).traceparent).toBe(PARENT);
    expect(tracer.start('x', PARENT, {}).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(tracer.start('x', 'not-a-traceparent', {}).traceparent).toBeUndefined();
    expect(tracer.start('x', undefined, {}).traceparent).toBeUndefined();
  });
});

describe('setupTracing', () => {
  it('is off without an OTLP endpoint', async () => {
    const tracing = setupTracing({ serviceName: 't', env: {} });
    expect(tracing.tracer).toBe(SpanTracer.PROPAGATE_ONLY);
    await tracing.shutdown();
  });

  it('derives the traces URL from the standard variables', () => {
    expect(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' })).toBe(
      'http://c:4318/v1/traces',
    );
    expect(
      tracesEndpoint({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/x',
      }),
    ).toBe('http://t:4318/x');
    expect(tracesEndpoint({})).toBeUndefined();
  });

  describe('with an exporter', () => {
    let exporter: InMemorySpanExporter;
    let tracing: Tracing;

    beforeEach(() => {
      exporter = new InMemorySpanExporter();
      tracing = setupTracing({ serviceName: 'sagaflow-test', env: {}, exporter });
    });
    afterEach(() => tracing.shutdown());

    it('starts a child of the header: same trace, the header as parent, its own id on the children', () => {
      const span = tracing.tracer.start('saga.transition', PARENT, { 'saga.id': 's-1' });
      span.end();

      const [finished] = exporter.getFinishedSpans();
      expect(finished!.name).toBe('saga.transition');
      expect(finished!.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      expect(finished!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
      expect(finished!.attributes['saga.id']).toBe('s-1');
      expect(finished!.resource.attributes['service.name']).toBe('sagaflow-test');
      expect(span.traceparent).toBe(
        `00-4bf92f3577b34da6a3ce929d0e0e4736-${finished!.spanContext().spanId}-01`,
      );
    });

    it('starts a new trace without a header, and records an error', () => {
      const span = tracing.tracer.start('saga.transition', undefined, {});
      span.end(new Error('rolled back'));

      const [finished] = exporter.getFinishedSpans();
      expect(span.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
      expect(finished!.parentSpanContext).toBeUndefined();
      expect(finished!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'rolled back' });
    });
  });
});
