export * from './completed-step';
export * from './plan-compensation';
