/**
 * A real in-memory {@link CommandPublisher} for unit specs: records what was sent, in order, and can be made to
 * fail (as Kafka would) to exercise the outbox.
 */
import { TidemarkError } from '@tidemark/domain';
import type { PhaseReport } from '@tidemark/domain';
import type { JobCommandMessage } from './messages';
import type { CommandPublisher } from './ports';

export type SentMessage =
  | { readonly kind: 'command'; readonly command: JobCommandMessage }
  | { readonly kind: 'phase'; readonly report: PhaseReport };

export class MemoryCommandPublisher implements CommandPublisher {
  readonly sent: SentMessage[] = [];
  /** While set, every publish throws a retriable error with this text. */
  failing: string | undefined;

  async publishCommand(command: JobCommandMessage): Promise<void> {
    this.check();
    this.sent.push({ kind: 'command', command: structuredClone(command) });
  }

  async publishPhase(report: PhaseReport): Promise<void> {
    this.check();
    this.sent.push({ kind: 'phase', report: structuredClone(report) });
  }

  /** The commands sent so far. */
  commands(): JobCommandMessage[] {
    return this.sent.flatMap((m) => (m.kind === 'command' ? [m.command] : []));
  }

  private check(): void {
    if (this.failing !== undefined) throw new TidemarkError(this.failing, { retriable: true });
  }
}
