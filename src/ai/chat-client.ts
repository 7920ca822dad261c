import { endpoint, type ChatConfig } from './config.js';
import { postJson, ProviderError } from './http-json.js';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * Any OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp, vLLM, a hosted API). No tools are ever
 * offered: the model can only write text. Every call has the configured timeout, streaming included.
 */
export class ChatClient {
  private readonly url: string;

  constructor(private readonly config: ChatConfig) {
    this.url = endpoint(config.url, '/chat/completions');
  }

  get model(): string {
    return this.config.model;
  }

  async complete(messages: ChatMessage[]): Promise<string> {
    const body = await postJson(this.url, this.request(messages, false), { apiKey: this.config.apiKey, timeoutMs: this.config.timeoutMs, what: 'chat model' });
    const content = (body as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]?.message?.content;
    if (typeof content !== 'string') throw new ProviderError('chat model: answer has no choices[0].message.content');
    return content;
  }

  /** The answer as it is written, piece by piece (server-sent events of chat.completion.chunk). */
  async *stream(messages: ChatMessage[]): AsyncGenerator<string> {
    const signal = AbortSignal.timeout(this.config.timeoutMs);
    let response: Response;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(this.config.apiKey ? { authorization: `Bearer ${this.config.apiKey}` } : {}),
        },
        body: JSON.stringify(this.request(messages, true)),
        signal,
      });
    } catch (error) {
      throw new ProviderError(`chat model: ${failure(error, this.config.timeoutMs)}`);
    }
    if (!response.ok || !response.body) {
      const text = await response.text().catch(() => '');
      throw new ProviderError(`chat model: HTTP ${response.status} ${text.slice(0, 200).replace(/\s+/g, ' ')}`.trim());
    }
    // A server that ignores `stream` answers with one JSON body.
    if (!(response.headers.get('content-type') ?? '').includes('text/event-stream')) {
      const body = (await response.json().catch(() => undefined)) as { choices?: Array<{ message?: { content?: unknown } }> } | undefined;
      const content = body?.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new ProviderError('chat model: answer has no choices[0].message.content');
      yield content;
      return;
    }
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) !== -1) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (!line.startsWith('data:')) continue;
          const data = line.slice(5).trim();
          if (data === '[DONE]') return;
          let parsed: { choices?: Array<{ delta?: { content?: unknown } }> };
          try {
            parsed = JSON.parse(data);
          } catch {
            throw new ProviderError(`chat model: a streamed chunk is not JSON: ${data.slice(0, 100)}`);
          }
          const piece = parsed.choices?.[0]?.delta?.content;
          if (typeof piece === 'string' && piece) yield piece;
        }
      }
    } catch (error) {
      if (error instanceof ProviderError) throw error;
      throw new ProviderError(`chat model: ${failure(error, this.config.timeoutMs)}`);
    }
  }

  private request(messages: ChatMessage[], stream: boolean) {
    return { model: this.config.model, messages, temperature: 0.2, stream };
  }
}

const failure = (error: unknown, timeoutMs: number) =>
  (error as Error).name === 'TimeoutError' ? `timed out after ${timeoutMs / 1000} s` : String((error as Error).cause ?? (error as Error).message);
