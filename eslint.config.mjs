// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/** Libs are used through their index only: `@sagaflow/<lib>`, never a path inside it. */
const deepImports = [
  {
    group: ['@sagaflow/*/*'],
    message: 'Import a lib through its index (@sagaflow/<lib>), never a deep path.',
  },
  {
    regex: '^(\\.\\./)+(libs|migrations)/',
    message: 'Import libs through their alias (@sagaflow/<lib>), not a relative path.',
  },
];

/** The DSL is the authoring surface: it must stay free of infrastructure, so definitions run anywhere. */
const infrastructure = [
  {
    group: ['kafkajs', 'typeorm', 'pg', 'bullmq', 'ioredis', '@nestjs/*', 'node:*', 'express'],
    message: 'libs/saga-dsl may not import infrastructure.',
  },
  {
    group: ['@sagaflow/*', '!@sagaflow/saga-dsl'],
    message: 'libs/saga-dsl depends on no other Sagaflow lib.',
  },
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/docs/.generated/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: deepImports }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
    },
  },
  {
    files: ['libs/saga-dsl/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...deepImports, ...infrastructure] }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { ...globals.node } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  { files: ['**/*.mjs'], languageOptions: { globals: { ...globals.node } } },
);
