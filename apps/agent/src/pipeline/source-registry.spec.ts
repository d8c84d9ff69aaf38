import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { MongoClient } from 'mongodb';
import {
  parseSourceEntries,
  SourceCredentials,
  SourceNotAllowedError,
  type ConnectMongoOptions,
} from '@tidemark/mongo';
import { SourceRegistry } from './source-registry';

const SECRET = 'never-elsewhere';

/** Records every connection the registry opens: where, and with which options. */
function recordingConnect(): {
  calls: { uri: string; options: ConnectMongoOptions }[];
  connect: (uri: string, options: ConnectMongoOptions) => Promise<MongoClient>;
} {
  const calls: { uri: string; options: ConnectMongoOptions }[] = [];
  return {
    calls,
    connect: async (uri, options) => {
      calls.push({ uri, options });
      return { close: async () => undefined } as unknown as MongoClient;
    },
  };
}

const credentials = new SourceCredentials(
  parseSourceEntries(
    JSON.stringify({
      sources: [
        {
          id: 'rs0',
          hosts: ['db1.example.net', 'db2.example.net:27018'],
          username: 'backup',
          password: SECRET,
        },
      ],
    }),
    'test',
  ),
);

describe('SourceRegistry', () => {
  it('connects a listed source with its login as driver options, the URI unchanged', async () => {
    const { calls, connect } = recordingConnect();
    const registry = new SourceRegistry({ appName: 'tidemark-agent', credentials, connect });
    const uri = 'mongodb://db2.example.net:27018,db1.example.net/?replicaSet=rs0';
    await registry.sourceFor(uri);
    assert.equal(calls.length, 1);
    assert.equal(calls[0]!.uri, uri, 'no credentials spliced into the URI');
    assert.deepEqual(calls[0]!.options.login, { username: 'backup', password: SECRET });
  });

  it('never connects to a host it holds no entry for: refused before anything is sent', async () => {
    const { calls, connect } = recordingConnect();
    const registry = new SourceRegistry({ appName: 'tidemark-agent', credentials, connect });
    for (const uri of [
      'mongodb://attacker.example.org:27017/',
      'mongodb://db1.example.net,attacker.example.org/?replicaSet=rs0',
      'mongodb://db1.example.net:27019/',
      'mongodb+srv://db1.example.net/',
    ]) {
      await assert.rejects(registry.sourceFor(uri), (err: unknown) => {
        assert.ok(err instanceof SourceNotAllowedError, String(err));
        assert.equal(err.retriable, false, 'the command handler alerts instead of retrying');
        assert.doesNotMatch(err.message, new RegExp(SECRET));
        return true;
      });
    }
    assert.deepEqual(calls, [], 'no connection was opened');
  });

  it('with no entries, connects every source without credentials', async () => {
    const { calls, connect } = recordingConnect();
    const registry = new SourceRegistry({ appName: 'a', credentials: SourceCredentials.OPEN, connect });
    await registry.sourceFor('mongodb://anywhere.example.org/');
    assert.equal(calls[0]!.options.login, undefined);
  });
});
