// Lint: typescript-eslint recommended rules plus Nx module boundaries on the `type:*` tag axis
// (see docs/architecture.md for what each library type means and may depend on).
import nx from '@nx/eslint-plugin';
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
    // Specs and contract suites wire real adapters and in-memory implementations around the code under test, so
    // they may import any library (production code keeps the rules above).
    files: ['**/*.spec.ts', '**/*.int-spec.ts', '**/*.contract.ts', '**/test/**/*.ts'],
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
