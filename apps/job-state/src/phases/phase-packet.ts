/**
 * What the phases deserializer hands to the handler: a decoded report, or the note that the message was
 * dead-lettered (the handler then only commits its offset).
 */
import type { PhaseChanged } from '@tidemark/bus';

export type PhasePacket =
  | { readonly kind: 'phase-changed'; readonly event: PhaseChanged; readonly source: string }
  | { readonly kind: 'dead-lettered'; readonly reason: string; readonly source: string };
