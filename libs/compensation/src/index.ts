export * from './completed-step';
export * from './plan-compensation';
export * from './retry-policy';
