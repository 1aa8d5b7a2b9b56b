import { CommandEnvelope } from '@sagaflow/messaging';
import { orderSaga } from '@sagaflow/sample-order';
import { ParticipantFaultRates } from '../profiles';
import { unit } from '../random';

/**
 * A participant's misbehaviour, decided per command by a hash of the run's seed and the
 * command's ids: a redelivery, or the same command after a restart, meets the same fate, and
 * `--seed` reproduces it.
 */
export class FaultDecider {
  private readonly timeouts = new Map(
    orderSaga.compiled.steps.map((s) => [s.name, s.timeoutMs] as const),
  );

  constructor(
    private readonly seed: string,
    private readonly rates: ParticipantFaultRates,
  ) {}

  /** A retryable failure on the first attempt only, so retries never run out because of it. */
  transient(command: CommandEnvelope): boolean {
    return (
      command.attempt === 1 &&
      command.expectsReply &&
      this.roll('transient', command.idempotencyKey) < this.rates.transient
    );
  }

  /** How long to sit on the command before handling it (0: not slow). */
  slowMs(command: CommandEnvelope): number {
    if (this.roll('slow', command.messageId) >= this.rates.slow) return 0;
    return Math.floor(this.roll('slow-ms', command.messageId) * this.rates.slowMaxMs);
  }

  /**
   * How long to hold the reply back (0: send it now): past the step's timeout, so the step
   * times out and is retried (or, for the pivot, parked for an operator). First attempts of
   * forward steps with a timeout only.
   */
  lateReplyMs(command: CommandEnvelope): number {
    const timeout = this.timeouts.get(command.step);
    if (!timeout || command.kind !== 'forward' || command.attempt !== 1) return 0;
    if (this.roll('late', command.messageId) >= this.rates.lateReply) return 0;
    return timeout + 5000;
  }

  duplicateReply(command: CommandEnvelope): boolean {
    return this.roll('duplicate', command.messageId) < this.rates.duplicateReply;
  }

  crashAfterApply(command: CommandEnvelope): boolean {
    return this.roll('crash', command.messageId) < this.rates.crashAfterApply;
  }

  get crashBudget(): number {
    return this.rates.crashBudget;
  }

  private roll(what: string, id: string): number {
    return unit(this.seed, what, id);
  }
}
