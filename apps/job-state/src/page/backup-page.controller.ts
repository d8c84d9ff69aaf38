/**
 * The Backup page (docs/api.md, "The Backup page"): `GET /` and `GET /ui` serve the page, `GET /ui/<file>` its
 * script and style sheet, from memory (`page-assets.ts`). Public: the files hold no data and no secret; every
 * call the page makes carries the user's key (`Authorization: Bearer`, never in a URL). Each answer carries a
 * strict Content-Security-Policy: scripts and styles only from job-state itself, no inline script or style, no
 * frames, no form posts, connections only back to job-state.
 */
import { Controller, Get, Inject, NotFoundException, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Access } from '../access/route-access';
import { PAGE_ASSETS } from '../tokens';
import type { PageAssets, PageFile } from './page-assets';

export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The part of Express's response the page uses. */
interface PageResponse {
  setHeader(name: string, value: string): void;
  status(code: number): { send(body: Buffer): void };
}

@Controller()
@ApiExcludeController() // a web page, not part of the API: its files are listed in the OpenAPI spec's exceptions
export class BackupPageController {
  constructor(@Inject(PAGE_ASSETS) private readonly assets: PageAssets) {}

  @Get(['', 'ui'])
  @Access.public()
  page(@Res() res: PageResponse): void {
    send(res, this.file('index.html'));
  }

  @Get('ui/:file')
  @Access.public()
  asset(@Param('file') name: string, @Res() res: PageResponse): void {
    send(res, this.file(name));
  }

  private file(name: string): PageFile {
    const file = this.assets.get(name);
    if (file === undefined) throw new NotFoundException(`no such file of the Backup page: ${name}`);
    return file;
  }
}

function send(res: PageResponse, file: PageFile): void {
  res.setHeader('Content-Type', file.contentType);
  res.setHeader('Content-Security-Policy', PAGE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cache-Control', 'no-cache');
  res.status(200).send(file.body);
}
