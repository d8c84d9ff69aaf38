/**
 * What the events deserializer hands to the handlers: a decoded record, or the note that the message could not be
 * decoded and was dead-lettered (`tidemark.phases.dlq`) or, for a topic without a dead-letter topic
 * (`tidemark.alerts`), could not be kept anywhere but the log. The handler then only commits its offset.
 */
import type { AlertRaised, PhaseChanged } from '@tidemark/bus';

export type EventPacket =
  | { readonly kind: 'phase-changed'; readonly event: PhaseChanged; readonly source: string }
  | { readonly kind: 'alert-raised'; readonly event: AlertRaised; readonly source: string }
  | { readonly kind: 'dead-lettered'; readonly reason: string; readonly source: string }
  | { readonly kind: 'undecodable'; readonly reason: string; readonly source: string };
