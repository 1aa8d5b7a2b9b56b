export * from './api-error';
export * from './api-error-codes';
export * from './api-exception.filter';
export * from './validation-failed.exception';
