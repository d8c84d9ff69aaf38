/**
 * The `JobStateClient` port of `@tidemark/capture`: job-state's REST API for the agent (docs/pipeline.md, "Job-state
 * endpoints"):
 * `GET /api/v1/agent/jobs`, `GET /api/v1/jobs/:id/resume`, `POST /api/v1/jobs/:id/resync`, `POST /api/v1/agent/capture`,
 * each with the services'
 * credential (`serviceToken`, `TIDEMARK_SERVICE_TOKEN`) as the bearer token. Network failures and 5xx / 429 answers
 * are retriable; other answers (401 included: a wrong token does not heal) and malformed bodies are not.
 */
import type { AgentJob, CapturePosition, JobStateClient, ResumeInfo } from '@tidemark/capture';
import {
  formatOpTime,
  isPhase,
  parseOpTime,
  TidemarkError,
  validateReadLimit,
  type OpTime,
} from '@tidemark/domain';
import { requestJson, type JsonAnswer } from '@tidemark/util';

/** A job-state request failed. */
export class JobStateRequestError extends TidemarkError {
  override readonly name: string = 'JobStateRequestError';
  readonly status: number | undefined;

  constructor(
    what: string,
    reason: string,
    options: { retriable: boolean; status?: number; cause?: unknown },
  ) {
    super(`job-state: ${what}: ${reason}`, { retriable: options.retriable, cause: options.cause });
    this.status = options.status;
  }
}

interface WireAgentJob {
  id: string;
  state: string;
  phase: string | null;
  syncId: string | null;
  syncNo: number;
  source: { uri: string };
  filters: { include: string[]; exclude: string[] };
  /** MB/s; null (or absent, from a job-state before read limits): uncapped. */
  readLimit?: number | null;
}

interface WireResume {
  syncId: string | null;
  syncNo: number;
  startTs: string | null;
  resumeTs: string | null;
}

export class HttpJobStateClient implements JobStateClient {
  constructor(
    private readonly baseUrl: string,
    private readonly options: {
      readonly serviceToken: string;
      readonly timeoutMs?: number;
      readonly signal?: AbortSignal;
    },
  ) {}

  async listAgentJobs(): Promise<AgentJob[]> {
    const what = 'GET /api/v1/agent/jobs';
    const body = await this.request<WireAgentJob[]>('GET', '/api/v1/agent/jobs', what);
    if (!Array.isArray(body)) throw this.malformed(what, 'not an array');
    return body.map((j) => {
      if (typeof j.id !== 'string' || typeof j.source?.uri !== 'string')
        throw this.malformed(what, 'a job without id or source');
      const problems = validateReadLimit(j.readLimit, `job ${j.id}: readLimit`);
      if (problems.length > 0) throw this.malformed(what, problems.join('; '));
      return {
        id: j.id,
        state: j.state,
        phase: isPhase(j.phase) ? j.phase : undefined,
        syncId: j.syncId ?? '',
        syncNo: j.syncNo,
        sourceUri: j.source.uri,
        filters: { include: j.filters?.include ?? [], exclude: j.filters?.exclude ?? [] },
        readLimit: j.readLimit ?? undefined,
      };
    });
  }

  async resumeInfo(jobId: string): Promise<ResumeInfo> {
    const what = `GET /api/v1/jobs/${jobId}/resume`;
    const body = await this.request<WireResume>(
      'GET',
      `/api/v1/jobs/${encodeURIComponent(jobId)}/resume`,
      what,
    );
    const ts = (text: string | null): OpTime | undefined => {
      if (text === null || text === undefined) return undefined;
      try {
        return parseOpTime(text);
      } catch (err) {
        throw this.malformed(what, `bad position ${JSON.stringify(text)}`, err);
      }
    };
    if (typeof body.syncId !== 'string') throw this.malformed(what, 'no current sync');
    return {
      syncId: body.syncId,
      syncNo: body.syncNo,
      startTs: ts(body.startTs),
      resumeTs: ts(body.resumeTs),
    };
  }

  async requestResync(jobId: string, reason: string): Promise<void> {
    await this.request(
      'POST',
      `/api/v1/jobs/${encodeURIComponent(jobId)}/resync`,
      `POST /api/v1/jobs/${jobId}/resync`,
      {
        reason,
      },
    );
  }

  async reportCapture(positions: readonly CapturePosition[]): Promise<void> {
    await this.request('POST', '/api/v1/agent/capture', 'POST /api/v1/agent/capture', {
      positions: positions.map((p) => ({
        jobId: p.jobId,
        syncId: p.syncId,
        sourceTs: formatOpTime(p.sourceTs),
        shippedTs: formatOpTime(p.shippedTs),
      })),
    });
  }

  private async request<T>(method: string, path: string, what: string, body?: unknown): Promise<T> {
    let res: JsonAnswer;
    try {
      res = await requestJson(`${this.baseUrl}${path}`, {
        method,
        body,
        bearer: this.options.serviceToken,
        signal: AbortSignal.any([
          AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
          ...(this.options.signal === undefined ? [] : [this.options.signal]),
        ]),
      });
    } catch (err) {
      throw new JobStateRequestError(what, `unreachable: ${(err as Error).message}`, {
        retriable: true,
        cause: err,
      });
    }
    const text = res.text;
    if (!res.ok) {
      const retriable = res.status >= 500 || res.status === 429;
      throw new JobStateRequestError(what, `HTTP ${res.status}: ${text.slice(0, 300)}`, {
        retriable,
        status: res.status,
      });
    }
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw this.malformed(what, 'the body is not JSON', err);
    }
  }

  private malformed(what: string, reason: string, cause?: unknown): JobStateRequestError {
    return new JobStateRequestError(what, `unexpected answer: ${reason}`, { retriable: false, cause });
  }
}
