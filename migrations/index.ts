import { CoreStore1764100000000 } from './1764100000000-core-store';

/** Every migration, in order. Explicit classes, not globs: bundlers and the CLI agree on them. */
export const MIGRATIONS = [CoreStore1764100000000];
