import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ApiError, notFound } from '../../errors.js';
import type { TimelineRepository, TimelineRow } from '../../store/ports.js';
import { entryResource, errorResponses, FramesQuery, LocateQuery, parseTime, TimelineLocated, TimelinePage, TimelineSummary } from '../../api/index.js';

const frame = (row: TimelineRow, index: number) => entryResource({ index, ...row });

/** Browsing every frame by time: a summary, pages by position, and "which frame is at this time". */
export function timelineRoutes(timeline: TimelineRepository) {
  return async function timelinePlugin(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();

    api.get(
      '/api/timeline',
      { schema: { summary: 'How many frames there are and the time span they cover', tags: ['timeline'], response: { 200: TimelineSummary } } },
      async () => timeline.summary(),
    );

    api.get(
      '/api/timeline/frames',
      {
        schema: {
          summary: 'Frames in time order (oldest first) from a position: the timeline loads the pages around its slider',
          tags: ['timeline'],
          querystring: FramesQuery,
          response: { 200: TimelinePage, ...errorResponses(400) },
        },
      },
      async (request) => {
        const offset = request.query.offset ?? 0;
        const rows = await timeline.page(offset, request.query.limit ?? 100);
        return { offset, total: (await timeline.summary()).count, frames: rows.map((row, i) => frame(row, offset + i)) };
      },
    );

    api.get(
      '/api/timeline/locate',
      {
        schema: {
          summary: 'The frame closest to a time (t), or a given frame (id), with its position in time order',
          tags: ['timeline'],
          querystring: LocateQuery,
          response: { 200: TimelineLocated, ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const { id } = request.query;
        const time = parseTime(request.query.t, 't');
        if ((time === undefined) === (id === undefined)) throw new ApiError(400, `give exactly one of 't' (a time) or 'id' (a frame)`, 'INVALID_FIELD');
        let row: TimelineRow | undefined;
        if (time !== undefined) {
          row = await timeline.nearest(time);
          if (!row) throw notFound('frames');
        } else {
          row = await timeline.get(id!);
          if (!row) throw notFound(`entry ${id}`);
        }
        return { total: (await timeline.summary()).count, frame: frame(row, await timeline.indexOf(row)) };
      },
    );
  };
}
