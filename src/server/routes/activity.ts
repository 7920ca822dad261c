import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ActivityQuery, ActivityResponse, parseTime } from '../../api/index.js';
import { ApiError } from '../../errors.js';
import type { ActivityService } from '../../services/activity-service.js';
import { errorResponses } from '../schemas.js';

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
        const start = parseTime(request.query.start, 'start');
        if (start === undefined) throw new ApiError(400, "invalid field 'start': a time is required (Unix seconds or ISO 8601)", 'INVALID_FIELD');
        const end = parseTime(request.query.end, 'end') ?? Date.now() / 1000;
        if (end <= start) throw new ApiError(400, "invalid time range: 'end' must be after 'start'", 'INVALID_FIELD');
        return activity.summary(start, end, request.query.app ? { app: request.query.app } : {});
      },
    );
  };
}
