/**
 * No import cycles among the production files of a project, type-only imports included. Lint's
 * `import-x/no-cycle` (eslint.config.mjs) catches runtime cycles, across libraries too, but skips `import type`;
 * `@nx/enforce-module-boundaries` rejects cycles between projects. This spec covers the rest: relative imports
 * and re-exports (`import`, `import type`, `export ... from`) between the `.ts` files of each app, library and
 * tool, specs and test folders left out.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const TEST_FILE = /\.(spec|int-spec|contract)\.ts$/;
const RELATIVE_IMPORT = /(?:^|\n)\s*(?:import|export)\b[^;'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)['"]/g;

function productionFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name === 'test' || e.name.startsWith('.')) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...productionFiles(p));
    else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') && !TEST_FILE.test(e.name)) out.push(p);
  }
  return out;
}

function resolveImport(from: string, spec: string): string | undefined {
  const base = path.resolve(path.dirname(from), spec);
  return [`${base}.ts`, path.join(base, 'index.ts'), base].find((p) => p.endsWith('.ts') && fs.existsSync(p));
}

/** Each cycle once, as the files from its first member back to it (paths relative to the repository). */
export function importCycles(files: readonly string[]): string[][] {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const targets = [...text.matchAll(RELATIVE_IMPORT)]
      .map((m) => resolveImport(file, m[1]!))
      .filter((t): t is string => t !== undefined && files.includes(t));
    graph.set(file, [...new Set(targets)]);
  }
  const cycles: string[][] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string): void => {
    if (done.has(file)) return;
    const at = stack.indexOf(file);
    if (at >= 0) {
      cycles.push([...stack.slice(at), file].map((f) => path.relative(ROOT, f)));
      return;
    }
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    done.add(file);
  };
  for (const file of graph.keys()) visit(file);
  return cycles;
}

function projects(): string[] {
  return ['apps', 'libs', 'tools'].flatMap((top) =>
    fs
      .readdirSync(path.join(ROOT, top), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => path.join(ROOT, top, e.name)),
  );
}

describe('import cycles', () => {
  it('none among the production files of any app, library or tool', () => {
    const found = projects().flatMap((dir) => importCycles(productionFiles(dir)));
    assert.deepEqual(
      found.map((c) => c.join(' -> ')),
      [],
    );
  });

  it('are found through type-only imports and re-exports too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cycles-'));
    try {
      fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b';\nexport type A = B;\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "export { C as B } from './c';\n");
      fs.writeFileSync(path.join(dir, 'c.ts'), "import { a } from './a';\nexport type C = typeof a;\n");
      fs.writeFileSync(path.join(dir, 'd.ts'), "import { x } from './a';\n");
      const cycles = importCycles(productionFiles(dir));
      assert.equal(cycles.length, 1);
      assert.deepEqual(
        cycles[0]!.map((f) => path.basename(f)),
        ['a.ts', 'b.ts', 'c.ts', 'a.ts'],
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
