/**
 * Named points where a process can be made to die (SIGKILL itself) for crash tests.
 * Inert unless `SAGAFLOW_CRASH_POINT` names the point; `SAGAFLOW_CRASH_AFTER` (default 1)
 * says on which pass to die, so a test can crash in the middle of a run.
 */
const passes = new Map<string, number>();

export function crashPoint(name: string): void {
  const target = process.env.SAGAFLOW_CRASH_POINT;
  if (!target || target !== name) return;
  const count = (passes.get(name) ?? 0) + 1;
  passes.set(name, count);
  if (count >= Number(process.env.SAGAFLOW_CRASH_AFTER ?? '1')) {
    process.stderr.write(
      `sagaflow: crash point "${name}" reached on pass ${count}, killing process\n`,
    );
    process.kill(process.pid, 'SIGKILL');
  }
}
