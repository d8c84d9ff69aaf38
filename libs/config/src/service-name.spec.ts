import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { API_URL_ENV, DEFAULT_API_URL, jobStateApiUrl } from './service-name';

describe("job-state's API address", () => {
  it('defaults to job-state on loopback at its default port', () => {
    assert.equal(DEFAULT_API_URL, 'http://127.0.0.1:7100');
    assert.equal(jobStateApiUrl({}), DEFAULT_API_URL);
    assert.equal(jobStateApiUrl({ [API_URL_ENV]: '  ' }), DEFAULT_API_URL);
  });
  it('takes an http(s) URL from TIDEMARK_API_URL, without trailing slashes', () => {
    assert.equal(
      jobStateApiUrl({ [API_URL_ENV]: 'https://job-state.backup.svc:7100//' }),
      'https://job-state.backup.svc:7100',
    );
    assert.equal(
      jobStateApiUrl({ [API_URL_ENV]: 'http://10.0.0.5:8080/base/' }),
      'http://10.0.0.5:8080/base',
    );
  });
  it('answers undefined for anything else, so the caller can refuse it', () => {
    for (const v of ['job-state:7100', 'ftp://x', 'http://', 'http:// spaced']) {
      assert.equal(jobStateApiUrl({ [API_URL_ENV]: v }), undefined, v);
    }
  });
});
