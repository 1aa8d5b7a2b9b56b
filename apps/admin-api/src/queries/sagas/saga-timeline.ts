import { TimelineEntry } from '@sagaflow/persistence';

/** An audit record of an operator request about the saga (from the audit log). */
export interface SagaAuditEntry {
  readonly id: string;
  readonly recordedAt: string | Date;
  readonly principal: {
    readonly id: string;
    readonly name: string | null;
    readonly role: string;
  } | null;
  readonly action: string;
  readonly reason: string | null;
  readonly outcome: string;
  readonly statusCode: number;
  readonly detail: Record<string, unknown>;
}

/** One line of `GET /sagas/:id`'s timeline: an engine transition, or an operator request. */
export interface TimelineLine {
  readonly at: Date;
  /** `journal`: what the engine did; `audit`: who asked for what (and whether it was applied). */
  readonly source: 'journal' | 'audit';
  readonly version: number | null;
  readonly type: string;
  readonly step: string | null;
  readonly kind: string | null;
  readonly attempt: number | null;
  readonly actor: string;
  readonly detail: Record<string, unknown>;
}

/**
 * The journal and the audit records in one time order. A request and the transition it
 * caused share a transaction (same timestamp): the request comes first, as it did.
 */
export function mergeTimeline(
  journal: readonly TimelineEntry[],
  audit: readonly SagaAuditEntry[],
): TimelineLine[] {
  const lines = [...audit.map(fromAudit), ...journal.map(fromJournal)];
  // Array.prototype.sort is stable: equal times keep audit before journal, each in id order.
  return lines.sort((a, b) => a.at.getTime() - b.at.getTime());
}

function fromJournal(t: TimelineEntry): TimelineLine {
  return {
    at: t.recordedAt,
    source: 'journal',
    version: t.instanceVersion,
    type: t.type,
    step: t.step ?? null,
    kind: t.kind ?? null,
    attempt: t.attempt ?? null,
    actor: t.actor,
    detail: t.detail ?? {},
  };
}

function fromAudit(a: SagaAuditEntry): TimelineLine {
  return {
    at: new Date(a.recordedAt),
    source: 'audit',
    version: null,
    type: `operator.${a.action}`,
    step: null,
    kind: null,
    attempt: null,
    actor: a.principal ? `${a.principal.role}:${a.principal.name ?? a.principal.id}` : 'anonymous',
    detail: {
      auditId: a.id,
      outcome: a.outcome,
      statusCode: a.statusCode,
      ...(a.reason === null ? {} : { reason: a.reason }),
      ...a.detail,
    },
  };
}
