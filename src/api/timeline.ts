import { Type, type Static } from 'typebox';
import { Nullable, Status } from './common.js';

export const TimelineFrame = Type.Object({
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
export type TimelineFrame = Static<typeof TimelineFrame>;

export const TimelineSummary = Type.Object({
  count: Type.Integer({ description: 'Number of frames' }),
  first_timestamp: Nullable(Type.Number({ description: 'Capture time of the oldest frame' })),
  last_timestamp: Nullable(Type.Number({ description: 'Capture time of the newest frame' })),
});
export type TimelineSummary = Static<typeof TimelineSummary>;

export const FramesQuery = Type.Object({
  offset: Type.Optional(Type.Integer({ minimum: 0, default: 0, description: 'Position of the first frame (0 = oldest)' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
});
export type FramesQuery = Static<typeof FramesQuery>;

export const LocateQuery = Type.Object({
  t: Type.Optional(Type.String({ maxLength: 64, description: 'A time, Unix seconds or ISO 8601: finds the frame captured closest to it' })),
  id: Type.Optional(Type.Integer({ minimum: 1, description: 'A frame id: finds its position' })),
});
export type LocateQuery = Static<typeof LocateQuery>;

export const TimelinePage = Type.Object({ offset: Type.Integer(), total: Type.Integer(), frames: Type.Array(TimelineFrame) });
export type TimelinePage = Static<typeof TimelinePage>;

export const TimelineLocated = Type.Object({ total: Type.Integer(), frame: TimelineFrame });
export type TimelineLocated = Static<typeof TimelineLocated>;
