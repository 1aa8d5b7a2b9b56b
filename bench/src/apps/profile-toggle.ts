import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

/**
 * With `BENCH_CPU_PROFILE=<file>`, the first SIGUSR2 starts V8's CPU profiler and the second
 * writes the profile to the file: the bench profiles exactly its measurement window, not the
 * start-up (which `node --cpu-prof` would include, and which it only writes on a clean exit).
 */
export function installProfileToggle(env: NodeJS.ProcessEnv = process.env): void {
  const file = env.BENCH_CPU_PROFILE;
  if (!file) return;
  const session = new Session();
  session.connect();
  let running = false;
  process.on('SIGUSR2', () => {
    if (!running) {
      running = true;
      session.post('Profiler.enable', () => session.post('Profiler.start'));
      return;
    }
    running = false;
    session.post('Profiler.stop', (error, result) => {
      if (error) process.stderr.write(`cpu profile failed: ${error.message}\n`);
      else writeFileSync(file, JSON.stringify(result.profile));
      process.stdout.write(`cpu profile written to ${file}\n`);
    });
  });
}
