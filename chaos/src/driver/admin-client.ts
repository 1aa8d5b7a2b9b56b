import { RunKeys } from '../infra/topology';

/** What became of one HTTP request, as far as the caller can tell. */
export type RequestFate =
  /** An HTTP answer came back: the server must have audited it, exactly once. */
  | 'responded'
  /** The connection was refused: it never reached the server, so no audit record. */
  | 'refused'
  /** Sent, but no answer (the process died mid-request, or a timeout): zero or one record. */
  | 'unknown';

export type Purpose = 'start' | 'nemesis' | 'drain';

/** Every mutating request the harness sent: the audit invariant is checked against this log. */
export interface RequestRecord {
  readonly n: number;
  readonly principal: keyof RunKeys;
  readonly purpose: Purpose;
  readonly method: 'POST';
  readonly path: string;
  /** The Idempotency-Key header (every mutating request of the harness has one). */
  readonly idempotencyKey: string;
  /**
   * Requests whose audit records are counted together: a start's attempts and repeats share
   * the saga's start key (the admin API records a start under it); other requests are their
   * own group, named by their Idempotency-Key.
   */
  readonly auditGroup: string;
  readonly sentAt: number;
  fate: RequestFate;
  status: number | null;
  replayed: boolean;
  body: unknown;
  error: string | null;
}

export interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const TIMEOUT_MS = 30_000;

/**
 * The admin API as a client sees it: `fetch` with an API key, each mutating request logged
 * with its fate. Reads are not logged (they are not audited).
 */
export class AdminClient {
  readonly requests: RequestRecord[] = [];

  constructor(
    private readonly baseUrl: string,
    private readonly keys: RunKeys,
  ) {}

  async post(
    principal: keyof RunKeys,
    purpose: Purpose,
    path: string,
    body: unknown,
    headers: { idempotencyKey: string; ifMatch?: string; auditGroup?: string },
  ): Promise<RequestRecord> {
    const record: RequestRecord = {
      n: this.requests.length,
      principal,
      purpose,
      method: 'POST',
      path: path.split('?')[0]!,
      idempotencyKey: headers.idempotencyKey,
      auditGroup: headers.auditGroup ?? headers.idempotencyKey,
      sentAt: Date.now(),
      fate: 'unknown',
      status: null,
      replayed: false,
      body: null,
      error: null,
    };
    this.requests.push(record);
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.keys[principal]}`,
          'content-type': 'application/json',
          'idempotency-key': headers.idempotencyKey,
          ...(headers.ifMatch ? { 'if-match': headers.ifMatch } : {}),
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      record.status = res.status;
      record.replayed = res.headers.get('idempotent-replayed') === 'true';
      record.body = await res.json().catch(() => null);
      record.fate = 'responded';
    } catch (error) {
      record.fate = refused(error) ? 'refused' : 'unknown';
      record.error =
        error instanceof Error
          ? `${error.name}: ${causeCode(error) ?? error.message}`
          : String(error);
    }
    return record;
  }

  async get(principal: keyof RunKeys, path: string): Promise<Answer | null> {
    try {
      const res = await fetch(`${this.baseUrl}${path}`, {
        headers: { authorization: `Bearer ${this.keys[principal]}` },
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
      return { status: res.status, body: await res.json().catch(() => null) };
    } catch {
      return null;
    }
  }
}

function causeCode(error: Error): string | undefined {
  return (error as { cause?: { code?: string } }).cause?.code;
}

/** ECONNREFUSED: nothing listened, so the request cannot have reached a handler. */
function refused(error: unknown): boolean {
  return error instanceof Error && causeCode(error) === 'ECONNREFUSED';
}
