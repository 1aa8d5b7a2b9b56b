export * from './runtime-errors';
export * from './definition-registry';
export * from './command-outbox';
export * from './start-saga';
export * from './reply-batch-processor';
export * from './outbox-relay';
export * from './reply-consumer';
export * from './store-bootstrap';
