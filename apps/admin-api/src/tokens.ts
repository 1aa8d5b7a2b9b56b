/** The resolved SagaflowConfig. */
export const CONFIG = 'SAGAFLOW_CONFIG';
/** Announces timers armed by the API to the orchestrators' BullMQ queue (producer only). */
export const WAKEUPS = 'SAGAFLOW_TIMER_WAKEUPS';
