#!/usr/bin/env node
// Entry point of the `tidemark` CLI: runs the TypeScript sources through tsx so the workspace needs no build step.
//
// Signals: SIGTERM and SIGHUP (a service manager, `timeout`, a closed terminal) are passed on to the command, so it
// stops the way it stops on them (`events tail` leaves Kafka cleanly, `infra containers` removes its containers)
// instead of living on without its parent. Ctrl-C needs no passing on: the terminal sends SIGINT to the whole
// foreground process group, the command included, so this wrapper ignores it and waits for the command's exit.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const root = path.resolve(__dirname, '..', '..', '..');
const main = path.join(root, 'tools', 'cli', 'src', 'main.ts');
const child = spawn(process.execPath, ['--import', 'tsx', main, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.cwd(),
  env: {
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...process.env,
    TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json'),
    TIDEMARK_ROOT: root,
  },
});
for (const signal of ['SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
process.on('SIGINT', () => undefined);
child.once('error', (err) => {
  throw err;
});
child.once('exit', (code) => process.exit(code === null ? 1 : code));
