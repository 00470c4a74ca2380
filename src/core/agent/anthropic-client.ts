import Anthropic from '@anthropic-ai/sdk';

export interface AnthropicClientOptions {
  apiKey: string;
  /** Only for tests and proxies; without it the SDK uses ANTHROPIC_BASE_URL or the public API. */
  baseURL?: string;
  /** Retries of 408/409/429/5xx and connection errors; the SDK honours `retry-after`. */
  maxRetries: number;
  /** Per HTTP attempt; the invocation's own deadline bounds the whole call across retries. */
  timeoutMs: number;
}

/**
 * The one place the SDK is constructed. Callers import this module lazily (`await import(...)`) so that commands
 * which never call Claude, such as `tick` when nothing is due, do not load the SDK.
 */
export function createAnthropicClient(options: AnthropicClientOptions): Anthropic {
  if (options.apiKey.trim() === '') {
    throw new Error('The Anthropic API key is empty. Set ANTHROPIC_API_KEY to a key from the Claude Console.');
  }
  return new Anthropic({
    apiKey: options.apiKey,
    maxRetries: options.maxRetries,
    timeout: options.timeoutMs,
    ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}),
  });
}
