/**
 * A forward step that took effect, with the reply it recorded (the log its compensation is
 * built from). `unknown` marks a step whose outcome is not known — it timed out and the saga
 * gave up on it — so it may or may not have been applied: it is compensated with no log, and
 * participants treat a compensation for a command they never applied as nothing to undo.
 */
export interface CompletedStep {
  readonly index: number;
  readonly log: unknown;
  readonly unknown?: true;
}
