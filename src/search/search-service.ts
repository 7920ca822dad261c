import { entryResource, type SearchHit, type SearchMode, type SearchResponse, type SearchSort } from '../api/index.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { ApiError } from '../errors.js';
import {
  COUNT_CAP,
  type FrameKey,
  type FrameStatus,
  type HitRow,
  type KeywordCandidate,
  type KeywordSource,
  type ParsedQuery,
  type RankedId,
  type SearchFilters,
  type SearchRepository,
} from '../store/ports.js';
import { excerptHtml, markedSnippetToHtml, markTermsHtml } from './highlight.js';
import { foldMoments, type Moment, mayFold } from './moments.js';
import { parseQuery } from './query-parser.js';
import type { VectorFloor } from './vector-floor.js';
import type { VectorIndex } from './vector-index.js';

export type { SearchHit, SearchMode, SearchResponse, SearchSort };

export interface SearchRequest {
  q: string;
  mode?: SearchMode;
  sort?: SearchSort;
  limit: number;
  offset: number;
  start?: number;
  end?: number;
  app?: string;
  window?: string;
  /** Substring of the browser URL the client reported. */
  url?: string;
  status?: FrameStatus;
  /** Fold near-identical consecutive frames into moments (default true). */
  group?: boolean;
}

/** Reciprocal-rank fusion constant (the usual 60). */
const RRF_K = 60;
/** Weight of the vector list in the fusion (the keyword list's is 1). */
const VECTOR_WEIGHT = 0.8;
/** How deep each list goes into hybrid fusion, and how many frames semantic search returns at most. */
const FUSION_DEPTH = 100;
/** A vector search restricted to at most this many filtered frames scores exactly those. */
const RESTRICTED_VECTOR_SEARCH = 20_000;
/** Grouped, a page of N moments is folded from this many times N frames. */
const GROUP_OVERFETCH = 3;
/** Frames below the vector floor shown apart, under the real matches (first page only). */
const RELATED_MAX = 5;

type Source = KeywordSource | 'vector' | 'browse';
interface Candidate extends RankedId {
  source: Source;
}

export interface VectorSearch {
  provider: EmbeddingProvider;
  index: VectorIndex;
  /** Similarity a frame found only by the vectors must reach to be a result (vector-floor.ts); below: related. */
  floor?: VectorFloor;
}

interface Ranked {
  ordered: Candidate[];
  /** Keys already read for the vector candidates. */
  keys?: Map<number, FrameKey>;
  total: number;
  related: Candidate[];
  keyword: boolean;
  mode?: SearchMode;
  warning?: string;
}

/** Keyword (FTS5), semantic (vectors) and hybrid (reciprocal-rank fusion of both) search over frames. */
export class SearchService {
  constructor(
    private readonly repo: SearchRepository,
    private readonly vectors?: VectorSearch,
  ) {}

  /** A provider that could not load its model leaves keyword search only. */
  private get searchesByMeaning(): boolean {
    return this.vectors !== undefined && (this.vectors.provider.available?.() ?? true);
  }

  modes(): SearchMode[] {
    return this.searchesByMeaning ? ['keyword', 'semantic', 'hybrid'] : ['keyword'];
  }

  defaultMode(): SearchMode {
    return this.searchesByMeaning ? 'hybrid' : 'keyword';
  }

