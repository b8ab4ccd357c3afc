import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.local/', 'bench-results/', 'simulate-results/', 'fault-results/'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Schemas are zod/mini's: classic zod's give every schema its methods, which doubled the time
      // the functions take to build theirs at cold start. And zod's `z` binding is a namespace object
      // esbuild cannot shake: imported by name it brings every locale (264 KiB) into each bundle.
      'no-restricted-syntax': [
        'error',
        {
          selector: "ImportDeclaration[source.value='zod']",
          message: "import * as z from 'zod/mini': classic zod's schemas are slower to build (cold start).",
        },
        {
          selector: "ImportDeclaration[source.value='zod/mini'][importKind!='type'] > ImportSpecifier[imported.name='z']",
          message: "import * as z from 'zod/mini': the named `z` binding keeps all of zod's locales in the bundles.",
        },
      ],
    },
  },
  {
    // The bundles' CommonJS shims (shared/lambda/bundle-shims): a package's stand-in takes what it needs with require.
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', process: 'readonly', require: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Layers point one way: infra → functions → shared. shared/ knows no function and no
  // destination; runtime code never imports infra/; a destination uses shared code only through
  // its one entry file and knows no other destination; the ingress knows destinations only
  // through the registry.
  {
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\.\\./)+(functions|infra)/', message: 'shared/ imports neither functions/ nor infra/.' }] }],
    },
  },
  {
    files: ['functions/**/*.ts'],
    ignores: ['functions/destinations/*/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+infra/', message: 'Runtime code never imports infra/: names reach it through the environment.' },
            { regex: '^\\.\\./destinations/(?!registry\\.ts$)', message: 'The ingress knows destinations only through the registry.' },
          ],
        },
      ],
    },
  },
  {
    files: ['functions/destinations/*/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+infra/', message: 'Runtime code never imports infra/.' },
            { regex: '^(\\.\\./)+shared/(?!destination/index\\.ts$)', message: 'A destination imports shared code through shared/destination/index.ts only.' },
            { regex: '^\\.\\./(?!\\.\\./)', message: 'A destination folder imports no other destination (nor the registry).' },
          ],
        },
      ],
    },
  },
  {
    // Plain JavaScript runs on Node (the bootstrap that installs dependencies).
    files: ['**/*.mjs'],
    languageOptions: { globals: { console: 'readonly', URL: 'readonly', process: 'readonly' } },
  },
  {
    // Tests read loosely typed JSON answers.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
