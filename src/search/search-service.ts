import { entryResource, type SearchHit, type SearchMode, type SearchResponse, type SearchSort } from '../api/index.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { ApiError } from '../errors.js';
import {
  COUNT_CAP,
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
import { parseQuery } from './query-parser.js';
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
}

/** Reciprocal-rank fusion constant (the usual 60). */
const RRF_K = 60;
/** Weight of the vector list in the fusion (the keyword list's is 1). */
const VECTOR_WEIGHT = 0.8;
/** How deep each list goes into hybrid fusion, and how many frames semantic search returns at most. */
const FUSION_DEPTH = 100;
/** A vector search restricted to at most this many filtered frames scores exactly those. */
const RESTRICTED_VECTOR_SEARCH = 20_000;

type Source = KeywordSource | 'vector' | 'browse';
interface Candidate extends RankedId {
  source: Source;
}

export interface VectorSearch {
  provider: EmbeddingProvider;
  index: VectorIndex;
}

/** Keyword (FTS5), semantic (vectors) and hybrid (reciprocal-rank fusion of both) search over frames. */
export class SearchService {
  constructor(
    private readonly repo: SearchRepository,
    private readonly vectors?: VectorSearch,
  ) {}

  modes(): SearchMode[] {
    return this.vectors ? ['keyword', 'semantic', 'hybrid'] : ['keyword'];
  }

  defaultMode(): SearchMode {
    return this.vectors ? 'hybrid' : 'keyword';
  }

  async apps() {
    return this.repo.apps();
  }

  async search(request: SearchRequest): Promise<SearchResponse> {
    const mode = request.mode ?? this.defaultMode();
    if (mode !== 'keyword' && !this.vectors) {
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

    if (mode === 'keyword') {
      const keyword = await this.repo.keyword(parsed, filters, sort, request.offset + request.limit);
      const page = keyword.candidates.slice(request.offset, request.offset + request.limit);
      return { ...base, total: keyword.total, results: await this.hits(page, parsed, true) };
    }

    let queryVector: Float32Array;
    try {
      [queryVector] = (await this.vectors!.provider.embed([request.q.slice(0, 2000)])) as [Float32Array];
    } catch (error) {
      const reason = `embedding provider failed: ${(error as Error).message}`;
      if (mode === 'semantic') throw new ApiError(503, reason, 'PROVIDER_UNAVAILABLE');
      const keyword = await this.repo.keyword(parsed, filters, sort, request.offset + request.limit);
      const page = keyword.candidates.slice(request.offset, request.offset + request.limit);
      return { ...base, mode: 'keyword', total: keyword.total, results: await this.hits(page, parsed, true), warning: `${reason}; showing keyword results` };
    }
    const vector = await this.vectorCandidates(queryVector, filters, Math.max(FUSION_DEPTH, request.offset + request.limit));

    if (mode === 'semantic') {
      const ordered = sort === 'time' ? [...vector].sort(byTime) : vector;
      return { ...base, total: vector.length, results: await this.hits(ordered.slice(request.offset, request.offset + request.limit), parsed, false) };
    }

    const keyword = await this.repo.keyword(parsed, filters, 'relevance', Math.max(FUSION_DEPTH, request.offset + request.limit));
    const fused = fuse(keyword.candidates, vector);
    const ordered = sort === 'time' ? [...fused].sort(byTime) : fused;
    const vectorOnly = fused.filter((c) => c.source === 'vector').length;
    return {
      ...base,
      total: Math.min(COUNT_CAP, keyword.total + vectorOnly),
      results: await this.hits(ordered.slice(request.offset, request.offset + request.limit), parsed, true),
    };
  }

  private async vectorCandidates(query: Float32Array, filters: SearchFilters, depth: number): Promise<Candidate[]> {
    const restricted = hasFilters(filters) ? await this.repo.filteredIds(filters, RESTRICTED_VECTOR_SEARCH) : undefined;
    // Unrestricted searches look a little deeper, then drop frames the filters (or status) exclude.
    const hits = await this.vectors!.index.search(query, restricted ? depth : Math.ceil(depth * 1.5), restricted);
    const rows = await this.repo.rows(hits.map((h) => h.id));
    const status = filters.status ?? 'COMPLETED';
    return hits
      .filter((h) => {
        const row = rows.get(h.id);
        return row && row.status === status && passes(row, filters);
      })
      .slice(0, depth)
      .map((h) => ({ id: h.id, score: h.similarity, timestamp: rows.get(h.id)!.timestamp, source: 'vector' as const }));
  }

  /** `keyword`: the candidates come from a keyword search, so the matched indexes have snippets of them. */
  private async hits(candidates: Candidate[], parsed: ParsedQuery, keyword: boolean): Promise<SearchHit[]> {
    const ids = candidates.map((c) => c.id);
    const [rows, snippets] = await Promise.all([
      this.repo.rows(ids),
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

const isKeyword = (c: Candidate): c is KeywordCandidate => c.source !== 'vector' && c.source !== 'browse';

const byTime = (a: RankedId, b: RankedId) => b.timestamp - a.timestamp || b.id - a.id;

const hasFilters = (f: SearchFilters) => f.start !== undefined || f.end !== undefined || !!f.app || !!f.window || !!f.url;

function passes(row: HitRow, f: SearchFilters): boolean {
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
