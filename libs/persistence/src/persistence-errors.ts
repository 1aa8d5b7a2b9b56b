/** Another writer changed the instance first. Consumers retry the batch; the API answers 409. */
export class OptimisticLockError extends Error {
  readonly code = 'OPTIMISTIC_LOCK_CONFLICT';

  constructor(readonly sagaIds: readonly string[]) {
    super(`saga instance(s) ${sagaIds.join(', ')} changed concurrently: reload and retry`);
    this.name = 'OptimisticLockError';
  }
}

/** A stored definition differs from the code's definition with the same name and version. */
export class DefinitionConflictError extends Error {
  readonly code = 'DEFINITION_CONFLICT';

  constructor(name: string, version: number) {
    super(
      `saga "${name}" v${version} is already registered with a different step graph. ` +
        `Instances keep the version they started with, so a changed definition needs a new version: bump "version" in defineSaga().`,
    );
    this.name = 'DefinitionConflictError';
  }
}
