// Lint: the recommended TypeScript rules, with type information, on the whole project.
import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import { importX } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const RESTRICTED = {
  store: {
    paths: ['kysely', 'better-sqlite3', 'pg'],
    message: 'Only src/store/ speaks to the database: add a repository method there.',
  },
  entra: {
    paths: ['undici', '@azure/msal-node'],
    message: 'Only src/entra/ talks to Microsoft: use its Graph client and token source.',
  },
  simulator: {
    patterns: ['**/simulator/**', '!./**'],
    message: 'The simulator is for the simulate and demo commands and the tests only.',
  },
};

/** One no-restricted-imports entry per area, each file in one area only (the first that matches). */
function boundaries(areas) {
  return areas.map(({ area, allowed }, i) => {
    const denied = Object.entries(RESTRICTED).filter(([name]) => !allowed.includes(name));
    return {
      files: area,
      ignores: areas.slice(0, i).flatMap((a) => a.area),
      rules: {
        'no-restricted-imports': [
          'error',
          {
            paths: denied.flatMap(([, r]) => (r.paths ?? []).map((name) => ({ name, message: r.message }))),
            patterns: denied.filter(([, r]) => r.patterns).map(([, r]) => ({ group: r.patterns, message: r.message })),
          },
        ],
      },
    };
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', '.tmp/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's describe/it return promises the runner itself tracks.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
      // Prettier wraps code at 120 but not long strings or comments; this keeps those readable.
      'max-len': ['error', { code: 160, ignoreUrls: true }],
    },
  },
  {
    // No import cycles: a module's dependencies come before it, so the layers read top down.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' })],
    },
    rules: { 'import-x/no-cycle': 'error' },
  },
  // Boundaries: the database libraries only in the store, Microsoft's client libraries only in
  // entra/, the simulator only in its own commands (and tests). One rule entry per area, as a
  // later entry for a file would replace an earlier one.
  ...boundaries([
    { area: ['src/store/**'], allowed: ['store'] },
    { area: ['src/entra/**'], allowed: ['entra'] },
    { area: ['src/simulator/**'], allowed: ['simulator'] },
    {
      area: ['src/cli/simulator.ts', 'src/cli/commands/simulate.ts', 'src/cli/commands/demo.ts'],
      allowed: ['simulator'],
    },
    { area: ['src/**'], allowed: [] },
  ]),
  {
    // Tests read Graph's JSON by path; typing every response body would only restate it.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
