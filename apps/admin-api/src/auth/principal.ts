/** Operator roles, weakest first: each role may do everything the roles before it may. */
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who made a request, set on `req.principal` by the security guard. */
export interface Principal {
  /** Stable and unique across credential kinds: `key:<api key id>` or `jwt:<sub>`. */
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  readonly via: 'api-key' | 'jwt';
  /**
   * The saga types this principal may act on (start, operator actions); absent or null: all.
   * Reads are not scoped. Bulk actions check it item by item.
   */
  readonly sagaTypes?: readonly string[] | null;
}

/** Whether `principal` may act on sagas of `sagaType`. */
export function mayActOn(principal: Principal, sagaType: string): boolean {
  return !principal.sagaTypes || principal.sagaTypes.includes(sagaType);
}

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` is `needed` or stronger. */
export function roleAtLeast(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Set by the security guard once the credentials are verified. */
      principal?: Principal;
      /** Set by `AuditLog.recordApplied`: the handler wrote its own audit record. */
      auditRecorded?: boolean;
      /** The id of that record, so the safety net can tell a rolled-back one from a committed one. */
      auditRecordId?: string;
    }
  }
}
