import { Role } from '../auth/principal';

export const AUDIT_OUTCOMES = ['applied', 'denied', 'rejected', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

/** One row of `audit_record`, as written. */
export interface AuditRecordInput {
  readonly principalId: string | null;
  readonly principalName: string | null;
  readonly role: Role | null;
  readonly via: 'api-key' | 'jwt' | null;
  readonly method: string;
  readonly route: string | null;
  readonly path: string;
  readonly sagaId: string | null;
  readonly action: string;
  readonly reason: string | null;
  readonly idempotencyKey: string | null;
  readonly fingerprint: string | null;
  readonly outcome: AuditOutcome;
  readonly statusCode: number;
  readonly response: unknown;
  readonly detail: object;
}

/** One audit record as the API shows it. */
export interface AuditRecordView {
  readonly id: string;
  readonly recordedAt: string;
  readonly principal: {
    readonly id: string;
    readonly name: string | null;
    readonly role: Role;
    readonly via: 'api-key' | 'jwt';
  } | null;
  readonly method: string;
  readonly route: string | null;
  readonly path: string;
  readonly sagaId: string | null;
  readonly action: string;
  readonly reason: string | null;
  readonly idempotencyKey: string | null;
  readonly outcome: AuditOutcome;
  readonly statusCode: number;
  readonly response: unknown;
  readonly detail: Record<string, unknown>;
}

/** The outcome of a request that ended with `statusCode` without the handler recording it. */
export function outcomeOf(statusCode: number): AuditOutcome {
  if (statusCode >= 500) return 'failed';
  if (statusCode === 401 || statusCode === 403 || statusCode === 429) return 'denied';
  if (statusCode >= 400) return 'rejected';
  return 'applied';
}
