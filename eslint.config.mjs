// typescript-eslint's recommended rules over the whole monorepo; formatting is prettier's job.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.devbench/**', 'coverage/**', '**/*.js', '**/*.mjs', '!apps/gateway/src/lab/page/*.js'] },
  js.configs.recommended,
  // The fault lab's page: plain browser JavaScript, shipped as written (no build step for users).
  {
    files: ['apps/gateway/src/lab/page/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: Object.fromEntries(
        [
          'window',
          'document',
          'console',
          'fetch',
          'EventSource',
          'sessionStorage',
          'performance',
          'requestAnimationFrame',
          'cancelAnimationFrame',
          'setTimeout',
          'clearTimeout',
        ].map((g) => [g, 'readonly']),
      ),
    },
  },
  ...tseslint.configs.recommended,
  {
    rules: {
      // Wire frames and test bodies are untyped JSON by nature; `any` there is checked at runtime.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // Nest modules and DTO classes are empty by design.
      '@typescript-eslint/no-extraneous-class': 'off',
    },
  },
);
