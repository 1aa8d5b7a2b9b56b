import { CoreStore1764100000000 } from './1764100000000-core-store';
import { SagaTimers1764200000000 } from './1764200000000-saga-timers';

/** Every migration, in order. Explicit classes, not globs: bundlers and the CLI agree on them. */
export const MIGRATIONS = [CoreStore1764100000000, SagaTimers1764200000000];
