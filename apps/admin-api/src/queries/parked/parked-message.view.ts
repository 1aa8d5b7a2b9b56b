import { ParkedMessageSummary, StoredParkedMessage } from '@sagaflow/persistence';
import { redactSensitive } from '@sagaflow/saga-dsl';

/** One item of `GET /parked-messages` (and the answer of replay/discard): no headers, no body. */
export function parkedSummaryView(m: ParkedMessageSummary) {
  return {
    id: m.id,
    topic: m.topic,
    partition: m.partition,
    offset: m.offset,
    key: m.key,
    reasonCode: m.reasonCode,
    reason: m.reason,
    sagaId: m.sagaId,
    status: m.status,
    parkedAt: m.parkedAt,
    bodyBytes: m.bodyBytes,
    resolution: m.resolution,
  };
}

/**
 * `GET /parked-messages/:id`: the summary plus headers and the body as text (it may not be
 * JSON). For a viewer (`redact` not empty) sensitive fields of a JSON body read "[redacted]";
 * a body that is not JSON but mentions a sensitive field name is withheld (null), since its
 * values cannot be told apart.
 */
export function parkedDetailView(m: StoredParkedMessage, redact: readonly string[]) {
  const body = redactBody(m.body, redact);
  return {
    ...parkedSummaryView(m),
    headers: m.headers,
    body: body.text,
    bodyRedacted: body.redacted,
  };
}

function redactBody(
  body: string | null,
  fields: readonly string[],
): { text: string | null; redacted: boolean } {
  if (body === null || fields.length === 0 || !fields.some((f) => body.includes(f))) {
    return { text: body, redacted: false };
  }
  try {
    const parsed: unknown = JSON.parse(body);
    const hidden = JSON.stringify(redactSensitive(parsed, fields));
    return hidden === JSON.stringify(parsed)
      ? { text: body, redacted: false }
      : { text: hidden, redacted: true };
  } catch {
    return { text: null, redacted: true };
  }
}
