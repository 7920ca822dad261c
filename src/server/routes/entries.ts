import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { FramesService, SendableImage } from '../../services/frames-service.js';
import type { QueueService } from '../../services/queue-service.js';
import { entryResource, EntryDeleted, EntryIdParams, EntryList, EntryRetried, errorResponses, ListEntriesQuery } from '../../api/index.js';

function sendImage(reply: FastifyReply, image: SendableImage) {
  return reply.type(image.contentType).header('content-length', image.length).header('cache-control', 'private, no-cache').send(image.body);
}

const binary = (description: string) => ({ description, content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } });

export async function entriesRoutes(app: FastifyInstance, options: { frames: FramesService; queue: QueueService }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { frames, queue } = options;

  api.get(
    '/api/entries',
    {
      schema: {
        summary: 'List frames, newest first, with cursor pagination',
        tags: ['entries'],
        querystring: ListEntriesQuery,
        response: { 200: EntryList, ...errorResponses(400) },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 50;
      const rows = await frames.list({
        limit,
        beforeId: request.query.before_id,
        afterId: request.query.after_id,
        status: request.query.status,
        app: request.query.app,
      });
      const last = rows.at(-1);
      return { entries: rows.map(entryResource), next_before_id: rows.length === limit && last ? last.id : null };
    },
  );

  api.get(
    '/api/entries/:id',
    {
      schema: { summary: 'One frame with every field', tags: ['entries'], params: EntryIdParams, response: { 200: Type.Ref('Entry'), ...errorResponses(404) } },
    },
    async (request) => entryResource(await frames.get(request.params.id)),
  );

  api.get(
    '/api/entries/:id/image',
    {
      schema: {
        summary: 'The stored screenshot',
        tags: ['entries'],
        params: EntryIdParams,
        response: { 200: binary('Screenshot'), ...errorResponses(404, 422) },
      },
    },
    async (request, reply) => sendImage(reply, await frames.imageToSend(request.params.id)),
  );

  api.get(
    '/api/entries/:id/thumbnail',
    {
      schema: {
        summary: 'A small WebP of the screenshot',
        tags: ['entries'],
        params: EntryIdParams,
        response: { 200: binary('Thumbnail'), ...errorResponses(404) },
      },
    },
    async (request, reply) => sendImage(reply, await frames.thumbnailToSend(request.params.id)),
  );

  api.delete(
    '/api/entries/:id',
    {
      schema: {
        summary: 'Delete a frame: its row, image and thumbnail',
        tags: ['entries'],
        params: EntryIdParams,
        response: { 200: EntryDeleted, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      await frames.delete(request.params.id);
      return { deleted: request.params.id };
    },
  );

  api.post(
    '/api/entries/:id/retry',
    {
      schema: {
        summary: 'Queue a FAILED frame again',
        tags: ['entries'],
        params: EntryIdParams,
        response: { 200: EntryRetried, ...errorResponses(404, 409) },
      },
    },
    async (request) => {
      await queue.retryOne(request.params.id);
      return { retried: request.params.id };
    },
  );
}
