// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What `packages/framework` may not import. */
function frameworkImports({ allowWs }) {
  return {
    patterns: [
      {
        group: ['@streampod/*', '!@streampod/framework', '!@streampod/framework/*'],
        message: 'the framework imports no app: apps import the framework',
      },
      {
        group: ['kysely', 'ioredis', 'pg', '@electric-sql/*', 'jose'],
        message: 'the framework knows no database, Redis or token format: apps bring their own',
      },
      ...(allowWs ? [] : [{ group: ['ws'], message: 'only adapters/ws.ts opens sockets (and the test helpers)' }]),
    ],
  };
}

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '**/.data/**', '**/.turbo/**', 'contract/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'max-params': ['error', 3],
      // Interface methods are often async without awaiting; floating promises are what matter.
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['**/*.js'], extends: [tseslint.configs.disableTypeChecked] },
  // The framework stands alone: nothing of the chat app, its database or Redis. Only the
  // ws adapter (and the test helpers' clients) touch `ws`.
  {
    files: ['packages/framework/src/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', frameworkImports({ allowWs: false })] },
  },
  {
    files: ['packages/framework/src/adapters/ws.ts', 'packages/framework/src/testing/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', frameworkImports({ allowWs: true })] },
  },
  {
    files: ['**/*.test.ts', '**/testing/**/*.ts'],
    rules: {
      // Tests unwrap untyped stock-client results on purpose.
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
