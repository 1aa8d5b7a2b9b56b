import { ProfileSummary } from './cpu-profile';
import { PhaseResult } from './phase-result';
import { TargetCheck } from './targets';

/** A plain text table: the first row is the header, columns padded to their widest cell. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: readonly string[]) =>
    r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [
    line(rows[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...rows.slice(1).map(line),
  ].join('\n');
}

export function phasesTable(phases: readonly PhaseResult[]): string {
  const rows = [
    [
      'engine / phase',
      'sagas',
      'sagas/s',
      'p50 ms',
      'p95 ms',
      'p99 ms',
      'commits/saga',
      'commits/step',
    ],
  ];
  for (const p of phases)
    rows.push([
      `${p.engine} ${p.phase}`,
      String(p.completed),
      p.perSecond.toFixed(1),
      p.latencyMs.p50.toFixed(1),
      p.latencyMs.p95.toFixed(1),
      p.latencyMs.p99.toFixed(1),
      p.commitsPerSaga.toFixed(2),
      p.commitsPerStep.toFixed(2),
    ]);
  return table(rows);
}

export function processTable(p: PhaseResult): string {
  const rows = [['process', 'CPU ms/saga', 'cores', 'peak RSS MiB']];
  for (const label of Object.keys(p.cpuMsPerSaga))
    rows.push([
      label,
      p.cpuMsPerSaga[label]!.toFixed(3),
      p.cores[label]!.toFixed(2),
      p.peakRssMiB[label]!.toFixed(0),
    ]);
  return table(rows);
}

export function targetsTable(checks: readonly TargetCheck[]): string {
  const verdict = (c: TargetCheck) => (c.pass === null ? 'n/a' : c.pass ? 'PASS' : 'FAIL');
  return table([
    ['target', 'measured', 'result'],
    ...checks.map((c) => [c.name, c.measured, verdict(c)]),
  ]);
}

export function profileText(p: ProfileSummary): string {
  const lines = (
    title: string,
    items: ProfileSummary['topSelf'],
    key: 'selfPercent' | 'totalPercent',
  ) => [title, ...items.map((i) => `  ${String(i[key]).padStart(5)}%  ${i.name}`)].join('\n');
  return [
    `orchestrator CPU profile: ${p.seconds.toFixed(1)} s, busy ${p.busyPercent}% of one core`,
    lines('self time by module (share of busy time):', p.byModule, 'selfPercent'),
    lines('top functions, self time:', p.topSelf, 'selfPercent'),
    lines('Sagaflow functions, inclusive time:', p.topTotal, 'totalPercent'),
  ].join('\n');
}
