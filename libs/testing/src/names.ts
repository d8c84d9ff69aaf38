import { randomBytes } from 'node:crypto';

/** A name of its own for one test's topic, database or bucket (kafkajs testHelpers' `secureRandom`). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** Same, with characters MongoDB database names accept. */
export function uniqueDbName(prefix: string): string {
  return uniqueName(prefix)
    .replace(/[^A-Za-z0-9_]/g, '_')
    .slice(0, 60);
}
