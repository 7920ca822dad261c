/** An AI provider answered badly: a timeout, an HTTP error or a body that is not what the protocol says. */
export class ProviderError extends Error {}

/**
 * POSTs JSON to an OpenAI-compatible endpoint and returns the parsed body. Every way the call can go wrong
 * becomes a ProviderError with a short reason (the queue retries it, then records it on the frame).
 */
export async function postJson(url: string, body: unknown, options: { apiKey?: string; timeoutMs: number; what: string }): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {}) },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError' ? `timed out after ${options.timeoutMs / 1000} s` : String((error as Error).cause ?? (error as Error).message);
    throw new ProviderError(`${options.what}: ${reason}`);
  }
  const text = await response.text().catch(() => '');
  if (!response.ok) throw new ProviderError(`${options.what}: HTTP ${response.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`.trim());
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ProviderError(`${options.what}: answer is not JSON: ${text.slice(0, 100).replace(/\s+/g, ' ')}`);
  }
}
