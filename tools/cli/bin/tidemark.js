#!/usr/bin/env node
// Entry point of the `tidemark` CLI: runs the TypeScript sources through tsx so the workspace needs no build step.
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..', '..');
const main = path.join(root, 'tools', 'cli', 'src', 'main.ts');
const res = spawnSync(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
  env: {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...process.env,
    TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json'),
    TIDEMARK_ROOT: root,
  },
});
if (res.error) throw res.error;
process.exit(res.status === null ? 1 : res.status);
