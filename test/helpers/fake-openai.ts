import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeMode = 'ok' | 'timeout' | '500' | 'malformed' | 'not-json' | 'wrong-dim';

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: any;
}

/** Words that mean the same thing share a dimension, so the fake model "understands" synonyms. */
const SYNONYMS: Record<string, string> = { car: 'vehicle', cars: 'vehicle', automobile: 'vehicle', vehicle: 'vehicle', truck: 'vehicle' };

function hash(word: string): number {
  let h = 2166136261;
  for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * A small HTTP server speaking the OpenAI wire format for /v1/embeddings and /v1/chat/completions, with
 * deterministic answers (bag-of-words vectors) and switchable failures: the real protocol of a service that
 * cannot run here (an embedding model or a vision-language model).
 */
export class FakeOpenAi {
  embeddings: FakeMode = 'ok';
  chat: FakeMode = 'ok';
  description = 'A flight planner showing zeppelin departure times.';
  /** The chat answer to a request (default: `description`); a request with `stream: true` gets it in SSE chunks. */
  chatAnswer?: (body: any) => string;
  readonly requests: RecordedRequest[] = [];

  private constructor(
    private readonly server: http.Server,
    readonly dim: number,
  ) {}

  static async start(dim = 64): Promise<FakeOpenAi> {
    const server = http.createServer();
    const fake = new FakeOpenAi(server, dim);
    server.on('request', (req, res) => void fake.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  vector(text: string): number[] {
    const v = new Array<number>(this.dim).fill(0);
    for (const raw of text
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter(Boolean)) {
      const word = SYNONYMS[raw] ?? raw;
      v[hash(word) % this.dim]! += 1;
    }
    return v;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString());
    } catch {
      body = undefined;
    }
    this.requests.push({ path: req.url ?? '', headers: req.headers, body });
    const mode = req.url?.endsWith('/embeddings') ? this.embeddings : req.url?.endsWith('/chat/completions') ? this.chat : undefined;
    const send = (status: number, payload: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
    };
    if (mode === undefined) return send(404, { error: { message: 'unknown route' } });
    if (mode === 'timeout') {
      setTimeout(() => send(200, {}), 30_000).unref();
      return;
    }
    if (mode === '500') return send(500, { error: { message: 'model crashed' } });
    if (mode === 'not-json') return send(200, '<html>gateway says hello</html>');
    if (req.url!.endsWith('/embeddings')) {
      const inputs: string[] = Array.isArray(body?.input) ? body.input : [body?.input ?? ''];
      if (mode === 'malformed') return send(200, { data: inputs.map((_, index) => ({ index, embedding: 'not a vector' })) });
      const dim = mode === 'wrong-dim' ? this.dim + 3 : this.dim;
      return send(200, {
        object: 'list',
        model: body?.model,
        data: inputs.map((text, index) => ({ object: 'embedding', index, embedding: [...this.vector(text), ...new Array(dim - this.dim).fill(0.5)] })),
      });
    }
    if (mode === 'malformed') return send(200, { choices: [] });
    const content = this.chatAnswer ? this.chatAnswer(body) : this.description;
    if (body?.stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      for (const piece of content.match(/[\s\S]{1,12}/g) ?? []) {
        res.write(`data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: piece } }] })}\n\n`);
      }
      res.end('data: [DONE]\n\n');
      return;
    }
    return send(200, {
      id: 'chatcmpl-1',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }],
    });
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
