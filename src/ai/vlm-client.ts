import { endpoint, type VlmConfig } from './config.js';
import { postJson, ProviderError } from './http-json.js';

/** Describes a screenshot with any OpenAI-compatible chat-completions endpoint that accepts images. */
export class VlmClient {
  private readonly url: string;

  constructor(private readonly config: VlmConfig) {
    this.url = endpoint(config.url, '/chat/completions');
  }

  async describe(image: Buffer, mimeType: string): Promise<string> {
    const body = await postJson(
      this.url,
      {
        model: this.config.model,
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: this.config.prompt },
              { type: 'image_url', image_url: { url: `data:${mimeType};base64,${image.toString('base64')}` } },
            ],
          },
        ],
        temperature: 0.2,
        max_tokens: 300,
      },
      { apiKey: this.config.apiKey, timeoutMs: this.config.timeoutMs, what: 'vision model' },
    );
    const content = (body as { choices?: Array<{ message?: { content?: unknown } }> }).choices?.[0]?.message?.content;
    const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((p) => (p as { text?: string }).text ?? '').join('') : undefined;
    if (text === undefined) throw new ProviderError('vision model: answer has no choices[0].message.content');
    if (!text.trim()) throw new ProviderError('vision model: empty description');
    return text.trim();
  }
}
