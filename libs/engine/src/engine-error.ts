/** A caller broke the engine's contract (a bug, not bad input); the message says which rule. */
export class EngineContractError extends Error {
  readonly code = 'ENGINE_CONTRACT';

  constructor(message: string) {
    super(message);
    this.name = 'EngineContractError';
  }
}
