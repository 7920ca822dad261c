import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { SearchService } from '../../search/search-service.js';
import { AppList, Capabilities, errorResponses, parseTime, SearchQuery, SearchResponse } from '../../api/index.js';

export async function searchRoutes(app: FastifyInstance, options: { search: SearchService; showAiDescription: boolean }): Promise<void> {
  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const { search } = options;

  api.get(
    '/api/search',
    {
      schema: {
        summary: 'Search frames by text on screen, AI description, app and window title',
        tags: ['search'],
        querystring: SearchQuery,
        response: { 200: SearchResponse, ...errorResponses(400, 503) },
      },
    },
    async (request) => {
      const q = request.query;
      return search.search({
        q: q.q ?? '',
        mode: q.mode,
        sort: q.sort,
        limit: q.limit ?? 20,
        offset: q.offset ?? 0,
        start: parseTime(q.start, 'start'),
        end: parseTime(q.end, 'end'),
        app: q.app || undefined,
        window: q.window || undefined,
        url: q.url || undefined,
        status: q.status,
        group: q.group,
      });
    },
  );

  api.get(
    '/api/capabilities',
    {
      schema: {
        summary: 'Which search modes and AI features this server offers',
        tags: ['search'],
        response: { 200: Capabilities },
      },
    },
    async () => ({ search_modes: search.modes(), default_search_mode: search.defaultMode(), show_ai_description: options.showAiDescription }),
  );

  api.get(
    '/api/apps',
    {
      schema: {
        summary: 'Applications seen in captured frames, most frequent first',
        tags: ['search'],
        response: { 200: AppList },
      },
    },
    async () => ({ apps: await search.apps() }),
  );
}
