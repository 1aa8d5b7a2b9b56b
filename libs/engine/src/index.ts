export * from './saga-instance';
export * from './saga-event';
export * from './decision';
export * from './engine-error';
export { decide } from './decide';
export { compensationPlan } from './operator';
export type { PlannedCommand } from './operator';
export { commandMessageId, idempotencyKey } from './commands';
export { attemptTimerKey, deadlineKey } from './timers';
