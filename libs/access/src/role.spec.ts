import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseGrants } from './grants';
import { ADMIN, SERVICE, accessTo, roleOn, visibleProjects, type Principal } from './principal';
import { projectNameProblems } from './project-name';
import { ROLES, isRole, roleAtLeast } from './role';

describe('roles', () => {
  it('are ordered viewer < operator < owner', () => {
    assert.deepEqual([...ROLES], ['viewer', 'operator', 'owner']);
    const table: [string, string, boolean][] = [
      ['viewer', 'viewer', true],
      ['viewer', 'operator', false],
      ['viewer', 'owner', false],
      ['operator', 'viewer', true],
      ['operator', 'operator', true],
      ['operator', 'owner', false],
      ['owner', 'viewer', true],
      ['owner', 'operator', true],
      ['owner', 'owner', true],
    ];
    for (const [held, needed, ok] of table)
      assert.equal(roleAtLeast(held as never, needed as never), ok, `${held} >= ${needed}`);
    assert.equal(isRole('admin'), false);
    assert.equal(isRole('owner'), true);
  });
});

describe('grant checks', () => {
  const key: Principal = { kind: 'key', keyId: '0123456789ab', grants: { a: 'operator', b: 'viewer' } };

  it('a key sees only its projects (hidden: 404), and needs the role (too-low: 403)', () => {
    assert.equal(accessTo(key, 'a', 'viewer'), 'allowed');
    assert.equal(accessTo(key, 'a', 'operator'), 'allowed');
    assert.equal(accessTo(key, 'a', 'owner'), 'too-low');
    assert.equal(accessTo(key, 'a', 'admin'), 'too-low');
    assert.equal(accessTo(key, 'b', 'operator'), 'too-low');
    assert.equal(accessTo(key, 'c', 'viewer'), 'hidden');
    assert.equal(accessTo(key, 'constructor', 'viewer'), 'hidden', 'no prototype property is a grant');
    assert.equal(accessTo(key, '__proto__', 'viewer'), 'hidden');
    assert.deepEqual(visibleProjects(key), ['a', 'b']);
    assert.equal(roleOn(key, 'b'), 'viewer');
  });

  it('the admin key may do everything everywhere; the service credential is no grant on any project', () => {
    for (const need of ['viewer', 'operator', 'owner', 'admin'] as const) {
      assert.equal(accessTo(ADMIN, 'anything', need), 'allowed');
      assert.equal(accessTo(SERVICE, 'anything', need), 'hidden');
    }
    assert.equal(visibleProjects(ADMIN), undefined);
    assert.deepEqual(visibleProjects(SERVICE), []);
  });

  it('parseGrants takes project -> role and says every problem', () => {
    assert.deepEqual(parseGrants({ shop: 'owner', 'crm-2': 'viewer' }), {
      grants: { shop: 'owner', 'crm-2': 'viewer' },
      problems: [],
    });
    assert.match(parseGrants([]).problems.join(), /must be an object/);
    assert.match(parseGrants({}).problems.join(), /at least one project/);
    const bad = parseGrants({ shop: 'admin', 'a b': 'viewer', x: 3 }).problems;
    assert.equal(bad.length, 3, bad.join(' | '));
    assert.match(bad.join(' | '), /role of "shop" must be one of viewer, operator, owner, got "admin"/);
    const many = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, 'viewer']));
    assert.match(parseGrants(many).problems.join(), /at most 100/);
  });

  it('project names are 1-64 of letters, digits, . _ -, starting with a letter or digit', () => {
    for (const ok of ['shop', 'a', 'Shop-2.eu_west', 'x'.repeat(64)])
      assert.deepEqual(projectNameProblems(ok), []);
    for (const bad of ['', '-a', 'a b', 'a=b', 'a/b', 'x'.repeat(65), 'é', 3, null])
      assert.equal(projectNameProblems(bad).length, 1, String(bad));
  });
});
