import { entryUrls, type AskAnswer, type AskContext, type AskContextFrame, type AskFrame, type SearchHit } from '../api/index.js';
import type { ChatClient, ChatMessage } from '../ai/chat-client.js';
import { ProviderError } from '../ai/http-json.js';
import { ApiError } from '../errors.js';
import type { SearchService } from '../search/search-service.js';
import type { HitRow, SearchRepository } from '../store/ports.js';
import { citedIds, contextBlock, estimateTokens, findTimePhrase, newFence, searchWords, systemPrompt, userPrompt } from './ask-prompt.js';

export interface AskRequest {
  question: string;
  /** Unix seconds. */
  since?: number;
  until?: number;
  app?: string;
}

export const CHAT_NOT_CONFIGURED =
  'no chat model configured: set OPENRECALL_CHAT_URL (e.g. http://127.0.0.1:11434/v1 for Ollama) and OPENRECALL_CHAT_MODEL, then restart the server';

/** At most this many frames (moments) go to the model, fewer when their text fills the token budget. */
export const MAX_FRAMES = 12;
/** One frame's text is clipped to this many characters: the budget is shared by several frames. */
const MAX_FRAME_CHARS = 2400;
/** Per-word keyword searches that fill up the context when the whole question matches few frames. */
const MAX_FALLBACK_WORDS = 6;

export type AskEvent = { type: 'context'; context: AskContext } | { type: 'delta'; text: string } | { type: 'done'; answer: AskAnswer };

interface Prepared {
  context: AskContextFrame[];
  messages: ChatMessage[];
}

/** Ask: a question answered by a chat model from the frames that match it, with the frames it cites. */
export class AskService {
  constructor(
    private readonly search: SearchService,
    private readonly rows: Pick<SearchRepository, 'rows'>,
    private readonly chat: ChatClient | undefined,
    private readonly options: { contextTokens: number },
  ) {}

  get available(): boolean {
    return this.chat !== undefined;
  }

  /** The frames a question would be answered from (what the Ask page shows when no model is configured). */
  async context(request: AskRequest): Promise<AskContext> {
    const { context } = await this.prepare(request);
    return { frames_considered: context.length, context };
  }

  async ask(request: AskRequest): Promise<AskAnswer> {
    const chat = this.requireChat();
    const prepared = await this.prepare(request);
    let answer: string;
    try {
      answer = await chat.complete(prepared.messages);
    } catch (error) {
      throw modelError(error);
    }
    return this.answer(answer, prepared.context);
  }

  /** The same answer as it is written: the context first, then pieces of text, then the whole answer. */
  async *stream(request: AskRequest): AsyncGenerator<AskEvent> {
    const chat = this.requireChat();
    const prepared = await this.prepare(request);
    yield { type: 'context', context: { frames_considered: prepared.context.length, context: prepared.context } };
    let answer = '';
    try {
      for await (const piece of chat.stream(prepared.messages)) {
        answer += piece;
        yield { type: 'delta', text: piece };
      }
    } catch (error) {
      throw modelError(error);
    }
    yield { type: 'done', answer: this.answer(answer, prepared.context) };
  }

  private requireChat(): ChatClient {
    if (!this.chat) throw new ApiError(503, CHAT_NOT_CONFIGURED, 'CHAT_NOT_CONFIGURED');
    return this.chat;
  }

  /** Citations: the labels of the answer that name a frame of the context; any other label is dropped. */
  private answer(text: string, context: AskContextFrame[]): AskAnswer {
    const given = new Map(context.map((f) => [f.id, f]));
    const citations = citedIds(text)
      .filter((id) => given.has(id))
      .map((id) => frameRef(given.get(id)!));
    return { answer: text.trim(), citations, frames_considered: context.length, context };
  }

  private async prepare(request: AskRequest): Promise<Prepared> {
    const hits = await this.retrieve(request);
    const rows = await this.rows.rows(hits.map((h) => h.id));
    const fence = newFence();
    const context: AskContextFrame[] = [];
    const blocks: string[] = [];
    let tokens = 0;
    for (const hit of hits) {
      const row = rows.get(hit.id);
      if (!row) continue;
      const frame = { ...frameRef(hit), text: screenText(row), ...(hit.moment ? { moment: hit.moment } : {}) };
      const block = contextBlock(frame, fence);
      // The best frame always goes in; the others while they fit.
      if (context.length > 0 && tokens + estimateTokens(block) > this.options.contextTokens) break;
      tokens += estimateTokens(block);
      context.push(frame);
      blocks.push(block);
    }
    const messages: ChatMessage[] = [
      { role: 'system', content: systemPrompt(fence) },
      { role: 'user', content: userPrompt(request.question, blocks) },
    ];
    return { context, messages };
  }

  /**
   * Hybrid search for the question's words within its time (a phrase in it, or since/until), grouped into
   * moments; frames below the vector floor (related) come after the real matches. When the whole question
   * matches few frames, frames matching its single words fill up, those matching more words first.
   */
  private async retrieve(request: AskRequest): Promise<SearchHit[]> {
    const time = findTimePhrase(request.question);
    const start = request.since ?? time?.span.start;
    const end = request.until ?? (time && time.span.end > time.span.start ? time.span.end : undefined);
    const words = searchWords(time ? time.rest : request.question);
    const filters = { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end } : {}), ...(request.app ? { app: request.app } : {}) };
    const found = await this.search.search({ q: words.join(' '), limit: MAX_FRAMES, offset: 0, group: true, ...filters });
    const hits = [...found.results, ...(found.related ?? [])];
    if (hits.length >= MAX_FRAMES || words.length < 2) return hits.slice(0, MAX_FRAMES);
    const seen = new Set(hits.map((h) => h.id));
    const votes = new Map<number, { hit: SearchHit; words: number }>();
    for (const word of words.slice(0, MAX_FALLBACK_WORDS)) {
      const single = await this.search.search({ q: word, mode: 'keyword', limit: MAX_FRAMES, offset: 0, group: true, ...filters });
      for (const hit of single.results) {
        if (seen.has(hit.id)) continue;
        const vote = votes.get(hit.id) ?? { hit, words: 0 };
        vote.words++;
        votes.set(hit.id, vote);
      }
    }
    const more = [...votes.values()].sort((a, b) => b.words - a.words || b.hit.timestamp - a.hit.timestamp).map((v) => v.hit);
    return [...hits, ...more].slice(0, MAX_FRAMES);
  }
}

function frameRef(frame: { id: number; timestamp: number; app: string | null; title: string | null }): AskFrame {
  return {
    id: frame.id,
    timestamp: frame.timestamp,
    app: frame.app,
    title: frame.title,
    link: `/entry/${frame.id}`,
    thumbnail_url: entryUrls(frame.id).thumbnail_url,
  };
}

function screenText(row: HitRow): string {
  const text = [row.description ? `AI description: ${row.description}` : '', row.text ?? ''].filter(Boolean).join('\n');
  return text.length > MAX_FRAME_CHARS ? `${text.slice(0, MAX_FRAME_CHARS)}…` : text;
}

function modelError(error: unknown): Error {
  if (error instanceof ProviderError) return new ApiError(502, error.message, 'CHAT_MODEL_FAILED');
  return error as Error;
}
