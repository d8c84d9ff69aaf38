import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, commandRule } from './commands';

/** mongo-tools' knownCommands and ignoredCEntries (mongorestore/oplog.go), which this table must cover. */
const MONGO_TOOLS_COMMANDS = [
  'renameCollection',
  'dropDatabase',
  'applyOps',
  'dbCheck',
  'create',
  'convertToCapped',
  'emptycapped',
  'drop',
  'createIndexes',
  'deleteIndex',
  'deleteIndexes',
  'dropIndex',
  'dropIndexes',
  'collMod',
  'startIndexBuild',
  'abortIndexBuild',
  'commitIndexBuild',
  'setMultikeyMetadata',
];

describe('COMMANDS', () => {
  it('covers every command mongo-tools knows, plus the transaction commands', () => {
    for (const name of [...MONGO_TOOLS_COMMANDS, 'commitTransaction', 'abortTransaction']) {
      assert.ok(commandRule(name) !== undefined, `${name} is in the table`);
    }
  });

  it('gives every ignored or refused command a reason', () => {
    for (const [name, rule] of Object.entries(COMMANDS)) {
      if (rule.kind === 'ignore' || rule.kind === 'reject') {
        assert.ok(rule.reason.length > 20, `${name} says why it is ${rule.kind}d`);
      }
    }
  });

  it('ignores only the index-build bookkeeping and records that change no data', () => {
    const ignored = Object.entries(COMMANDS)
      .filter(([, rule]) => rule.kind === 'ignore')
      .map(([name]) => name)
      .sort();
    assert.deepEqual(ignored, ['abortIndexBuild', 'dbCheck', 'setMultikeyMetadata', 'startIndexBuild']);
  });

  it('knows no command by inherited property names', () => {
    assert.equal(commandRule('toString'), undefined);
    assert.equal(commandRule('__proto__'), undefined);
    assert.equal(commandRule('frobnicate'), undefined);
  });
});
