import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { JsonLogger } from './json-logger';

function capture(): { logger: JsonLogger; lines: () => Record<string, unknown>[] } {
  const out: string[] = [];
  const logger = new JsonLogger('agent', (line) => void out.push(line));
  return { logger, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('JsonLogger', () => {
  it('writes one JSON object per line with level, service, context and message', () => {
    const { logger, lines } = capture();
    logger.log('Nest application successfully started', 'NestApplication');
    const [line] = lines();
    assert.equal(line?.['level'], 'info');
    assert.equal(line?.['service'], 'agent');
    assert.equal(line?.['context'], 'NestApplication');
    assert.equal(line?.['msg'], 'Nest application successfully started');
    assert.equal(typeof line?.['time'], 'string');
  });

  it('keeps the stack Nest passes to error()', () => {
    const { logger, lines } = capture();
    logger.error('boom', 'Error: boom\n    at x', 'ExceptionHandler');
    assert.deepEqual(
      { ...lines()[0], time: undefined },
      {
        time: undefined,
        level: 'error',
        service: 'agent',
        context: 'ExceptionHandler',
        msg: 'boom',
        stack: 'Error: boom\n    at x',
      },
    );
  });

  it('writes events with the service name first, and bigints as strings', () => {
    const out: string[] = [];
    const logger = new JsonLogger('job-state', (line) => void out.push(line));
    logger.event({ event: 'ready', port: 7100 });
    assert.equal(out[0], '{"service":"job-state","event":"ready","port":7100}\n');
    logger.log({ offset: 2n ** 63n - 1n });
    assert.match(out[1] ?? '', /"offset":"9223372036854775807"/);
  });
});
