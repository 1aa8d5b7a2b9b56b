import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
export const GENERATED = join(__dirname, '.generated');

/**
 * Reads a guide in docs/ and writes its TypeScript blocks, in order, as one module (blocks
 * fenced as ```ts ignore are left out). Returns the module's path.
 */
export function extractGuide(doc: string): string {
  const markdown = readFileSync(join(ROOT, 'docs', doc), 'utf8');
  const blocks = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (blocks.length === 0) throw new Error(`docs/${doc} has no \`\`\`ts blocks`);
  mkdirSync(GENERATED, { recursive: true });
  const file = join(GENERATED, doc.replace(/\.md$/, '.ts'));
  writeFileSync(
    file,
    `// Generated from docs/${doc} by test/docs: do not edit.\n${blocks.join('\n')}`,
  );
  writeFileSync(
    join(GENERATED, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.json',
      compilerOptions: { incremental: false, noEmit: true },
      include: ['*.ts'],
    }),
  );
  return file;
}
