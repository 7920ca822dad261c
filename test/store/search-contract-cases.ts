import type { FrameStatus, SearchFilters, SearchRepository, Store } from '../../src/store/ports.js';
import { MARK_END, MARK_START } from '../../src/store/snippet-marks.js';

/** A frame as the contract suite needs it: what the user saw (app, title, OCR text, description) and when. */
export interface SeedFrame {
  key: string;
  timestamp: number;
  app?: string;
  title?: string;
  text?: string;
  description?: string;
  status?: FrameStatus;
}

/** A store under test, seen through its search repository plus the few writes the cases need. */
export interface SearchTarget {
  name: string;
  search: SearchRepository;
  /** Inserts the frames in order (OCR text, description, CJK bigrams and status included); returns their ids. */
  seed(frames: SeedFrame[]): Promise<number[]>;
  /** Replaces a processed frame's OCR text, as re-processing does. */
  setText(id: number, text: string): Promise<void>;
  /** Deletes a frame, as retention or the user does. */
  remove(id: number): Promise<void>;
  cleanup(): Promise<void>;
}

/**
 * A SearchTarget over a whole Store (test/helpers/stores.ts): frames go through the queue as the processor
 * writes them. At merge: `STORE_KINDS.map((kind) => async () => { const t = await openTestStore(kind);
 * return storeSearchTarget(kind, t.store, t.cleanup); })` replaces the fixture in search-contract.test.ts.
 */
export function storeSearchTarget(name: string, store: Store, cleanup: () => Promise<void>): SearchTarget {
  const lease = { workerId: 'search-contract', seconds: 300 };
  return {
    name,
    search: store.search,
    cleanup,
    async setText(id, text) {
      await store.frames.saveResults(id, { text });
      await store.cjkIndex.save(id, text);
    },
    async remove(id) {
      const { deleted } = await store.frames.delete(id);
      if (!deleted) throw new Error(`remove: frame ${id} not deleted`);
    },
    async seed(frames) {
      const ids: number[] = [];
      for (const f of frames) {
        const { id } = await store.frames.insertPending({
          captureId: `search-contract-${f.key}`,
          timestamp: f.timestamp,
          app: f.app ?? '',
          title: f.title ?? '',
          monitor: null,
          imagePath: `screenshots/${f.key}.webp`,
          width: 1280,
          height: 720,
          bytes: 1000,
          receivedAt: f.timestamp,
        });
        const claimed = await store.frames.claimNext(Number.MAX_SAFE_INTEGER, lease);
        if (claimed?.entry.id !== id) throw new Error(`seed: claimed ${claimed?.entry.id}, expected ${id}`);
        await store.frames.saveResults(id, { text: f.text ?? null, description: f.description ?? null }, lease.workerId);
        await store.cjkIndex.save(id, f.text ?? null);
        const status = f.status ?? 'COMPLETED';
        if (status === 'COMPLETED') await store.frames.complete(id, lease.workerId);
        else if (status === 'FAILED') await store.frames.failPermanently(id, 'seeded as failed', lease.workerId);
        else if (status === 'PENDING') await store.frames.release(id, lease.workerId);
        ids.push(id);
      }
      return ids;
    },
  };
}

export const T0 = 1_760_000_000;

/** The screens of test/search.test.ts (their OCR text as read), plus a few for CJK OCR, accents, punctuation, substrings. */
export const FRAMES: SeedFrame[] = [
  {
    key: 'meeting',
    app: 'Calendar',
    title: 'Budget review - Calendar',
    timestamp: T0,
    text: 'Quarterly budget meeting with the finance team\nAgenda: hiring plan and travel costs',
  },
  {
    key: 'invoice',
    app: 'Mail',
    title: 'Invoice 4411 from Acme - Mail',
    timestamp: T0 + 100,
    text: 'Your invoice from Acme Corporation is overdue\nPlease pay within fourteen days',
  },
  {
    key: 'roadmap',
    app: 'Writer',
    title: '系统设计文档 - Writer',
    timestamp: T0 + 200,
    text: 'Project roadmap: database migration\nSearch latency goals for the next release',
  },
  {
    key: 'sheet',
    app: 'Sheets',
    title: 'Budget 2027.xlsx',
    timestamp: T0 + 300,
    text: 'Budget forecast budget actuals budget variance\nMarketing budget and sales budget summary',
  },
  {
    key: 'escape',
    app: 'Browser',
    title: '<script>alert(1)</script> & friends',
    timestamp: T0 + 400,
    text: 'Reading about cross site scripting attacks\nEscaping output keeps pages safe',
  },
  { key: 'draft', app: 'Sheets', title: 'Budget draft (unsaved)', timestamp: T0 + 500, status: 'FAILED' },
  { key: 'cjkocr', app: 'Notes', title: 'Daily notes', timestamp: T0 + 600, text: '今天的会议记录很重要 please review' },
  { key: 'accents', app: 'Maps', title: 'Café Müller - Maps', timestamp: T0 + 700, text: 'Opening hours and directions to Café2go' },
  { key: 'punct', app: 'Files', title: 'report-final_v2.pdf', timestamp: T0 + 800, text: 'send it to alice@example.com today' },
  { key: 'installer', app: 'Installer', title: 'Acmeware Setup', timestamp: T0 + 900, text: 'Installing components', description: 'A setup wizard' },
  { key: 'harbortext', app: 'Maps', title: 'Ferry', timestamp: T0 + 1000, text: 'Ferry schedules for the harbor tour' },
  { key: 'harborapp', app: 'Harbor', title: 'Dashboard', timestamp: T0 + 1100, text: 'Opening times of the museum shop' },
];

