import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { IllegalTransitionError } from './errors';
import {
  JOB_ACTIONS,
  JOB_STATES,
  JOB_TRANSITIONS,
  STATE_POLICY,
  allowedActions,
  canTransition,
  isJobAction,
  isJobState,
  transition,
  type JobAction,
  type JobState,
} from './job-state';

/** The design brief's table, restated here so a change to the code table must also change this spec. */
const EXPECTED: Array<[JobState, JobAction, JobState]> = [
  ['inactive', 'start', 'initial-sync'],
  ['initial-sync', 'initial-sync-completed', 'active'],
  ['initial-sync', 'initial-sync-failed', 'stopped'],
  ['initial-sync', 'stop', 'stopped'],
  ['active', 'stop', 'stopped'],
  ['active', 'resync', 'initial-sync'],
  ['stopped', 'restart', 'initial-sync'],
  ['stopped', 'terminate', 'inactive'],
];

describe('transition table', () => {
  for (const [from, action, to] of EXPECTED) {
    it(`${from} --${action}--> ${to}`, () => {
      assert.equal(transition(from, action, 'job-1'), to);
      assert.ok(canTransition(from, action));
    });
  }

  it('has exactly the expected rows, one per (from, action)', () => {
    assert.deepEqual(
      JOB_TRANSITIONS.map((row) => [row.from, row.action, row.to]),
      EXPECTED,
    );
    const keys = new Set(JOB_TRANSITIONS.map((row) => `${row.from}/${row.action}`));
    assert.equal(keys.size, JOB_TRANSITIONS.length);
  });

  it('marks only terminate as deleting retained backups', () => {
    const deleting = JOB_TRANSITIONS.filter((row) => row.deletesRetainedBackups).map((row) => row.action);
    assert.deepEqual(deleting, ['terminate']);
  });

  it('rejects every (state, action) pair not in the table with a non-retriable IllegalTransitionError', () => {
    const legal = new Set(EXPECTED.map(([from, action]) => `${from}/${action}`));
    let illegal = 0;
    for (const from of JOB_STATES) {
      for (const action of JOB_ACTIONS) {
        if (legal.has(`${from}/${action}`)) continue;
        illegal += 1;
        assert.ok(!canTransition(from, action));
        assert.throws(
          () => transition(from, action, 'job-7'),
          (err: unknown) =>
            err instanceof IllegalTransitionError &&
            err.retriable === false &&
            err.from === from &&
            err.action === action &&
            err.jobId === 'job-7' &&
            err.message.includes(`"${from}"`) &&
            err.message.includes(`"${action}"`),
          `${from}/${action}`,
        );
      }
    }
    assert.equal(illegal, JOB_STATES.length * JOB_ACTIONS.length - EXPECTED.length);
  });

  it('names illegal examples from the brief', () => {
    assert.throws(() => transition('inactive', 'stop'), /action "stop" is not allowed in state "inactive"/);
    assert.throws(() => transition('active', 'terminate'), IllegalTransitionError);
    assert.throws(() => transition('stopped', 'resync'), IllegalTransitionError);
    assert.throws(() => transition('active', 'start'), IllegalTransitionError);
  });

  it('lists allowed actions per state', () => {
    assert.deepEqual(allowedActions('inactive'), ['start']);
    assert.deepEqual(allowedActions('active'), ['stop', 'resync']);
    assert.deepEqual(allowedActions('stopped'), ['restart', 'terminate']);
    assert.deepEqual(allowedActions('initial-sync'), [
      'initial-sync-completed',
      'initial-sync-failed',
      'stop',
    ]);
  });
});

describe('STATE_POLICY', () => {
  it('matches the design brief, with initial-sync retaining and applying but not creating snapshots', () => {
    assert.deepEqual(STATE_POLICY, {
      active: { retainSnapshots: true, createSnapshots: true, applyOplogs: true },
      stopped: { retainSnapshots: true, createSnapshots: false, applyOplogs: false },
      inactive: { retainSnapshots: false, createSnapshots: false, applyOplogs: false },
      'initial-sync': { retainSnapshots: true, createSnapshots: false, applyOplogs: true },
    });
  });

  it('covers every state and cannot be changed at run time', () => {
    assert.deepEqual(Object.keys(STATE_POLICY).sort(), [...JOB_STATES].sort());
    assert.ok(Object.isFrozen(STATE_POLICY) && Object.isFrozen(STATE_POLICY.active));
    assert.ok(Object.isFrozen(JOB_TRANSITIONS));
  });
});

describe('guards', () => {
  it('recognise states and actions', () => {
    assert.ok(isJobState('initial-sync'));
    assert.ok(!isJobState('running'));
    assert.ok(isJobAction('initial-sync-failed'));
    assert.ok(!isJobAction('pause'));
    assert.ok(!isJobState(undefined));
  });
});
