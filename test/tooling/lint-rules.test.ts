import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** Lints `source` as if it lived at `path`, with the project's real ESLint configuration. */
function lint(path: string, source: string): string[] {
  const result = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'eslint', 'bin', 'eslint.js'),
      '--format',
      'json',
      '--stdin',
      '--stdin-filename',
      path,
    ],
    {
      cwd: ROOT,
      input: source,
      encoding: 'utf8',
    },
  );
  const [report] = JSON.parse(result.stdout) as Array<{
    messages: Array<{ ruleId: string; message: string }>;
  }>;
  return report!.messages.map((m) => `${m.ruleId}: ${m.message}`);
}

describe('architecture rules enforced by ESLint', () => {
  it('bans deep imports into a lib', () => {
    expect(
      lint(
        'apps/orchestrator/src/x.ts',
        `import { decide } from '@sagaflow/engine/src/decide';\nexport const d = decide;\n`,
      ),
    ).toEqual([expect.stringContaining('never a deep path')]);
    expect(
      lint(
        'apps/orchestrator/src/x.ts',
        `import { decide } from '../../../libs/engine/src';\nexport const d = decide;\n`,
      ),
    ).toEqual([expect.stringContaining('not a relative path')]);
  });

  it.each(['kafkajs', 'typeorm', 'pg', '@nestjs/common', 'node:crypto', '@sagaflow/persistence'])(
    'keeps %s out of libs/saga-dsl',
    (module) => {
      expect(
        lint('libs/saga-dsl/src/x.ts', `import * as m from '${module}';\nexport const x = m;\n`),
      ).toEqual([expect.stringContaining('no-restricted-imports')]);
    },
  );

  it('allows the DSL its own files and schema libraries', () => {
    expect(
      lint(
        'libs/saga-dsl/src/x.ts',
        `import { z } from 'zod';\nimport { validate } from './validation';\nexport const x = [z, validate];\n`,
      ),
    ).toEqual([]);
  });
});
