import { CoreStore1764100000000 } from './1764100000000-core-store';
import { SagaTimers1764200000000 } from './1764200000000-saga-timers';
import { AdminSecurity1764300000000 } from './1764300000000-admin-security';
import { AdminSearch1764400000000 } from './1764400000000-admin-search';

/** Every migration, in order. Explicit classes, not globs: bundlers and the CLI agree on them. */
export const MIGRATIONS = [
  CoreStore1764100000000,
  SagaTimers1764200000000,
  AdminSecurity1764300000000,
  AdminSearch1764400000000,
];
