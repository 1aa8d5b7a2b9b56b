export * from './standard-schema';
export * from './validation';
export * from './command';
export * from './compiled-saga';
export * from './definition-error';
export { defineSaga } from './saga-builder';
export type {
  SagaBuilder,
  AfterPivotBuilder,
  SagaOptions,
  ForwardStepOptions,
  CompensatableStepOptions,
} from './saga-builder';
