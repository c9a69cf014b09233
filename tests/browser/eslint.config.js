// ESLint (flat config) for the page's JavaScript (web/, browser modules) and these tests (Node).
// Run from the repository root: `make lint-web`.
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['web/vendor/**', 'tests/browser/node_modules/**'] },
  js.configs.recommended,
  {
    files: ['web/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser, uPlot: 'readonly' },
    },
    rules: {
      'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none' }],
      'no-var': 'error',
      'prefer-const': 'error',
      eqeqeq: ['error', 'always'],
      'no-implicit-globals': 'error',
      'no-shadow': 'error',
      curly: ['error', 'multi-line'],
    },
  },
  {
    files: ['tests/browser/**/*.mjs', 'tests/browser/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node, ...globals.browser } },
    rules: { 'no-unused-vars': ['error', { caughtErrors: 'none' }], 'prefer-const': 'error', eqeqeq: ['error', 'always'] },
  },
];
