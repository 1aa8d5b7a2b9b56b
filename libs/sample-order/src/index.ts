export * from './order-commands';
export * from './order-events';
export * from './order-saga';

import { orderSaga } from './order-saga';
/** The definitions the sample deployment runs; a real deployment lists its own. */
export const sampleDefinitions = [orderSaga];
