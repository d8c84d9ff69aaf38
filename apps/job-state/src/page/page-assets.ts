/**
 * The Backup page's static files (`apps/job-state/assets/backup-page/`), read once at start-up and served from
 * memory by `BackupPageController`. They hold no data and no secret: the page asks the API for everything, with the
 * key the user pasted.
 *
 * Where the folder is: next to the bundle in the built form (`tools/build/bundle-apps.mjs` copies `assets/` of each
 * app to `dist/apps/<app>/assets/`, which the image carries), or in the workspace when run from the sources
 * (`node --import tsx apps/job-state/src/main.ts`). A job-state without its page refuses to start, naming both.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Each file the page is made of, with its content type; nothing else is served. */
export const PAGE_FILES: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
  'app.mjs': 'text/javascript; charset=utf-8',
  'page-logic.mjs': 'text/javascript; charset=utf-8',
};

export interface PageFile {
  readonly contentType: string;
  readonly body: Buffer;
}

export type PageAssets = ReadonlyMap<string, PageFile>;

/** Where the folder may be: the bundle's neighbour first, then the workspace's. */
export function pageAssetDirs(moduleDir: string = __dirname): string[] {
  return [
    path.join(moduleDir, 'assets', 'backup-page'),
    path.resolve(moduleDir, '..', '..', 'assets', 'backup-page'),
  ];
}

export function loadPageAssets(dirs: readonly string[] = pageAssetDirs()): PageAssets {
  const dir = dirs.find((d) => existsSync(path.join(d, 'index.html')));
  if (dir === undefined)
    throw new Error(`the Backup page's files are missing: looked for index.html in ${dirs.join(' and ')}`);
  const files = new Map<string, PageFile>();
  for (const [name, contentType] of Object.entries(PAGE_FILES))
    files.set(name, { contentType, body: readFileSync(path.join(dir, name)) });
  return files;
}
