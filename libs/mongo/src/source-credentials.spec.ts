import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  normalizeHost,
  parseSourceEntries,
  SourceCredentials,
  SourceCredentialsConfigError,
  sourceCredentialsFromEnv,
  SourceNotAllowedError,
  sourceAddressOf,
} from './source-credentials';

const SECRET = 's3cr3t-Pa55';

const FILE = JSON.stringify({
  sources: [
    {
      id: 'prod-rs0',
      hosts: ['DB1.example.net:27017', 'db2.example.net', 'db3.example.net.:27018'],
      username: 'backup',
      password: SECRET,
      authSource: 'admin',
    },
    { id: 'atlas', srv: 'Cluster0.abcde.mongodb.net', username: 'atlas-backup', password: SECRET },
    { id: 'lab', hosts: ['127.0.0.1:27117'] },
  ],
});

const creds = (): SourceCredentials => new SourceCredentials(parseSourceEntries(FILE, 'test'));

function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SourceNotAllowedError, String(err));
    assert.equal(err.retriable, false);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, new RegExp(SECRET));
    return true;
  });
}

describe('normalizeHost', () => {
  it('lower-cases, drops a trailing dot and makes the default port explicit', () => {
    assert.equal(normalizeHost('DB1.Example.NET'), 'db1.example.net:27017');
    assert.equal(normalizeHost('db1.example.net.:27018'), 'db1.example.net:27018');
    assert.equal(normalizeHost('[::1]'), '[::1]:27017');
    assert.equal(normalizeHost('[FE80::1]:27019'), '[fe80::1]:27019');
    assert.equal(normalizeHost('%2Ftmp%2Fmongodb-27017.sock'), '/tmp/mongodb-27017.sock');
  });

  it('refuses ports out of range, bare IPv6 and junk', () => {
    for (const bad of ['h:0', 'h:65536', 'h:x', '::1', 'h:1:2', '', 'a b', 'h:', '-h']) {
      assert.throws(() => normalizeHost(bad), Error, bad);
    }
  });
});

describe('sourceAddressOf', () => {
  it('reads the seed list, ignoring a user part, the path and the options', () => {
    assert.deepEqual(sourceAddressOf('mongodb://u@h2:27018,H1/db?replicaSet=rs0&authSource=admin'), {
      srv: false,
      hosts: ['h2:27018', 'h1:27017'],
      optionNames: ['replicaset', 'authsource'],
    });
  });

  it('reads an SRV name and refuses a port or a list on it', () => {
    assert.deepEqual(sourceAddressOf('mongodb+srv://Cluster0.x.net/?tls=true').hosts, ['cluster0.x.net']);
    assert.throws(() => sourceAddressOf('mongodb+srv://cluster0.x.net:27017'));
    assert.throws(() => sourceAddressOf('mongodb+srv://a.x.net,b.x.net'));
    assert.throws(() => sourceAddressOf('http://h:27017'));
  });
});

