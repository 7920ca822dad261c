import { Type, type Static } from 'typebox';
import { Status } from './common.js';

export const Mode = Type.Union([Type.Literal('keyword'), Type.Literal('semantic'), Type.Literal('hybrid')]);
export type SearchMode = Static<typeof Mode>;

export const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 65_536, default: '', description: 'Words (all must match), "phrases", -exclude, prefix*; empty = filters only' })),
  mode: Type.Optional(Mode),
  start: Type.Optional(Type.String({ maxLength: 64, description: 'Earliest capture time: Unix seconds or ISO 8601' })),
  end: Type.Optional(Type.String({ maxLength: 64, description: 'Latest capture time: Unix seconds or ISO 8601' })),
  app: Type.Optional(Type.String({ maxLength: 512, description: 'Application name (exact, case-insensitive)' })),
  window: Type.Optional(Type.String({ maxLength: 1024, description: 'Substring of the window title' })),
  url: Type.Optional(Type.String({ maxLength: 4096, description: 'Substring of the browser URL the client reported' })),
  status: Type.Optional(Status),
  sort: Type.Optional(Type.Union([Type.Literal('relevance'), Type.Literal('time')], { default: 'relevance' })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000, default: 0 })),
  group: Type.Optional(
    Type.Boolean({ default: true, description: 'Fold consecutive frames of one window with nearly the same text into one result (a moment)' }),
  ),
});
export type SearchQuery = Static<typeof SearchQuery>;
export type SearchSort = NonNullable<SearchQuery['sort']>;

export const Moment = Type.Object(
  {
    first: Type.Number({ description: "Capture time of the moment's first frame (Unix seconds)" }),
    last: Type.Number({ description: 'Capture time of its last frame' }),
    frames: Type.Integer({ minimum: 2, description: 'How many frames it folds' }),
  },
  { description: 'Present when this result stands for several near-identical consecutive frames; the hit is the best of them' },
);
export type Moment = Static<typeof Moment>;

export const SearchHit = Type.Object({
  id: Type.Integer(),
  timestamp: Type.Number(),
  app: Type.Union([Type.String(), Type.Null()]),
  title: Type.Union([Type.String(), Type.Null()]),
  status: Status,
  snippet: Type.String({ description: 'HTML: escaped text with matches in <mark>' }),
  score: Type.Number({ description: 'Higher is better; comparable within one response' }),
  thumbnail_url: Type.String(),
  image_url: Type.String(),
  moment: Type.Optional(Moment),
});
export type SearchHit = Static<typeof SearchHit>;

export const SearchResponse = Type.Object({
  query: Type.String(),
  mode: Mode,
  total: Type.Integer({ description: 'Matching frames (counted up to 1 000: show "1000+")' }),
  limit: Type.Integer(),
  offset: Type.Integer(),
  results: Type.Array(SearchHit),
  related: Type.Optional(Type.Array(SearchHit, { description: 'Frames only the vectors found, below the similarity floor: shown apart, under the results' })),
  warning: Type.Optional(Type.String()),
});
export type SearchResponse = Static<typeof SearchResponse>;

export const Capabilities = Type.Object({ search_modes: Type.Array(Mode), default_search_mode: Mode, show_ai_description: Type.Boolean() });
export type Capabilities = Static<typeof Capabilities>;

export const AppList = Type.Object({ apps: Type.Array(Type.Object({ app: Type.String(), count: Type.Integer() })) });
export type AppList = Static<typeof AppList>;
