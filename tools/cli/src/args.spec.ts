import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand } from './args';

const usage = (message: string) => new Error(message);

describe('parseCommand', () => {
  it('reads flags and repeated options, with values as the next argument or after =', () => {
    const p = parseCommand(
      ['--project', 'shop', '--include', 'a', '--json', '--include=b.c', 'id1'],
      { project: 'string', include: 'string', json: 'boolean', lag: 'boolean' },
      usage,
    );
    assert.deepEqual(p.values('project'), ['shop']);
    assert.deepEqual(p.values('include'), ['a', 'b.c']);
    assert.deepEqual(p.values('source'), []);
    assert.equal(p.flag('json'), true);
    assert.equal(p.flag('lag'), false);
    assert.deepEqual(p.positionals, ['id1']);
    assert.deepEqual(p.unknown, []);
    assert.deepEqual(p.rest, ['id1']);
  });

  it('hands back unknown options and other arguments as typed, in order', () => {
    const p = parseCommand(
      ['x', '--foo', '--json=1', '--bar=2', '-q', 'y'],
      { json: 'boolean', reason: 'string' },
      usage,
    );
    assert.deepEqual(p.unknown, ['--foo', '--json=1', '--bar=2', '-q']);
    assert.deepEqual(p.positionals, ['x', 'y']);
    assert.deepEqual(p.rest, ['x', '--foo', '--json=1', '--bar=2', '-q', 'y']);
    assert.equal(p.flag('json'), false, 'a flag given a value is not the flag');
  });

  it('keeps a -- terminator in rest, and what follows it as positionals', () => {
    const p = parseCommand(['start', '--json', '--', '--odd-id'], { json: 'boolean' }, usage);
    assert.deepEqual(p.rest, ['start', '--', '--odd-id']);
    assert.deepEqual(p.positionals, ['start', '--odd-id']);
    const again = parseCommand(p.rest.slice(1), {}, usage);
    assert.deepEqual(again.positionals, ['--odd-id']);
    assert.deepEqual(again.unknown, []);
  });

  it('refuses an option without its value, or followed by another option', () => {
    assert.throws(() => parseCommand(['--only'], { only: 'string' }, usage), /^Error: --only needs a value$/);
    assert.throws(
      () => parseCommand(['--project', '--source', 's'], { project: 'string', source: 'string' }, usage),
      /^Error: --project needs a value$/,
    );
    assert.deepEqual(parseCommand(['--reason=--x'], { reason: 'string' }, usage).values('reason'), ['--x']);
    assert.deepEqual(parseCommand(['--interval', '-1'], { interval: 'string' }, usage).values('interval'), [
      '-1',
    ]);
  });
});
