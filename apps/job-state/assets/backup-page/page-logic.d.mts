// Types of page-logic.mjs, for its spec (the page itself is plain JavaScript).
export declare const ACTIONS: readonly string[];
export declare function withoutSecrets(input: string): { ok: boolean; uri: string; removed: boolean };
export declare function shellQuote(word: string): string;
export declare function restoreCommand(form: {
  snapshotId: string;
  target: string;
  include: string[];
  drop: boolean;
}): { ok: boolean; problems: string[]; command: string; passwordRemoved: boolean };
export declare function formatBytes(value: string | number | null | undefined): string;
export declare function phaseBar(status: {
  state: string;
  phase: string | null;
  progress: { percent: number | null };
}): { label: string; percent: number | null };
export declare function describeLag(lag: { seconds: number | null; entries: number | null }): string;
interface Position {
  opTime: string;
  wallTime: string | null;
}
export declare function describeWindow(w: { from: Position; to: Position } | null): string;
export declare function terminateSummary(
  job: { id: string },
  status: { restorableWindow: { from: Position; to: Position } | null },
  retained: {
    snapshots: { count: number; storedBytes: string };
    oplogSlices: { count: number; bytes: string };
    headDatabases: string[];
  },
): string[];
export declare function parseEvents(buffer: string): {
  events: { type: string; data: string }[];
  rest: string;
};
export declare function backoffMs(attempt: number, random: number): number;
