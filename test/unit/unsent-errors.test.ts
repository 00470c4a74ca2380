import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { APIConnectionError } from '@anthropic-ai/sdk';
import { classifyAttemptFailure, createAnthropicClient } from '../../src/core/agent/anthropic-client.ts';
import { UNSENT_ERROR_CLASSES, unsentErrorClass } from '../../src/core/agent/unsent-errors.ts';
import { startFakeAnthropic } from '../support/fake-anthropic.ts';

/** The shape undici and the SDK give a network failure: APIConnectionError > TypeError('fetch failed') > cause. */
function sdkNetworkError(cause: Error): APIConnectionError {
  return new APIConnectionError({ cause: new TypeError('fetch failed', { cause }) });
}

function rootOf(row: (typeof UNSENT_ERROR_CLASSES)[number]): Error {
  const code = row.codes?.[0] ?? (row.codePrefixes?.[0] ? `${row.codePrefixes[0]}EXAMPLE` : undefined);
  if (code !== undefined) return Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code });
  return new Error(row.messages![0]);
}

/** Sends one real request through the real SDK and returns what it threw. */
async function errorOfRealCall(baseURL: string): Promise<unknown> {
  const client = createAnthropicClient({ apiKey: 'sk-ant-api03-unsent-test', baseURL, timeoutMs: 5_000 });
  try {
    await client.messages.create({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
  } catch (error) {
    return error;
  }
  assert.fail(`a request to ${baseURL} was answered`);
}

describe('the table of errors raised before a request leaves the process', () => {
  for (const row of UNSENT_ERROR_CLASSES) {
    test(`${row.label}: never sent, so $0 (not_billed) and a fault of the world`, () => {
      const failure = classifyAttemptFailure(sdkNetworkError(rootOf(row)));
      assert.equal(unsentErrorClass(sdkNetworkError(rootOf(row)))?.label, row.label);
      assert.equal(failure.billing, 'not_billed');
      assert.equal(failure.retryable, row.retryable);
      assert.equal(failure.faultClass, 'anthropic_unreachable');
    });
  }

  test("fetch's bad port (:9) from the real SDK books $0 and is not retried", async () => {
    const failure = classifyAttemptFailure(await errorOfRealCall('http://127.0.0.1:9'));
    assert.equal(failure.billing, 'not_billed');
    assert.equal(failure.retryable, false);
    assert.match(failure.reason, /bad port/);
  });

  test("fetch's unknown scheme from the real SDK books $0", async () => {
    const failure = classifyAttemptFailure(await errorOfRealCall('htp://127.0.0.1:8080'));
    assert.equal(failure.billing, 'not_billed');
    assert.match(failure.reason, /unknown scheme/);
  });

  test('a URL that does not parse (port 99999) is raised by the SDK itself: $0, and the reason names the URL setting', async () => {
    const failure = classifyAttemptFailure(await errorOfRealCall('http://127.0.0.1:99999'));
    assert.equal(failure.billing, 'not_billed');
    assert.equal(failure.faultClass, 'anthropic_unreachable');
    assert.match(failure.reason, /ANTHROPIC_BASE_URL/);
  });

  test('a refused connection from the real SDK books $0', async () => {
    const closed = await startFakeAnthropic();
    await closed.close();
    assert.equal(classifyAttemptFailure(await errorOfRealCall(closed.url)).billing, 'not_billed');
  });

  test('a reset socket may have carried the request: its reservation is kept (unknown), even under a table code', () => {
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    assert.equal(classifyAttemptFailure(sdkNetworkError(reset)).billing, 'unknown');
    const refusedThenReset = Object.assign(new Error('refused'), { code: 'ECONNREFUSED', cause: reset });
    assert.equal(unsentErrorClass(sdkNetworkError(refusedThenReset)), null);
    assert.equal(classifyAttemptFailure(new Error('something else')).billing, 'unknown');
  });
});
