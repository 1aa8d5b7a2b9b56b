/** A saga definition that cannot be built; the message says how to fix it. */
export class SagaDefinitionError extends Error {
  readonly code = 'INVALID_SAGA_DEFINITION';

  constructor(
    readonly sagaName: string,
    readonly problems: readonly string[],
  ) {
    super(`Saga "${sagaName}" is invalid:\n- ${problems.join('\n- ')}`);
    this.name = 'SagaDefinitionError';
  }
}
