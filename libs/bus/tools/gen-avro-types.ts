/**
 * Writes libs/bus/src/types.ts from the current schemas in `schemas/`:
 *   node --import tsx libs/bus/tools/gen-avro-types.ts          (write)
 *   node --import tsx libs/bus/tools/gen-avro-types.ts --check  (exit 1 if types.ts is out of date)
 * The output is formatted with the workspace's prettier settings, so running prettier on it changes nothing.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as prettier from 'prettier';
import { generateTypesSource } from '../src/avro-to-ts';
import { defaultSchemasDir, readSchemaSources } from '../src/schema-files';

/** Where the generated file lives. */
export const TYPES_FILE = path.resolve(__dirname, '..', 'src', 'types.ts');

/** The formatted content types.ts must have for the schemas in `schemasDir`. */
export async function generateTypesFile(schemasDir: string = defaultSchemasDir()): Promise<string> {
  const source = generateTypesSource(readSchemaSources(schemasDir));
  const config = (await prettier.resolveConfig(TYPES_FILE)) ?? {};
  return prettier.format(source, { ...config, filepath: TYPES_FILE });
}

async function main(): Promise<void> {
  const wanted = await generateTypesFile();
  const existing = fs.existsSync(TYPES_FILE) ? fs.readFileSync(TYPES_FILE, 'utf8') : '';
  if (process.argv.includes('--check')) {
    if (existing !== wanted) {
      process.stderr.write(
        `${TYPES_FILE} is out of date: run node --import tsx libs/bus/tools/gen-avro-types.ts\n`,
      );
      process.exitCode = 1;
    }
    return;
  }
  if (existing !== wanted) fs.writeFileSync(TYPES_FILE, wanted);
  process.stdout.write(
    `${existing === wanted ? 'unchanged' : 'wrote'} ${path.relative(process.cwd(), TYPES_FILE)}\n`,
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