describe('SourceCredentials.forUri', () => {
  it('gives the entry its login for any order or subset of its seed list, ports normalised', () => {
    const c = creds();
    for (const uri of [
      'mongodb://db1.example.net:27017,db2.example.net:27017,db3.example.net:27018/?replicaSet=rs0',
      'mongodb://db3.example.net:27018,DB1.example.net,db2.example.net./?replicaSet=rs0',
      'mongodb://db2.example.net:27017/',
      'mongodb://db2.example.net',
    ]) {
      assert.deepEqual(c.forUri(uri), { username: 'backup', password: SECRET, authSource: 'admin' }, uri);
    }
  });

  it('matches a mongodb+srv name case-insensitively, and only as SRV', () => {
    const c = creds();
    assert.equal(
      c.forUri('mongodb+srv://cluster0.ABCDE.mongodb.net/?retryWrites=false')?.username,
      'atlas-backup',
    );
    refused(
      () => c.forUri('mongodb://cluster0.abcde.mongodb.net:27017/'),
      /not a source the agent was given/,
    );
    refused(() => c.forUri('mongodb+srv://db1.example.net/'), /not a source the agent was given/);
  });

  it('refuses a host it has no entry for, before anything is sent, naming the hosts and entries', () => {
    const c = creds();
    refused(
      () => c.forUri('mongodb://evil.example.org:27017/'),
      /evil\.example\.org:27017 .*prod-rs0, atlas, lab/,
    );
    // the right host on another port is another server
    refused(() => c.forUri('mongodb://db1.example.net:27018/'), /db1\.example\.net:27018/);
    refused(() => c.forUri('mongodb://db3.example.net/'), /db3\.example\.net:27017/);
    // one listed host does not vouch for an unlisted one beside it
    refused(() => c.forUri('mongodb://db1.example.net,evil.example.org/'), /not a source/);
    // hosts of two entries in one URI
    refused(() => c.forUri('mongodb://db1.example.net,127.0.0.1:27117/'), /not a source/);
    refused(() => c.forUri('not a uri'), /not a mongodb/);
  });

  it('connects a listed source that needs none without credentials', () => {
    assert.equal(creds().forUri('mongodb://127.0.0.1:27117/?replicaSet=rs0'), undefined);
    assert.equal(creds().forUri('mongodb://127.0.0.1:27117/?authSource=admin'), undefined);
  });

  it('refuses a credentialed source whose URI chooses how to authenticate', () => {
    const c = creds();
    refused(() => c.forUri('mongodb://db1.example.net/?authMechanism=PLAIN'), /authmechanism .*prod-rs0/);
    refused(() => c.forUri('mongodb://db1.example.net/?authSource=$external'), /authsource/);
    refused(
      () => c.forUri('mongodb+srv://cluster0.abcde.mongodb.net/?authMechanismProperties=x:y'),
      /authmech/,
    );
  });

  it('with no entries at all, connects every source without credentials', () => {
    assert.equal(SourceCredentials.OPEN.forUri('mongodb://anywhere.example.org/'), undefined);
    refused(() => SourceCredentials.OPEN.forUri('https://x'), /not a mongodb/);
  });

  it('refuses a host or SRV name that is in two entries', () => {
    const twice = JSON.stringify({
      sources: [
        { id: 'a', hosts: ['h1:27017', 'h2'] },
        { id: 'b', hosts: ['H2:27017'], username: 'u', password: SECRET },
      ],
    });
    assert.throws(
      () => new SourceCredentials(parseSourceEntries(twice, 't')),
      /h2:27017 is in two source entries, a and b/,
    );
  });

  it('logs entries without passwords', () => {
    const text = JSON.stringify({ credentials: creds() });
    assert.doesNotMatch(text, new RegExp(SECRET));
    assert.match(text, /prod-rs0/);
  });
});

describe('parseSourceEntries', () => {
  it('lists every problem at once and never quotes a password', () => {
    const bad = JSON.stringify({
      sources: [
        { id: 'x', hosts: ['h:99999'], username: 'u', password: SECRET },
        { id: 'y', hosts: [], srv: 'a.b' },
        { id: 'z', srv: 'a.b', username: 'u' },
        { id: 'w', hosts: ['h'], password: SECRET },
        { id: 'v', hosts: ['h'], username: 'u', password: SECRET, authMechanism: 'MONGODB-CR', tls: true },
        { hosts: ['q'] },
      ],
    });
    assert.throws(
      () => parseSourceEntries(bad, 'FILE'),
      (err: unknown) => {
        assert.ok(err instanceof SourceCredentialsConfigError);
        assert.doesNotMatch(err.message, new RegExp(SECRET));
        for (const expected of [
          /x\.hosts: host "h:99999" has no port/,
          /y must have either "hosts"/,
          /z\.password must be a non-empty string/,
          /w has password but no username/,
          /v\.authMechanism must be one of SCRAM-SHA-1, SCRAM-SHA-256, PLAIN/,
          /sources\[4\]\.tls is not a field/,
          /sources\[5\]\.id must be a non-empty string/,
        ])
          assert.match(err.message, expected);
        return true;
      },
    );
    assert.throws(() => parseSourceEntries('{"sources": 1}', 'FILE'), /FILE must be an object/);
    assert.throws(
      () => parseSourceEntries(`{"sources": [], "password": "${SECRET}"`, 'FILE'),
      /FILE is not JSON$/,
    );
  });
});

