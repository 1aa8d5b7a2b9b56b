export * from './saga-simulation';
export * from './failure-matrix';
