import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The repository root: the first folder above this file with Sagaflow's package.json. */
export function repositoryRoot(from = __dirname): string {
  for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && JSON.parse(readFileSync(manifest, 'utf8')).name === 'sagaflow')
      return dir;
  }
  throw new Error(`no Sagaflow package.json above ${from}: run the harness from the repository`);
}
