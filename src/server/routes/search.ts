import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ApiError } from '../../errors.js';
import type { SearchService } from '../../search/search-service.js';
import { errorResponses, Status } from '../../api/index.js';

const Mode = Type.Union([Type.Literal('keyword'), Type.Literal('semantic'), Type.Literal('hybrid')]);

export const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 65_536, default: '', description: 'Words (all must match), "phrases", -exclude, prefix*; empty = filters only' })),
  mode: Type.Optional(Mode),
  start: Type.Optional(Type.String({ maxLength: 64, description: 'Earliest capture time: Unix seconds or ISO 8601' })),
  end: Type.Optional(Type.String({ maxLength: 64, description: 'Latest capture time: Unix seconds or ISO 8601' })),
  app: Type.Optional(Type.String({ maxLength: 512, description: 'Application name (exact, case-insensitive)' })),
  window: Type.Optional(Type.String({ maxLength: 1024, description: 'Substring of the window title' })),
  status: Type.Optional(Status),
  sort: Type.Optional(Type.Union([Type.Literal('relevance'), Type.Literal('time')], { default: 'relevance' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
});

const SearchHit = Type.Object({
  id: Type.Integer(),
  timestamp: Type.Number(),
  app: Type.Union([Type.String(), Type.Null()]),
  title: Type.Union([Type.String(), Type.Null()]),
  status: Status,
  snippet: Type.String({ description: 'HTML: escaped text with matches in <mark>' }),
  score: Type.Number({ description: 'Higher is better; comparable within one response' }),
  thumbnail_url: Type.String(),
  image_url: Type.String(),
});

const SearchResponse = Type.Object({
  query: Type.String(),
  mode: Mode,
  total: Type.Integer({ description: 'Matching frames (counted up to 1 000: show "1000+")' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  results: Type.Array(SearchHit),
  warning: Type.Optional(Type.String()),
});

/** Unix seconds ("1700000000", "1700000000.5") or an ISO 8601 date/time. */
export function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  const seconds = /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed) / 1000;
  if (!Number.isFinite(seconds)) {
    throw new ApiError(400, `invalid field '${field}': "${value.slice(0, 64)}" is neither Unix seconds nor an ISO 8601 date`, 'INVALID_FIELD');
  }
  return seconds;
}

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
        status: q.status,
      });
    },
  );

  api.get(
    '/api/capabilities',
    {
      schema: {
        summary: 'Which search modes and AI features this server offers',
        tags: ['search'],
        response: {
          200: Type.Object({ search_modes: Type.Array(Mode), default_search_mode: Mode, show_ai_description: Type.Boolean() }),
        },
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
        response: { 200: Type.Object({ apps: Type.Array(Type.Object({ app: Type.String(), count: Type.Integer() })) }) },
      },
    },
    async () => ({ apps: search.apps() }),
  );
}
