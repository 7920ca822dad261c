import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError, notFound } from '../../errors.js';
import type { TimelineRepository, TimelineRow } from '../../store/timeline-repository.js';
import { errorResponses, Status } from '../../api/index.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

const TimelineFrame = Type.Object({
  index: Type.Integer({ description: 'Position in time order, 0 = oldest frame' }),
  id: Type.Integer(),
  timestamp: Type.Number({ description: 'Capture time, Unix seconds' }),
  app: Nullable(Type.String()),
  title: Nullable(Type.String({ description: 'Window title' })),
  status: Status,
  width: Nullable(Type.Integer()),
  height: Nullable(Type.Integer()),
  image_url: Type.String(),
  thumbnail_url: Type.String(),
});

const TimelineSummary = Type.Object({
  count: Type.Integer({ description: 'Number of frames' }),
  first_timestamp: Nullable(Type.Number({ description: 'Capture time of the oldest frame' })),
  last_timestamp: Nullable(Type.Number({ description: 'Capture time of the newest frame' })),
});

const FramesQuery = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Position of the first frame (0 = oldest)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});

const LocateQuery = Type.Object({
  t: Type.Optional(Type.String({ maxLength: 64, description: 'A time, Unix seconds or ISO 8601: finds the frame captured closest to it' })),
  id: Type.Optional(Type.Integer({ minimum: 1, description: 'A frame id: finds its position' })),
});

/** Unix seconds or an ISO 8601 date/time; undefined when it is neither. */
export function parseTime(value: string): number | undefined {
  const trimmed = value.trim();
  if (/^-?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  if (!/^\d{4}-\d{2}-\d{2}/.test(trimmed)) return undefined;
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

const frame = (row: TimelineRow, index: number) => ({
  index,
  ...row,
  image_url: `/api/entries/${row.id}/image`,
  thumbnail_url: `/api/entries/${row.id}/thumbnail`,
});

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
          response: { 200: Type.Object({ offset: Type.Integer(), total: Type.Integer(), frames: Type.Array(TimelineFrame) }), ...errorResponses(400) },
        },
      },
      async (request) => {
        const offset = request.query.offset ?? 0;
        const rows = timeline.page(offset, request.query.limit ?? 100);
        return { offset, total: timeline.summary().count, frames: rows.map((row, i) => frame(row, offset + i)) };
      },
    );

    api.get(
      '/api/timeline/locate',
      {
        schema: {
          summary: 'The frame closest to a time (t), or a given frame (id), with its position in time order',
          tags: ['timeline'],
          querystring: LocateQuery,
          response: { 200: Type.Object({ total: Type.Integer(), frame: TimelineFrame }), ...errorResponses(400, 404) },
        },
      },
      async (request) => {
        const { t, id } = request.query;
        if ((t === undefined) === (id === undefined)) throw new ApiError(400, `give exactly one of 't' (a time) or 'id' (a frame)`, 'INVALID_FIELD');
        let row: TimelineRow | undefined;
        if (t !== undefined) {
          const time = parseTime(t);
          if (time === undefined) throw new ApiError(400, `invalid field 't': '${t}' is not Unix seconds or an ISO 8601 date/time`, 'INVALID_FIELD');
          row = timeline.nearest(time);
          if (!row) throw notFound('frames');
        } else {
          row = timeline.get(id!);
          if (!row) throw notFound(`entry ${id}`);
        }
        return { total: timeline.summary().count, frame: frame(row, timeline.indexOf(row)) };
      },
    );
  };
}
