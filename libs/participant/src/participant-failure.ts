/**
 * Thrown by a command handler to reply `failure`. A business rejection (`retryable: false`)
 * is final for the idempotency key and stored; a transient one is not stored, so a retry runs again.
 *
 * @example
 * if (available < quantity) throw ParticipantFailure.rejected('out-of-stock', `only ${available} left`);
 */
export class ParticipantFailure extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ParticipantFailure';
  }

  /** A final business answer: the saga will compensate (or stop after its pivot). */
  static rejected(type: string, message: string): ParticipantFailure {
    return new ParticipantFailure(type, message, false);
  }

  /** A transient problem: the orchestrator may retry with the same idempotency key. */
  static transient(type: string, message: string): ParticipantFailure {
    return new ParticipantFailure(type, message, true);
  }
}
