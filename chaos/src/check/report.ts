import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Verdict } from './verdict';

/** Which code ran: the commit and how many files differed from it. */
export function commitOf(root: string): { commit: string; changedFiles: number } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  try {
    return {
      commit: git('rev-parse', 'HEAD'),
      changedFiles: git('status', '--porcelain').split('\n').filter(Boolean).length,
    };
  } catch {
    return { commit: 'unknown', changedFiles: -1 };
  }
}

/** The verdicts as a table, one line each, then the evidence of the failed ones. */
export function verdictTable(verdicts: readonly Verdict[]): string {
  const lines = [`${'#'.padEnd(4)} ${'verdict'.padEnd(12)} ${'invariant'.padEnd(74)} detail`];
  for (const v of verdicts)
    lines.push(`${v.id.padEnd(4)} ${v.status.padEnd(12)} ${v.name.padEnd(74)} ${v.detail}`);
  for (const v of verdicts.filter((x) => x.status !== 'PASS' && x.evidence.length > 0)) {
    lines.push('', `evidence for ${v.id} (${v.name}):`);
    for (const e of v.evidence) lines.push(`  ${JSON.stringify(e)}`);
  }
  return lines.join('\n');
}

/** The figures, one line per leaf group: `kills.all.catchUpMs  {"count":3,…}`. */
export function figureLines(figures: Record<string, unknown>, prefix = ''): string[] {
  const lines: string[] = [];
  for (const [key, value] of Object.entries(figures)) {
    const name = `${prefix}${key}`;
    const flat =
      value === null || typeof value !== 'object' || Array.isArray(value) || isLeafGroup(value);
    if (flat) lines.push(`${name.padEnd(40)} ${JSON.stringify(value)}`);
    else lines.push(...figureLines(value as Record<string, unknown>, `${name}.`));
  }
  return lines;
}

/** A group whose values are all plain: shown on one line. */
function isLeafGroup(value: object): boolean {
  return Object.values(value).every((v) => v === null || typeof v !== 'object');
}

export function writeReport(dir: string, report: object): string {
  const file = join(dir, 'report.json');
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}