describe('sourceCredentialsFromEnv', () => {
  const own = 'mongodb://127.0.0.1:27117/?replicaSet=rs0';

  it('is open when nothing is set', () => {
    assert.equal(sourceCredentialsFromEnv({}, own), SourceCredentials.OPEN);
  });

  it('binds the legacy username/password to the agent own source hosts by default', () => {
    const c = sourceCredentialsFromEnv(
      { TIDEMARK_SOURCE_USERNAME: 'u', TIDEMARK_SOURCE_PASSWORD: SECRET },
      own,
    );
    assert.deepEqual(c.forUri('mongodb://127.0.0.1:27117/?replicaSet=rs0'), {
      username: 'u',
      password: SECRET,
    });
    refused(() => c.forUri('mongodb://127.0.0.1:27217/?replicaSet=rs0'), /127\.0\.0\.1:27217 .* env/);
  });

  it('binds them to TIDEMARK_SOURCE_HOSTS when set (a host list or one mongodb+srv name)', () => {
    const env = { TIDEMARK_SOURCE_USERNAME: 'u', TIDEMARK_SOURCE_PASSWORD: SECRET };
    const listed = sourceCredentialsFromEnv(
      { ...env, TIDEMARK_SOURCE_HOSTS: 'a.example:27017,b.example' },
      own,
    );
    assert.equal(listed.forUri('mongodb://b.example:27017,a.example/')?.username, 'u');
    refused(() => listed.forUri(own), /127\.0\.0\.1:27117/);
    const srv = sourceCredentialsFromEnv(
      { ...env, TIDEMARK_SOURCE_HOSTS: 'mongodb+srv://c.example.net' },
      own,
    );
    assert.equal(srv.forUri('mongodb+srv://c.example.net/')?.username, 'u');
  });

  it('combines the file with the legacy variables and refuses overlaps', () => {
    const files: Record<string, string> = { '/run/creds.json': FILE };
    const read = (p: string): string => {
      const text = files[p];
      if (text === undefined) throw new Error('ENOENT');
      return text;
    };
    const c = sourceCredentialsFromEnv({ TIDEMARK_SOURCE_CREDENTIALS_FILE: '/run/creds.json' }, own, read);
    assert.equal(c.forUri('mongodb://db1.example.net/')?.username, 'backup');
    assert.throws(
      () =>
        sourceCredentialsFromEnv(
          {
            TIDEMARK_SOURCE_CREDENTIALS_FILE: '/run/creds.json',
            TIDEMARK_SOURCE_USERNAME: 'u',
            TIDEMARK_SOURCE_PASSWORD: 'p',
          },
          own,
          read,
        ),
      /127\.0\.0\.1:27117 is in two source entries, lab and env/,
    );
    assert.throws(
      () => sourceCredentialsFromEnv({ TIDEMARK_SOURCE_CREDENTIALS_FILE: '/nope' }, own, read),
      /TIDEMARK_SOURCE_CREDENTIALS_FILE=\/nope cannot be read/,
    );
    const inline = sourceCredentialsFromEnv({ TIDEMARK_SOURCE_CREDENTIALS: FILE }, own);
    assert.equal(inline.forUri('mongodb+srv://cluster0.abcde.mongodb.net')?.username, 'atlas-backup');
  });

  it('refuses half-set variables without echoing the password', () => {
    const cases: [NodeJS.ProcessEnv, RegExp][] = [
      [{ TIDEMARK_SOURCE_PASSWORD: SECRET }, /TIDEMARK_SOURCE_PASSWORD set without TIDEMARK_SOURCE_USERNAME/],
      [{ TIDEMARK_SOURCE_HOSTS: 'h' }, /TIDEMARK_SOURCE_HOSTS set without TIDEMARK_SOURCE_USERNAME/],
      [{ TIDEMARK_SOURCE_USERNAME: 'u' }, /TIDEMARK_SOURCE_PASSWORD is not/],
      [
        { TIDEMARK_SOURCE_USERNAME: 'u', TIDEMARK_SOURCE_PASSWORD: SECRET, TIDEMARK_SOURCE_HOSTS: 'h:0' },
        /TIDEMARK_SOURCE_HOSTS: host "h:0"/,
      ],
      [{ TIDEMARK_SOURCE_CREDENTIALS: FILE, TIDEMARK_SOURCE_CREDENTIALS_FILE: '/x' }, /not both/],
    ];
    for (const [env, pattern] of cases) {
      assert.throws(
        () => sourceCredentialsFromEnv(env, own),
        (err: unknown) =>
          err instanceof SourceCredentialsConfigError &&
          pattern.test(err.message) &&
          !err.message.includes(SECRET),
        JSON.stringify(Object.keys(env)),
      );
    }
    assert.throws(
      () =>
        sourceCredentialsFromEnv(
          { TIDEMARK_SOURCE_USERNAME: 'u', TIDEMARK_SOURCE_PASSWORD: SECRET },
          undefined,
        ),
      /neither TIDEMARK_SOURCE_HOSTS nor/,
    );
  });
});
