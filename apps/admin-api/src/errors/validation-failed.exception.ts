import { BadRequestException, ValidationError } from '@nestjs/common';
import { FieldProblem } from './api-error-codes';

/** Raised by the ValidationPipe: one entry per offending field, nested paths dotted. */
export class ValidationFailedException extends BadRequestException {
  constructor(readonly problems: readonly FieldProblem[]) {
    super(
      `request is invalid: ${problems.map((p) => `${p.field}: ${p.messages.join(', ')}`).join('; ')}`,
    );
  }

  static fromValidationErrors(errors: ValidationError[]): ValidationFailedException {
    return new ValidationFailedException(flatten(errors, ''));
  }
}

function flatten(errors: readonly ValidationError[], prefix: string): FieldProblem[] {
  return errors.flatMap((e) => {
    const field = prefix ? `${prefix}.${e.property}` : e.property;
    const own = e.constraints ? [{ field, messages: Object.values(e.constraints) }] : [];
    return [...own, ...flatten(e.children ?? [], field)];
  });
}
