export * from './standard-schema';
export * from './validation';
export * from './command';
export * from './duration';
export * from './retry-options';
export * from './compiled-saga';
export * from './definition-error';
export { defineSaga } from './saga-builder';
export type {
  SagaBuilder,
  AfterPivotBuilder,
  SagaOptions,
  StartOnOptions,
  ForwardStepOptions,
  CompensatableStepOptions,
  CompensationOptions,
  NotificationOptions,
  ParallelGroup,
  RetriableGroup,
} from './saga-builder';
export * from './redaction';