  async apps() {
    return this.repo.apps();
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const mode = request.mode ?? this.defaultMode();
    if (mode !== 'keyword' && !this.searchesByMeaning) {
      throw new ApiError(
        400,
        `invalid field 'mode': ${mode} search needs an embedding provider (OPENRECALL_EMBEDDING_PROVIDER); available: keyword`,
        'INVALID_FIELD',
      );
    }
    const filters: SearchFilters = {
      start: request.start,
      end: request.end,
      app: request.app,
      window: request.window,
      url: request.url,
      status: request.status,
    };
    const parsed = parseQuery(request.q);
    const sort = request.sort ?? 'relevance';
    const base = { query: request.q, mode, limit: request.limit, offset: request.offset };

    const blank = request.q.trim() === '';
    if (blank || parsed.include.length === 0) {
      // Filters only (newest first), minus exclusions; a query of nothing searchable (only symbols) finds nothing.
      if (!blank && parsed.exclude.length === 0) return { ...base, total: 0, results: [] };
      const { ids, total } = await this.repo.browse(filters, request.limit, request.offset, parsed.exclude);
      return {
        ...base,
        total,
        results: await this.hits(
          ids.map((c) => ({ ...c, source: 'browse' as const })),
          parsed,
          false,
        ),
      };
    }

    const group = request.group ?? true;
    const wanted = (request.offset + request.limit) * (group ? GROUP_OVERFETCH : 1);
    const ranked = await this.ranked(mode, parsed, filters, sort, wanted);
    const needed = ranked.ordered.slice(0, wanted);
    // Rows with their text cost time: read whole only the frames a page shows (those of the page when nothing
    // folds, at once), keys (window, time) of the others, and the text of those that may fold.
    const likely = needed.slice(request.offset, request.offset + request.limit).map((c) => c.id);
    const keys = ranked.keys ?? new Map<number, FrameKey>();
    const keyless = needed.filter((c) => !keys.has(c.id) && !likely.includes(c.id)).map((c) => c.id);
    const [rows, moreKeys] = await Promise.all([this.repo.rows(likely), this.repo.keys(keyless)]);
    for (const [id, key] of [...moreKeys, ...rows]) keys.set(id, key);
    const present = needed.filter((c) => keys.has(c.id));
    const readRows = async (ids: number[]) => {
      const unread = ids.filter((id) => !rows.has(id));
      if (unread.length) for (const [id, row] of await this.repo.rows(unread)) rows.set(id, row);
    };
    let moments: Array<Moment<Candidate>>;
    if (group) {
      await readRows(mayFold(present.map((c) => keys.get(c.id)!)));
      moments = foldMoments(
        present,
        (id) => keys.get(id),
        (id) => rows.get(id)?.text ?? null,
      );
    } else moments = present.map((c) => ({ best: c, first: 0, last: 0, frames: 1 }));
    const page = moments.slice(request.offset, request.offset + request.limit);
    await readRows(page.map((m) => m.best.id));
    const results = await this.hits(
      page.map((m) => m.best),
      parsed,
      ranked.keyword,
      rows,
    );
    page.forEach((m, i) => {
      if (m.frames > 1) results[i]!.moment = { first: m.first, last: m.last, frames: m.frames };
    });
    const related = request.offset === 0 && ranked.related.length ? await this.hits(ranked.related.slice(0, RELATED_MAX), parsed, false) : undefined;
    return {
      ...base,
      ...(ranked.mode ? { mode: ranked.mode } : {}),
      total: ranked.total,
      results,
      ...(related ? { related } : {}),
      ...(ranked.warning ? { warning: ranked.warning } : {}),
    };
  }

  /** The query's matches in order, at least `depth` of them when there are as many. */
  private async ranked(mode: SearchMode, parsed: ParsedQuery, filters: SearchFilters, sort: SearchSort, depth: number): Promise<Ranked> {
    if (mode === 'keyword') {
      const keyword = await this.repo.keyword(parsed, filters, sort, depth);
      return { ordered: keyword.candidates, total: keyword.total, related: [], keyword: true };
    }
    let queryVector: Float32Array;
    try {
      // Only what the user looks for: an excluded word in the query vector would pull towards it.
      [queryVector] = (await this.vectors!.provider.embed([includedText(parsed).slice(0, 2000)])) as [Float32Array];
    } catch (error) {
      const reason = `embedding provider failed: ${(error as Error).message}`;
      if (mode === 'semantic') throw new ApiError(503, reason, 'PROVIDER_UNAVAILABLE');
      const keyword = await this.repo.keyword(parsed, filters, sort, depth);
      return { ordered: keyword.candidates, total: keyword.total, related: [], keyword: true, mode: 'keyword', warning: `${reason}; showing keyword results` };
    }
    const restricted = hasFilters(filters) ? await this.repo.filteredIds(filters, RESTRICTED_VECTOR_SEARCH) : undefined;
    const { candidates: vector, keys } = await this.vectorCandidates(queryVector, filters, parsed, Math.max(FUSION_DEPTH, depth), restricted);
    const floors = this.vectors!.floor ?? { withoutMatches: -1, withMatches: -1 };
    // The vector index is rebuilt in the background (a new or damaged index file): words only until it is ready.
    const loading = this.vectors!.index.ready ? {} : { warning: 'the vector index is still loading: search by meaning finds nothing yet' };

    if (mode === 'semantic') {
      const floor = floors.withoutMatches;
      const strong = vector.filter((c) => c.score >= floor);
      const ordered = sort === 'time' ? [...strong].sort(byTime) : strong;
      return { ordered, keys, total: strong.length, related: vector.filter((c) => c.score < floor), keyword: false, ...loading };
    }

    // The filtered frames read for the vector search serve the keyword search too (the store need not read them again).
    const keyword = await this.repo.keyword(parsed, restricted ? { ...filters, frames: restricted } : filters, 'relevance', Math.max(FUSION_DEPTH, depth));
    const matched = new Set(keyword.candidates.map((c) => c.id));
    const floor = matched.size ? floors.withMatches : floors.withoutMatches;
    // A frame the words found keeps its vector rank (fusion lifts it); one only the vectors found must reach the floor.
    const fused = fuse(
      keyword.candidates,
      vector.filter((c) => matched.has(c.id) || c.score >= floor),
    );
    const ordered = sort === 'time' ? [...fused].sort(byTime) : fused;
    const vectorOnly = fused.filter((c) => c.source === 'vector').length;
    return {
      ordered,
      keys,
      total: Math.min(COUNT_CAP, keyword.total + vectorOnly),
      related: vector.filter((c) => !matched.has(c.id) && c.score < floor),
      keyword: true,
      ...loading,
    };
  }

