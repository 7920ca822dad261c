import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../../errors.js';
import { TIME_HELP, timeRange } from '../../mcp/time-phrases.js';
import type { ActivityService } from '../../services/activity-service.js';
import { errorResponses } from '../schemas.js';

const Stretch = Type.Object({
  app: Type.String(),
  start: Type.Number({ description: 'Unix seconds' }),
  end: Type.Number(),
  seconds: Type.Number(),
  first_frame_id: Type.Integer(),
  last_frame_id: Type.Integer(),
  frames: Type.Integer(),
});

export const ActivityResponse = Type.Object({
  start: Type.Number(),
  end: Type.Number(),
  total_seconds: Type.Number(),
  frames: Type.Integer(),
  truncated: Type.Boolean({ description: 'Too many frames: the summary stops at the last one read' }),
  apps: Type.Array(
    Type.Object({
      app: Type.String(),
      seconds: Type.Number({ description: 'Time spent: each frame counts until the next one, at most 5 minutes' }),
      frames: Type.Integer(),
      windows: Type.Array(Type.Object({ title: Type.String(), seconds: Type.Number() })),
      stretches: Type.Array(Stretch),
    }),
  ),
});

const ActivityQuery = Type.Object({
  start: Type.String({ minLength: 1, maxLength: 64, description: `Start of the range: ${TIME_HELP}` }),
  end: Type.Optional(Type.String({ maxLength: 64, description: 'End of the range (default: the end of the start\'s span, e.g. the whole day for "today")' })),
  app: Type.Optional(Type.String({ maxLength: 512, description: 'Only this app (case-insensitive)' })),
});

/** GET /api/activity: time per app and window over a range (the UI's activity view; the MCP tool reads the same service). */
export function activityRoutes(activity: ActivityService) {
  return async function activityPlugin(app: FastifyInstance): Promise<void> {
    app.withTypeProvider<TypeBoxTypeProvider>().get(
      '/api/activity',
      {
        schema: {
          summary: 'Apps and window titles with time spent over a range, and the stretches of each app',
          tags: ['timeline'],
          querystring: ActivityQuery,
          response: { 200: ActivityResponse, ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const range = timeRange(request.query.start, request.query.end, (message) => new ApiError(400, message, 'INVALID_FIELD'));
        return activity.summary(range.start, range.end, request.query.app ? { app: request.query.app } : {});
      },
    );
  };
}
