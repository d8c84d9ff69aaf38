/**
 * The initial-sync phase as the domain names it (`applying-oplogs`) and as the Avro enum spells it
 * (`APPLYING_OPLOGS`). The Avro symbols are in the domain's order; a spec checks both lists agree.
 */
import { isPhase, SchemaMismatchError, type Phase } from '@tidemark/domain';
import { AVRO_PHASE_SYMBOLS, type AvroPhase } from './types';

/** The Avro symbol of a domain phase. */
export function phaseToAvro(phase: Phase): AvroPhase {
  const symbol = phase.toUpperCase().replace(/-/g, '_');
  if (!(AVRO_PHASE_SYMBOLS as readonly string[]).includes(symbol)) {
    throw new SchemaMismatchError({
      schemaName: 'tidemark.phases.Phase',
      detail: `no Avro symbol for phase ${phase}`,
    });
  }
  return symbol as AvroPhase;
}

/** The domain phase of an Avro symbol. */
export function phaseFromAvro(symbol: AvroPhase): Phase {
  const phase = symbol.toLowerCase().replace(/_/g, '-');
  if (!isPhase(phase)) {
    throw new SchemaMismatchError({
      schemaName: 'tidemark.phases.Phase',
      detail: `no domain phase for ${symbol}`,
    });
  }
  return phase;
}
