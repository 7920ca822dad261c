import { entryResource, type SearchHit, type SearchMode, type SearchResponse, type SearchSort } from '../api/index.js';
import type { EmbeddingProvider } from '../ai/embedding-provider.js';
import { ApiError } from '../errors.js';
import type { FrameStatus } from '../store/frames-repository.js';
import { COUNT_CAP, type HitRow, type RankedId, type SearchFilters, type SearchRepository } from '../store/search-repository.js';
import { cjkExpression, hasCjk } from '../store/cjk.js';
import { excerptHtml, markedSnippetToHtml, markTermsHtml } from './highlight.js';
import { exclusionExpression, parseQuery, substringTerms, wordIndexExpression, type ParsedQuery } from './query-parser.js';
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
  status?: FrameStatus;
}

/** Exact words are what users mean; substrings only join in when words find little. */
const SUBSTRING_FALLBACK_BELOW = 50;
/** Reciprocal-rank fusion constant (the usual 60). */
const RRF_K = 60;
/** Weight of the vector list in the fusion (the keyword list's is 1). */
const VECTOR_WEIGHT = 0.8;
/** How deep each list goes into hybrid fusion, and how many frames semantic search returns at most. */
const FUSION_DEPTH = 100;
/** A vector search restricted to at most this many filtered frames scores exactly those. */
const RESTRICTED_VECTOR_SEARCH = 20_000;

type Source = 'words' | 'substring' | 'short' | 'cjk' | 'vector' | 'browse';
interface Candidate extends RankedId {
  source: Source;
}

interface KeywordResult {
  candidates: Candidate[];
  total: number;
  words?: string;
  substring?: string;
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

  apps() {
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
    const filters: SearchFilters = { start: request.start, end: request.end, app: request.app, window: request.window, status: request.status };
    const parsed = parseQuery(request.q);
    const sort = request.sort ?? 'relevance';
    const base = { query: request.q, mode, limit: request.limit, offset: request.offset };

    const blank = request.q.trim() === '';
    if (blank || parsed.include.length === 0) {
      // Filters only (newest first), minus exclusions; a query of nothing searchable (only symbols) finds nothing.
      if (!blank && parsed.exclude.length === 0) return { ...base, total: 0, results: [] };
      const { ids, total } = this.repo.browse(filters, request.limit, request.offset, exclusionExpression(parsed));
      return {
        ...base,
        total,
        results: this.hits(
          ids.map((c) => ({ ...c, source: 'browse' as const })),
          parsed,
          {},
        ),
      };
    }

    if (mode === 'keyword') {
      const keyword = this.keyword(parsed, filters, sort, request.offset + request.limit);
      const page = keyword.candidates.slice(request.offset, request.offset + request.limit);
      return { ...base, total: keyword.total, results: this.hits(page, parsed, keyword) };
    }

    let queryVector: Float32Array;
    try {
      [queryVector] = (await this.vectors!.provider.embed([request.q.slice(0, 2000)])) as [Float32Array];
    } catch (error) {
      const reason = `embedding provider failed: ${(error as Error).message}`;
      if (mode === 'semantic') throw new ApiError(503, reason, 'PROVIDER_UNAVAILABLE');
      const keyword = this.keyword(parsed, filters, sort, request.offset + request.limit);
      const page = keyword.candidates.slice(request.offset, request.offset + request.limit);
      return { ...base, mode: 'keyword', total: keyword.total, results: this.hits(page, parsed, keyword), warning: `${reason}; showing keyword results` };
    }
    const vector = this.vectorCandidates(queryVector, filters, Math.max(FUSION_DEPTH, request.offset + request.limit));

    if (mode === 'semantic') {
      const ordered = sort === 'time' ? [...vector].sort(byTime) : vector;
      return { ...base, total: vector.length, results: this.hits(ordered.slice(request.offset, request.offset + request.limit), parsed, {}) };
    }

    const keyword = this.keyword(parsed, filters, 'relevance', Math.max(FUSION_DEPTH, request.offset + request.limit));
    const fused = fuse(keyword.candidates, vector);
    const ordered = sort === 'time' ? [...fused].sort(byTime) : fused;
    const vectorOnly = fused.filter((c) => c.source === 'vector').length;
    return {
      ...base,
      total: Math.min(COUNT_CAP, keyword.total + vectorOnly),
      results: this.hits(ordered.slice(request.offset, request.offset + request.limit), parsed, keyword),
    };
  }

