/** A forward step that succeeded, with the reply it recorded (the log its compensation is built from). */
export interface CompletedStep {
  readonly index: number;
  readonly log: unknown;
}
