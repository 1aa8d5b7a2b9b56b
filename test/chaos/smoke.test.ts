import { spawn } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const MINUTES = 60_000;

/**
 * The chaos harness's smoke profile as a Jest test (`chaos/`, method in docs/reliability.md).
 * `npm test` runs the smoke profile itself, as a tier of its own after this one (scripts/test.sh),
 * so this wrapper is for a developer's Jest workflow only:
 * `SAGAFLOW_CHAOS_IN_JEST=1 npx jest --selectProjects integration -- test/chaos`.
 * `SAGAFLOW_CHAOS_SEED=N` replays a run. The harness prints its verdict table; the test fails
 * when any invariant fails (exit code 1) or the run was inconclusive (3).
 */
const describeChaos = process.env.SAGAFLOW_CHAOS_IN_JEST === '1' ? describe : describe.skip;

function run(
  command: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describeChaos('chaos smoke', () => {
  it(
    'every invariant holds under the smoke profile',
    async () => {
      const build = await run('npx', ['tsc', '-p', 'chaos/tsconfig.json']);
      expect(build.output).toBe('');
      const seed = process.env.SAGAFLOW_CHAOS_SEED;
      const { code, output } = await run(
        process.execPath,
        [
          '-r',
          'tsconfig-paths/register',
          'dist/chaos/src/main.js',
          '--profile',
          'smoke',
          ...(seed ? ['--seed', seed] : []),
        ],
        { TS_NODE_BASEURL: join(ROOT, 'dist') },
      );
      // The verdict table and figures, without the harness's progress lines.
      process.stdout.write(
        `${output
          .split('\n')
          .filter((l) => !l.startsWith('[chaos') && !l.startsWith('{'))
          .join('\n')}\n`,
      );
      expect(code).toBe(0);
    },
    25 * MINUTES,
  );
});
