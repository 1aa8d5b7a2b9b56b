import { FieldError } from '@sagaflow/saga-dsl';

/** Every code the runtime raises; the admin API maps each to one HTTP status. */
export type RuntimeErrorCode =
  | 'UNKNOWN_SAGA_TYPE'
  | 'INVALID_SAGA_INPUT'
  | 'SAGA_NOT_FOUND'
  | 'DUPLICATE_DEFINITION'
  | 'INVALID_DEFINITION_MODULE'
  | 'MISSING_DEFINITION_VERSION'
  | 'ILLEGAL_ACTION'
  | 'VERSION_MISMATCH'
  | 'INVALID_OPERATOR_REPLY'
  | 'ACTION_FORBIDDEN';

export abstract class SagaRuntimeError extends Error {
  abstract readonly code: RuntimeErrorCode;
}

export class UnknownSagaTypeError extends SagaRuntimeError {
  readonly code = 'UNKNOWN_SAGA_TYPE';

  constructor(sagaType: string, known: readonly string[]) {
    super(
      `no saga definition named "${sagaType}" is registered; known types: ${known.join(', ') || '(none)'}. Check the name, or register the definition in the orchestrator and the admin API.`,
    );
    this.name = 'UnknownSagaTypeError';
  }
}

export class InvalidSagaInputError extends SagaRuntimeError {
  readonly code = 'INVALID_SAGA_INPUT';

  constructor(
    sagaType: string,
    readonly errors: readonly FieldError[],
  ) {
    super(
      `input of saga "${sagaType}" is invalid: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`,
    );
    this.name = 'InvalidSagaInputError';
  }
}

export class SagaNotFoundError extends SagaRuntimeError {
  readonly code = 'SAGA_NOT_FOUND';

  constructor(id: string) {
    super(`no saga instance with id ${id}`);
    this.name = 'SagaNotFoundError';
  }
}

export class DuplicateDefinitionError extends SagaRuntimeError {
  readonly code = 'DUPLICATE_DEFINITION';

  constructor(name: string, version: number) {
    super(
      `saga "${name}" v${version} is registered twice: each name and version must be defined once.`,
    );
    this.name = 'DuplicateDefinitionError';
  }
}

/** A module named by `SAGAFLOW_DEFINITIONS` cannot be loaded or exports no saga definitions. */
export class InvalidDefinitionModuleError extends SagaRuntimeError {
  readonly code = 'INVALID_DEFINITION_MODULE';

  constructor(
    readonly modulePath: string,
    problem: string,
  ) {
    super(
      `SAGAFLOW_DEFINITIONS names ${modulePath}, which ${problem}. Name built JavaScript modules (comma-separated, absolute or relative to the working directory), each exporting \`definitions\`: an array of defineSaga(...).build() results.`,
    );
    this.name = 'InvalidDefinitionModuleError';
  }
}

/** Live instances use a definition version this build does not contain. */
export class MissingDefinitionVersionError extends SagaRuntimeError {
  readonly code = 'MISSING_DEFINITION_VERSION';

  constructor(message: string) {
    super(message);
    this.name = 'MissingDefinitionVersionError';
  }
}

/** An operator action the saga's current state does not allow (the engine said why). */
export class IllegalActionError extends SagaRuntimeError {
  readonly code = 'ILLEGAL_ACTION';

  constructor(message: string) {
    super(message);
    this.name = 'IllegalActionError';
  }
}

/** `If-Match` named a version the saga has moved past: reload it and decide again. */
export class VersionMismatchError extends SagaRuntimeError {
  readonly code = 'VERSION_MISMATCH';

  /** `actual` is null when the saga moved on while the action was being written. */
  constructor(id: string, expected: number, actual: number | null) {
    super(
      `saga ${id} is ${actual === null ? 'no longer' : `at version ${actual}, not`} at version ${expected} (If-Match): it changed since you read it; reload it and decide again`,
    );
    this.name = 'VersionMismatchError';
  }
}

/** Reply data an operator supplied for a skipped step does not match the step's reply schema. */
export class InvalidOperatorReplyError extends SagaRuntimeError {
  readonly code = 'INVALID_OPERATOR_REPLY';

  constructor(
    message: string,
    readonly errors: readonly FieldError[],
  ) {
    super(`${message}: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`);
    this.name = 'InvalidOperatorReplyError';
  }
}

/** The caller may not act on sagas of this type (its credentials are scoped to others). */
export class ActionForbiddenError extends SagaRuntimeError {
  readonly code = 'ACTION_FORBIDDEN';

  constructor(sagaId: string, sagaType: string) {
    super(
      `your credentials may not act on saga ${sagaId}: it is a "${sagaType}" saga, outside the saga types they are scoped to; ask an admin for a key that covers it`,
    );
    this.name = 'ActionForbiddenError';
  }
}
