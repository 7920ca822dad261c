import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { AskAnswer, AskBody, AskContext, errorResponses, parseTime } from '../../api/index.js';
import { ApiError } from '../../errors.js';
import type { AskEvent, AskRequest, AskService } from '../../services/ask-service.js';

/** Ask takes JSON only: a form post from another site cannot reach it without a CORS preflight. */
async function jsonOnly(request: FastifyRequest): Promise<void> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new ApiError(415, `${request.method} ${request.url.split('?')[0]} takes JSON: send Content-Type: application/json`, 'UNSUPPORTED_MEDIA_TYPE');
  }
}

const toRequest = (body: AskBody): AskRequest => ({
  question: body.question,
  ...optional('since', parseTime(body.since, 'since')),
  ...optional('until', parseTime(body.until, 'until')),
  ...(body.app ? { app: body.app } : {}),
});

export function askRoutes(ask: AskService) {
  return async function askPlugin(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.post(
      '/api/ask',
      {
        onRequest: jsonOnly,
        schema: {
          summary: 'Answer a question from the screen history with a chat model, citing frames; Accept: text/event-stream streams it',
          tags: ['ask'],
          body: AskBody,
          response: { 200: AskAnswer, ...errorResponses(400, 415, 502, 503) },
        },
      },
      async (request, reply) => {
        const question = toRequest(request.body);
        if (!(request.headers.accept ?? '').includes('text/event-stream')) return ask.ask(question);
        const events = ask.stream(question);
        // The first event (or the first error, such as no model configured) comes before any byte is sent, so an
        // error is still an ordinary JSON answer with its status.
        const first = await events.next();
        reply.header('content-type', 'text/event-stream; charset=utf-8').header('cache-control', 'no-cache');
        // A stream is sent as it is (the 200 schema describes the JSON answer, which the `done` event carries).
        return reply.send(Readable.from(sse(first, events)) as unknown as AskAnswer);
      },
    );

    api.post(
      '/api/ask/context',
      {
        onRequest: jsonOnly,
        schema: {
          summary: 'The frames Ask would give the model for this question (works without a chat model)',
          tags: ['ask'],
          body: AskBody,
          response: { 200: AskContext, ...errorResponses(400, 415) },
        },
      },
      async (request) => ask.context(toRequest(request.body)),
    );
  };
}

async function* sse(first: IteratorResult<AskEvent>, rest: AsyncGenerator<AskEvent>): AsyncGenerator<string> {
  const event = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  try {
    let next = first;
    while (!next.done) {
      const e = next.value;
      if (e.type === 'context') yield event('context', e.context);
      else if (e.type === 'delta') yield event('delta', { text: e.text });
      else yield event('done', e.answer);
      next = await rest.next();
    }
  } catch (error) {
    const status = error instanceof ApiError ? error.statusCode : 500;
    yield event('error', {
      statusCode: status,
      error: error instanceof ApiError ? error.code : 'INTERNAL',
      message: status < 500 || error instanceof ApiError ? (error as Error).message : 'internal server error',
    });
  }
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
