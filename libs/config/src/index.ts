export * from './sagaflow-config';
export * from './crash-point';
