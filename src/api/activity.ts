import { Type, type Static } from 'typebox';

/** A run of consecutive frames of one app, without a long gap. */
export const Stretch = Type.Object({
  app: Type.String(),
  start: Type.Number({ description: 'Unix seconds' }),
  end: Type.Number(),
  seconds: Type.Number(),
  first_frame_id: Type.Integer(),
  last_frame_id: Type.Integer(),
  frames: Type.Integer(),
});
export type Stretch = Static<typeof Stretch>;

export const WindowTime = Type.Object({ title: Type.String(), seconds: Type.Number() });
export type WindowTime = Static<typeof WindowTime>;

export const AppActivity = Type.Object({
  app: Type.String(),
  seconds: Type.Number({ description: 'Time spent: each frame counts until the next one, at most 5 minutes' }),
  frames: Type.Integer(),
  windows: Type.Array(WindowTime),
  stretches: Type.Array(Stretch),
});
export type AppActivity = Static<typeof AppActivity>;

/** GET /api/activity: time per app and window title over a range. */
export const ActivityResponse = Type.Object({
  start: Type.Number(),
  end: Type.Number(),
  total_seconds: Type.Number(),
  frames: Type.Integer(),
  truncated: Type.Boolean({ description: 'Too many frames: the summary stops at the last one read' }),
  apps: Type.Array(AppActivity),
});
export type ActivityResponse = Static<typeof ActivityResponse>;

/** `start` and `end` follow the one rule for times in queries (./time.ts): Unix seconds or ISO 8601. */
export const ActivityQuery = Type.Object({
  start: Type.String({ minLength: 1, maxLength: 64, description: 'Start of the range: Unix seconds or ISO 8601' }),
  end: Type.Optional(Type.String({ maxLength: 64, description: 'End of the range: Unix seconds or ISO 8601 (default: now)' })),
  app: Type.Optional(Type.String({ maxLength: 512, description: 'Only this app (case-insensitive)' })),
});
export type ActivityQuery = Static<typeof ActivityQuery>;
