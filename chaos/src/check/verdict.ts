/** `N/A`: the run did not exercise it (e.g. no Redis flush in a run without faults). */
export type VerdictStatus = 'PASS' | 'FAIL' | 'INCONCLUSIVE' | 'N/A';

/** One invariant of RELIABILITY.md, checked on one run. */
export interface Verdict {
  /** The invariant's number in RELIABILITY.md (with a letter for a check of our own on it). */
  readonly id: string;
  readonly name: string;
  readonly status: VerdictStatus;
  /** One line: the figures behind the verdict. */
  readonly detail: string;
  /** Up to a few offending items, to start a diagnosis from. */
  readonly evidence: readonly unknown[];
}

export function verdict(
  id: string,
  name: string,
  ok: boolean,
  detail: string,
  evidence: readonly unknown[] = [],
): Verdict {
  return { id, name, status: ok ? 'PASS' : 'FAIL', detail, evidence: evidence.slice(0, 10) };
}

export function inconclusive(id: string, name: string, detail: string): Verdict {
  return { id, name, status: 'INCONCLUSIVE', detail, evidence: [] };
}

export function notExercised(id: string, name: string, detail: string): Verdict {
  return { id, name, status: 'N/A', detail, evidence: [] };
}
