/** Injection tokens for values that are not classes. */
export const CONFIG = 'SAGAFLOW_CONFIG';
export const KAFKA = 'SAGAFLOW_KAFKA';
export const WAKEUPS = 'SAGAFLOW_TIMER_WAKEUPS';
/** The process's ProcessTelemetry (logger, metrics registry, tracer). */
export const PROCESS_TELEMETRY = 'SAGAFLOW_PROCESS_TELEMETRY';
