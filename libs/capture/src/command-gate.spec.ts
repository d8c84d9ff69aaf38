import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { AgentCommand } from './agent-command';
import { CommandGate, REMEMBERED_COMMANDS } from './command-gate';

const takenAt = 1_000_000;
const gate = () =>
  new CommandGate({
    takenAt,
    jobs: new Map([
      ['fetching', { syncId: 'fetching-s1', phase: 'fetching-missing-documents' as const }],
      ['active', { syncId: 'active-s4', phase: 'complete' as const }],
    ]),
  });
const at = (ms: number) => new Date(ms);
const sync = (jobId: string, issued: number): AgentCommand => ({
  kind: 'sync',
  action: 'START',
  commandId: `${jobId}-${issued}`,
  jobId,
  issuedAt: at(issued),
  syncId: `${jobId}-s9`,
  readLimit: undefined,
  syncNo: 9,
  sourceUri: 'mongodb://x',
  filters: { include: [], exclude: [] },
});
const fetch = (jobId: string, syncId: string, issued: number): AgentCommand => ({
  kind: 'fetch-missing',
  commandId: `f-${jobId}-${issued}`,
  jobId,
  issuedAt: at(issued),
  syncId,
  batch: 1,
  batches: 2,
  ns: 'a.b',
  ids: [1],
});

describe('CommandGate', () => {
  it('acts on commands issued after the start-up snapshot, once per command id', () => {
    const g = gate();
    const command = sync('new', takenAt + 5);
    assert.deepEqual(g.decide(command), { act: true });
    g.remember(command.commandId);
    assert.deepEqual(g.decide(command), { act: false, reason: 'already handled' });
  });

  it('skips sync and stop commands issued before the snapshot: the recovery decided those jobs', () => {
    const g = gate();
    assert.equal(g.decide(sync('active', takenAt - 60_000)).act, false);
    assert.equal(g.decide(sync('unlisted', takenAt - 60_000)).act, false);
    assert.equal(
      g.decide({
        kind: 'stop',
        action: 'STOP',
        commandId: 's',
        jobId: 'active',
        issuedAt: at(takenAt - 60_000),
      }).act,
      false,
    );
  });

  it('acts on an earlier FETCH_MISSING_DOCUMENTS only while that sync is still fetching', () => {
    const g = gate();
    assert.equal(g.decide(fetch('fetching', 'fetching-s1', takenAt - 60_000)).act, true);
    assert.equal(g.decide(fetch('fetching', 'fetching-s0', takenAt - 60_000)).act, false);
    assert.equal(g.decide(fetch('active', 'active-s4', takenAt - 60_000)).act, false);
  });

  it("never acts on actions that are not the agent's", () => {
    const other: AgentCommand = {
      kind: 'other',
      action: 'TAKE_SNAPSHOT',
      commandId: 'o',
      jobId: 'x',
      issuedAt: at(takenAt + 1),
    };
    assert.equal(gate().decide(other).act, false);
  });

  it('remembers a bounded number of command ids', () => {
    const g = gate();
    for (let k = 0; k <= REMEMBERED_COMMANDS; k++) g.remember(`id-${k}`);
    const first = { ...sync('new', takenAt + 5), commandId: 'id-0' };
    const recent = { ...sync('new', takenAt + 5), commandId: `id-${REMEMBERED_COMMANDS}` };
    assert.equal(g.decide(first).act, true, 'the oldest id was forgotten');
    assert.equal(g.decide(recent).act, false);
  });
});
