// Lint: typescript-eslint recommended rules plus Nx module boundaries on the `type:*` tag axis
// (see docs/architecture.md for what each library type means and may depend on).
import nx from '@nx/eslint-plugin';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default [
  {
    ignores: ['**/node_modules/**', '**/dist/**', '.cache/**', '.tidemark/**', '.nx/**', 'tools/cli/bin/**'],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          banTransitiveDependencies: false,
          depConstraints: [
            {
              sourceTag: 'type:app',
              onlyDependOnLibsWithTags: [
                'type:feature',
                'type:adapter',
                'type:domain',
                'type:util',
                'type:shell',
              ],
            },
            {
              sourceTag: 'type:shell',
              onlyDependOnLibsWithTags: ['type:adapter', 'type:domain', 'type:util', 'type:feature'],
            },
            {
              sourceTag: 'type:feature',
              onlyDependOnLibsWithTags: ['type:domain', 'type:util'],
              bannedExternalImports: ['kafkajs', 'mongodb', '@aws-sdk/*', '@nestjs/*'],
            },
            {
              // Adapters implement ports and import the port types they implement: a feature's own ports from
              // that feature, shared ones from the domain. Features never import adapters, so there is no cycle.
              sourceTag: 'type:adapter',
              onlyDependOnLibsWithTags: ['type:feature', 'type:domain', 'type:util'],
              bannedExternalImports: ['@nestjs/*'],
            },
            {
              sourceTag: 'type:domain',
              onlyDependOnLibsWithTags: ['type:domain'],
              bannedExternalImports: [
                'kafkajs',
                'mongodb',
                '@aws-sdk/*',
                '@nestjs/*',
                'avsc',
                'fs',
                'node:fs',
                'net',
                'node:net',
              ],
            },
            { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
            { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['*'] },
            { sourceTag: 'type:tool', onlyDependOnLibsWithTags: ['*'] },
          ],
        },
      ],
    },
  },
  {
    // No import cycles in production code, inside a library as well as across libraries (the path aliases of
    // tsconfig.base.json resolve to the libraries' sources). Type-only imports count too.
    files: ['**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.contract.ts', '**/test/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      ...importX.flatConfigs.typescript.settings,
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.base.json' })],
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Specs and contract suites wire real adapters and in-memory implementations around the code under test, so
    // they may import any library (production code keeps the rules above). So may the snapshot stores' spec helpers
    // and the child processes their crash specs start (`src/testing/`, not exported: no production code imports them).
    files: [
      '**/*.spec.ts',
      '**/*.int-spec.ts',
      '**/*.contract.ts',
      '**/test/**/*.ts',
      'libs/snapshot-stores/src/testing/**/*.ts',
    ],
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [{ sourceTag: '*', onlyDependOnLibsWithTags: ['*'] }],
        },
      ],
    },
  },
];