  /** The first `depth` keyword matches: words (stemmed) first, then substring matches when words find little. */
  private keyword(parsed: ParsedQuery, filters: SearchFilters, sort: SearchSort, depth: number): KeywordResult {
    const words = wordIndexExpression(parsed)!;
    const wordTotal = this.repo.count('entries_fts', words, filters);
    const wordHits: Candidate[] = this.repo.ranked('entries_fts', words, filters, sort, depth, 0).map((c) => ({ ...c, source: 'words' }));
    if (wordTotal >= SUBSTRING_FALLBACK_BELOW) return { candidates: wordHits, total: wordTotal, words };

    // Substrings: trigram MATCH for terms of 3+ characters, LIKE on titles/apps/descriptions for shorter ones.
    // Substring hits exclude what the word index already found and anything an excluded term matches anywhere
    // (the trigram index does not cover OCR text, so it cannot apply the exclusion itself).
    const { expression, short } = substringTerms(parsed);
    const shortClause = this.repo.shortTermClause(short);
    const excluded = exclusionExpression(parsed);
    const extra = {
      sql:
        ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @words)' +
        (excluded ? ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @excluded)' : '') +
        (shortClause?.sql ?? ''),
      params: { words, ...(excluded ? { excluded } : {}), ...shortClause?.params },
    };
    let more: Candidate[];
    let moreTotal: number;
    if (expression) {
      moreTotal = this.repo.count('entries_trigram', expression, filters, extra);
      // Substring scores are bm25 of another index: halve them so a word match outranks a substring match.
      more = this.repo.ranked('entries_trigram', expression, filters, sort, depth, 0, extra).map((c) => ({ ...c, score: c.score / 2, source: 'substring' }));
    } else {
      more = this.repo.likeOnly(filters, extra).map((c) => ({ ...c, source: 'short' }));
      moreTotal = more.length;
    }
    const cjk = this.cjkCandidates(parsed, filters, sort, depth, words, [...wordHits, ...more]);
    const all = [...wordHits, ...more, ...cjk];
    const candidates = sort === 'time' ? all.sort(byTime) : all;
    return { candidates: candidates.slice(0, depth), total: Math.min(COUNT_CAP, wordTotal + moreTotal + cjk.length), words, substring: expression };
  }

  /**
   * CJK words inside longer runs of OCR text, through the bigram index (see cjk.ts). The other terms of the
   * query must match the word index; frames found already are left out.
   */
  private cjkCandidates(parsed: ParsedQuery, filters: SearchFilters, sort: SearchSort, depth: number, words: string, found: Candidate[]): Candidate[] {
    const cjk = cjkExpression(parsed.include.map((t) => t.text));
    if (!cjk) return [];
    const others = wordIndexExpression({ include: parsed.include.filter((t) => !hasCjk(t.text)), exclude: parsed.exclude });
    const excluded = exclusionExpression(parsed);
    const extra = {
      sql:
        ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @words)' +
        (others
          ? ' AND e.id IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @others)'
          : excluded
            ? ' AND e.id NOT IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH @excluded)'
            : ''),
      params: { words, ...(others ? { others } : excluded ? { excluded } : {}) },
    };
    const seen = new Set(found.map((c) => c.id));
    // Scores of another index: halved like substring matches, so a word match outranks them.
    return this.repo
      .ranked('entries_cjk', cjk, filters, sort, depth, 0, extra)
      .filter((c) => !seen.has(c.id))
      .map((c) => ({ ...c, score: c.score / 2, source: 'cjk' as const }));
  }

  private vectorCandidates(query: Float32Array, filters: SearchFilters, depth: number): Candidate[] {
    const restricted = hasFilters(filters) ? this.repo.filteredIds(filters, RESTRICTED_VECTOR_SEARCH) : undefined;
    // Unrestricted searches look a little deeper, then drop frames the filters (or status) exclude.
    const hits = this.vectors!.index.search(query, restricted ? depth : Math.ceil(depth * 1.5), restricted);
    const rows = this.repo.rows(hits.map((h) => h.id));
    const status = filters.status ?? 'COMPLETED';
    return hits
      .filter((h) => {
        const row = rows.get(h.id);
        return row && row.status === status && passes(row, filters);
      })
      .slice(0, depth)
      .map((h) => ({ id: h.id, score: h.similarity, timestamp: rows.get(h.id)!.timestamp, source: 'vector' as const }));
  }

  private hits(candidates: Candidate[], parsed: ParsedQuery, keyword: Pick<KeywordResult, 'words' | 'substring'>): SearchHit[] {
    const ids = candidates.map((c) => c.id);
    const rows = this.repo.rows(ids);
    const bySource = (source: Source) => candidates.filter((c) => c.source === source).map((c) => c.id);
    const wordSnippets = keyword.words ? this.repo.snippets('entries_fts', keyword.words, bySource('words')) : new Map<number, string>();
    const substringSnippets = keyword.substring ? this.repo.snippets('entries_trigram', keyword.substring, bySource('substring')) : new Map<number, string>();
    const terms = parsed.include.map((t) => t.text);
    return candidates
      .filter((c) => rows.has(c.id))
      .map((c) => {
        const row = rows.get(c.id)!;
        const marked = wordSnippets.get(c.id) ?? substringSnippets.get(c.id);
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

const byTime = (a: RankedId, b: RankedId) => b.timestamp - a.timestamp || b.id - a.id;

const hasFilters = (f: SearchFilters) => f.start !== undefined || f.end !== undefined || !!f.app || !!f.window;

function passes(row: HitRow & { app: string | null; title: string | null }, f: SearchFilters): boolean {
  if (f.start !== undefined && row.timestamp < f.start) return false;
  if (f.end !== undefined && row.timestamp > f.end) return false;
  if (f.app && (row.app ?? '').toLowerCase() !== f.app.toLowerCase()) return false;
  if (f.window && !(row.title ?? '').toLowerCase().includes(f.window.toLowerCase())) return false;
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