  private async vectorCandidates(
    query: Float32Array,
    filters: SearchFilters,
    parsed: ParsedQuery,
    depth: number,
    restricted: Set<number> | undefined,
  ): Promise<{ candidates: Candidate[]; keys: Map<number, FrameKey> }> {
    // Unrestricted searches look a little deeper, then drop frames the filters (or status) exclude.
    const hits = await this.vectors!.index.search(query, restricted ? depth : Math.ceil(depth * 1.5), restricted);
    const ids = hits.map((h) => h.id);
    const [keys, excluded] = await Promise.all([this.repo.keys(ids), this.repo.matchingAny(ids, parsed.exclude)]);
    const status = filters.status ?? 'COMPLETED';
    const candidates = hits
      .filter((h) => {
        const key = keys.get(h.id);
        return key && key.status === status && passes(key, filters) && !excluded.has(h.id);
      })
      .slice(0, depth)
      .map((h) => ({ id: h.id, score: h.similarity, timestamp: keys.get(h.id)!.timestamp, source: 'vector' as const }));
    return { candidates, keys };
  }

  /** `keyword`: the candidates come from a keyword search, so the matched indexes have snippets of them. */
  private async hits(candidates: Candidate[], parsed: ParsedQuery, keyword: boolean, known?: Map<number, HitRow>): Promise<SearchHit[]> {
    const ids = candidates.map((c) => c.id);
    const [rows, snippets] = await Promise.all([
      known ?? this.repo.rows(ids),
      keyword ? this.repo.snippets(parsed, candidates.filter(isKeyword)) : new Map<number, string>(),
    ]);
    const terms = parsed.include.map((t) => t.text);
    return candidates
      .filter((c) => rows.has(c.id))
      .map((c) => {
        const row = rows.get(c.id)!;
        const marked = snippets.get(c.id);
        return entryResource({
          id: row.id,
          timestamp: row.timestamp,
          app: row.app,
          title: row.title,
          status: row.status,
          snippet: marked !== undefined ? markedSnippetToHtml(marked) : fallbackSnippet(row, terms),
          score: Number(c.score.toPrecision(6)),
        });
      });
  }
}

/** The text of the included terms: what a query vector is made of. */
const includedText = (parsed: ParsedQuery) => parsed.include.map((t) => t.text).join(' ');

const isKeyword = (c: Candidate): c is KeywordCandidate => c.source !== 'vector' && c.source !== 'browse';

const byTime = (a: RankedId, b: RankedId) => b.timestamp - a.timestamp || b.id - a.id;

const hasFilters = (f: SearchFilters) => f.start !== undefined || f.end !== undefined || !!f.app || !!f.window || !!f.url;

function passes(row: FrameKey, f: SearchFilters): boolean {
  if (f.start !== undefined && row.timestamp < f.start) return false;
  if (f.end !== undefined && row.timestamp > f.end) return false;
  if (f.app && (row.app ?? '').toLowerCase() !== f.app.toLowerCase()) return false;
  if (f.window && !(row.title ?? '').toLowerCase().includes(f.window.toLowerCase())) return false;
  if (f.url && !(row.browser_url ?? '').toLowerCase().includes(f.url.toLowerCase())) return false;
  return true;
}

/**
 * Reciprocal-rank fusion: each list contributes weight/(k + rank); frames found by both rise to the top. The
 * vector list weighs a little less, so the best keyword match always outranks a frame only the vectors found:
 * with equal weights the two tie when the keyword match is not among the nearest vectors (a rare word, a name),
 * and the tie went to the newer frame.
 */
export function fuse<T extends RankedId>(keyword: T[], vector: T[]): T[] {
  const fused = new Map<number, T>();
  const add = (list: T[], weight: number) =>
    list.forEach((c, rank) => {
      const existing = fused.get(c.id);
      const score = weight / (RRF_K + rank + 1);
      if (existing) existing.score += score;
      else fused.set(c.id, { ...c, score });
    });
  add(keyword, 1);
  add(vector, VECTOR_WEIGHT);
  return [...fused.values()].sort((a, b) => b.score - a.score || b.timestamp - a.timestamp);
}

function fallbackSnippet(row: HitRow, terms: string[]): string {
  for (const text of [row.text, row.description, row.title, row.app]) {
    const marked = markTermsHtml(text, terms);
    if (marked.includes('<mark>')) return marked;
  }
  return excerptHtml(row.description ?? row.text ?? row.title);
}
