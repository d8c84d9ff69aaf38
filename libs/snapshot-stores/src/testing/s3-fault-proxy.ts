/**
 * A tiny HTTP proxy on 127.0.0.1 in front of an S3-compatible server, for specs: it forwards requests unchanged
 * and, as its plan says, answers some of them with an S3 error instead (500 InternalError, 503 SlowDown, 503
 * ServiceUnavailable, 403 AccessDenied) and delays every answer. Spec-only; never imported by production code.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export type S3Fault = 'InternalError' | 'SlowDown' | 'ServiceUnavailable' | 'AccessDenied';

const STATUS: Record<S3Fault, number> = {
  InternalError: 500,
  SlowDown: 503,
  ServiceUnavailable: 503,
  AccessDenied: 403,
};

export interface FaultPlan {
  /** The error answered instead of forwarding. Default `SlowDown`. */
  readonly fault?: S3Fault;
  /** Fault the next N matching requests, then forward again. */
  readonly failNext?: number;
  /** Fault every matching request until this time (epoch ms). */
  readonly failUntil?: number;
  /** Fault every matching request until the plan changes. */
  readonly persistent?: boolean;
  /** Delay added before every answer, faulted or forwarded, ms. */
  readonly latencyMs?: number;
  /** Which requests the faults apply to (default all), e.g. only GETs or only part uploads. */
  readonly match?: (req: { method: string; url: string }) => boolean;
}

export class S3FaultProxy {
  /** Requests seen, faulted and forwarded since the last {@link plan}. */
  readonly counts = { requests: 0, faulted: 0, forwarded: 0 };
  private current: FaultPlan = {};
  private remaining = 0;

  private constructor(
    private readonly server: http.Server,
    private readonly target: URL,
  ) {}

  /** Starts a proxy in front of `target` (e.g. `http://127.0.0.1:19000`) on a free port. */
  static async start(target: string): Promise<S3FaultProxy> {
    const server = http.createServer();
    const proxy = new S3FaultProxy(server, new URL(target));
    server.on('request', (req, res) => proxy.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** The proxy's endpoint, for the S3 client. */
  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Replaces the plan and resets the counts. */
  plan(plan: FaultPlan): void {
    this.current = plan;
    this.remaining = plan.failNext ?? 0;
    this.counts.requests = 0;
    this.counts.faulted = 0;
    this.counts.forwarded = 0;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private shouldFault(req: http.IncomingMessage): boolean {
    const p = this.current;
    if (p.match && !p.match({ method: req.method ?? 'GET', url: req.url ?? '/' })) return false;
    if (p.persistent) return true;
    if (p.failUntil !== undefined && Date.now() < p.failUntil) return true;
    if (this.remaining > 0) {
      this.remaining -= 1;
      return true;
    }
    return false;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.requests += 1;
    const fault = this.shouldFault(req);
    const latency = this.current.latencyMs ?? 0;
    const go = () => (fault ? this.answerFault(req, res) : this.forward(req, res));
    if (latency > 0) setTimeout(go, latency);
    else go();
  }

  private answerFault(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.faulted += 1;
    const code = this.current.fault ?? 'SlowDown';
    const body =
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      `<Error><Code>${code}</Code><Message>injected by the fault proxy</Message>` +
      `<RequestId>fault-${this.counts.faulted}</RequestId></Error>`;
    req.resume();
    req.on('end', () => {
      res.writeHead(STATUS[code], {
        'content-type': 'application/xml',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    });
  }

  private forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.counts.forwarded += 1;
    const headers = { ...req.headers };
    delete headers['expect']; // the proxy already answered 100 Continue to the client
    const upstream = http.request(
      {
        host: this.target.hostname,
        port: this.target.port,
        method: req.method,
        path: req.url,
        headers,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}
