/** Injection tokens for values that are not classes. */
export const CONFIG = 'SAGAFLOW_CONFIG';
export const KAFKA = 'SAGAFLOW_KAFKA';
export const WAKEUPS = 'SAGAFLOW_TIMER_WAKEUPS';
