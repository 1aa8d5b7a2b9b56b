/** Every code the participant kit raises itself (handlers' business failures are ParticipantFailure). */
export type ParticipantErrorCode = 'INVALID_PARTICIPANT_OPTIONS';

export abstract class ParticipantKitError extends Error {
  abstract readonly code: ParticipantErrorCode;
}

/** Thrown by the ParticipantService constructor, before anything connects. */
export class InvalidParticipantOptionsError extends ParticipantKitError {
  readonly code = 'INVALID_PARTICIPANT_OPTIONS';

  constructor(detail: string) {
    super(`participant options are invalid: ${detail}`);
    this.name = 'InvalidParticipantOptionsError';
  }
}