export interface KeywordCase {
  name: string;
  q: string;
  filters?: SearchFilters;
  sort?: 'relevance' | 'time';
  /** Frame keys in result order. */
  expect: string[];
  total?: number;
  /** Marked snippet (MARK_START/MARK_END as ⟦ ⟧ here) expected in the first result's snippet. */
  snippet?: string;
  /** Where the first result came from. */
  source?: 'words' | 'substring' | 'short' | 'cjk';
}

export const marked = (s: string) => s.replaceAll('⟦', MARK_START).replaceAll('⟧', MARK_END);

export const KEYWORD_CASES: KeywordCase[] = [
  { name: 'words the OCR read, the most relevant first', q: 'budget', expect: ['sheet', 'meeting'], total: 2, snippet: '⟦Budget⟧ forecast ⟦budget⟧' },
  { name: 'every word required, in any order', q: 'team quarterly', expect: ['meeting'] },
  { name: 'every word required: none has both', q: 'quarterly invoice', expect: [], total: 0 },
  { name: 'stemming: "meetings" finds "meeting"', q: 'meetings', expect: ['meeting'], snippet: '⟦meeting⟧' },
  { name: 'stemming: "migrated" finds "migration"', q: 'migrated', expect: ['roadmap'] },
  { name: 'phrases in order', q: '"finance team"', expect: ['meeting'], snippet: '⟦finance⟧ ⟦team⟧' },
  { name: 'phrases in order only', q: '"team finance"', expect: [] },
  { name: 'phrases within one field (OCR text, then title)', q: '"costs budget"', expect: [] },
  { name: 'phrases across lines', q: '"overdue please"', expect: ['invoice'] },
  { name: 'excluded -word', q: 'budget -meeting', expect: ['sheet'] },
  { name: 'excluded -"phrase"', q: 'budget -"finance team"', expect: ['sheet'] },
  { name: 'prefix*', q: 'roadm*', expect: ['roadmap'], snippet: '⟦roadmap⟧' },
  { name: 'prefix* of a stemmed word', q: 'corpor*', expect: ['invoice'] },
  { name: 'substring of a title: "voice" finds "Invoice 4411"', q: 'voice', expect: ['invoice'], source: 'substring', snippet: 'In⟦voice⟧ 4411' },
  { name: 'CJK word in a title (short term)', q: '设计', expect: ['roadmap'], snippet: '系统⟦设计⟧文档' },
  { name: 'CJK word of 3+ characters in a title (trigrams)', q: '设计文档', expect: ['roadmap'], source: 'substring' },
  { name: 'CJK word inside a run of OCR text (bigrams)', q: '会议', expect: ['cjkocr'], source: 'cjk', snippet: '⟦会议⟧' },
  { name: 'CJK single character (prefix of a bigram)', q: '议', expect: ['cjkocr'], source: 'cjk' },
  { name: 'CJK word of 3+ characters inside OCR text', q: '会议记录', expect: ['cjkocr'], source: 'cjk' },
  { name: 'CJK word and an English word, both required', q: '会议 review', expect: ['cjkocr'] },
  { name: 'CJK word and a missing word', q: '会议 budget', expect: [] },
  { name: 'CJK word with the other word excluded', q: '会议 -review', expect: [] },
  { name: 'HTML in text is kept as text, matches marked', q: 'attacks', expect: ['escape'], snippet: 'scripting ⟦attacks⟧' },
  { name: 'HTML in a title is kept as text', q: 'friends', expect: ['escape'], snippet: '<script>alert(1)</script> & ⟦friends⟧' },
  { name: 'accents are ignored', q: 'muller', expect: ['accents'] },
  { name: 'accents in the query are ignored', q: 'café', expect: ['accents'] },
  { name: 'accents are ignored in words with digits', q: 'cafe2go', expect: ['accents'] },
  { name: 'words split at punctuation (e-mail)', q: 'example', expect: ['punct'] },
  { name: 'words split at punctuation (file name)', q: 'final', expect: ['punct'] },
  { name: 'a typed e-mail address finds itself', q: 'alice@example.com', expect: ['punct'] },
  { name: 'a word on screen outranks the same word as the app name', q: 'harbor', expect: ['harbortext', 'harborapp'] },
  { name: 'word matches before substring matches', q: 'acme', expect: ['invoice', 'installer'] },
  { name: 'short terms match app, title, description, newest first', q: 'ac', expect: ['installer', 'invoice'], source: 'short', snippet: '⟦Ac⟧meware' },
  { name: 'filter start', q: 'budget', filters: { start: T0 + 1 }, expect: ['sheet'] },
  { name: 'filter end', q: 'budget', filters: { end: T0 + 10 }, expect: ['meeting'] },
  { name: 'filter app, exact and case-insensitive', q: 'budget', filters: { app: 'calendar' }, expect: ['meeting'] },
  { name: 'filter app does not match a part', q: 'budget', filters: { app: 'Calend' }, expect: [] },
  { name: 'filter window, a substring of the title', q: 'budget', filters: { window: '2027' }, expect: ['sheet'] },
  { name: 'filter window treats % and _ as text', q: 'budget', filters: { window: '%' }, expect: [] },
  { name: 'only COMPLETED frames by default', q: 'draft', expect: [] },
  { name: 'another status on request', q: 'draft', filters: { status: 'FAILED' }, expect: ['draft'] },
  { name: 'sorted by time', q: 'budget', sort: 'time', expect: ['sheet', 'meeting'] },
  { name: 'sorted by time across sources', q: 'acme', sort: 'time', expect: ['installer', 'invoice'] },
];
