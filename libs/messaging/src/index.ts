export * from './wire-contract';
export * from './codec';
export * from './kafka-client';
export * from './self-healing-consumer';
