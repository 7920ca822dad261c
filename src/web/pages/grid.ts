// Recent frames as cards grouped by day, newest first: endless scroll over the cursor API and live updates.
import { api, ApiRequestError, type Entry, type EntryList } from '../api.js';
import { badge, dayKey, dayLabel, every, formatTime, h, isoTime, liveIndicator, pageTitle, thumbnail } from '../dom.js';
import type { Route } from '../router.js';

const PAGE = 48;
const LIVE_MS = 1500;

export function gridPage(root: HTMLElement, _route: Route): () => void {
  document.title = 'Recent · OpenRecall';
  const days = h('div', { class: 'days' });
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, 'Load older frames');
  const end = h('p', { class: 'list-end', hidden: true }, 'That is everything: the oldest frame is above.');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const empty = h(
    'div',
    { class: 'empty', hidden: true },
    h('p', { class: 'empty__title' }, 'No frames yet'),
    h('p', null, 'Screenshots appear here as soon as the capture client uploads them (run ', h('code', null, 'openrecall start'), ').'),
  );
  root.append(
    h(
      'div',
      { class: 'page' },
      h('div', { class: 'page__head' }, pageTitle('Recent frames'), liveIndicator()),
      error,
      empty,
      days,
      sentinel,
      h('div', { class: 'list-foot' }, more, end),
    ),
  );

  const cards = new Map<number, { entry: Entry; el: HTMLElement }>();
  let nextBefore: number | null | undefined;
  let loading = false;
  let stopped = false;

  function card(entry: Entry): HTMLElement {
    const label = `${entry.app ?? 'Unknown app'}: ${entry.title ?? 'untitled'}, ${formatTime(entry.timestamp)}, ${entry.status.toLowerCase()}`;
    return h(
      'article',
      { class: 'card', 'data-id': entry.id, 'data-status': entry.status },
      h('a', { class: 'card__thumb', href: `/entry/${entry.id}`, 'aria-label': label }, thumbnail(entry.thumbnail_url)),
      h(
        'div',
        { class: 'card__body' },
        h('div', { class: 'card__row' }, h('span', { class: 'card__app' }, entry.app ?? 'Unknown app'), badge(entry.status)),
        h('p', { class: 'card__title', title: entry.title ?? '' }, entry.title || 'Untitled window'),
        h('time', { class: 'card__time', datetime: isoTime(entry.timestamp) }, formatTime(entry.timestamp)),
        entry.status === 'FAILED' && entry.last_error ? h('p', { class: 'card__error' }, entry.last_error) : null,
      ),
    );
  }

  function section(ts: number): HTMLElement {
    return h(
      'section',
      { class: 'day', 'data-day': dayKey(ts), 'aria-label': dayLabel(ts) },
      h('h2', { class: 'day__title' }, dayLabel(ts)),
      h('div', { class: 'cards' }),
    );
  }

  /** Older frames go at the bottom (into the last day, or a new day after it). */
  function appendOlder(entry: Entry): void {
    let last = days.lastElementChild as HTMLElement | null;
    if (!last || last.dataset.day !== dayKey(entry.timestamp)) days.append((last = section(entry.timestamp)));
    const el = card(entry);
    last.querySelector('.cards')!.append(el);
    cards.set(entry.id, { entry, el });
  }

  /** Newer frames go at the top. `entries` is newest first. */
  function prependNewer(entries: Entry[]): void {
    for (const entry of [...entries].reverse()) {
      let first = days.firstElementChild as HTMLElement | null;
      if (!first || first.dataset.day !== dayKey(entry.timestamp)) days.prepend((first = section(entry.timestamp)));
      const el = card(entry);
      first.querySelector('.cards')!.prepend(el);
      cards.set(entry.id, { entry, el });
    }
  }

  function update(entry: Entry): void {
    const known = cards.get(entry.id);
    if (!known) return;
    if (known.entry.status === entry.status && known.entry.last_error === entry.last_error && known.entry.title === entry.title) return;
    const el = card(entry);
    known.el.replaceWith(el);
    cards.set(entry.id, { entry, el });
  }

  function remove(id: number): void {
    const known = cards.get(id);
    if (!known) return;
    const day = known.el.closest('.day');
    known.el.remove();
    cards.delete(id);
    if (day && !day.querySelector('.card')) day.remove();
  }

  function refreshStates(): void {
    empty.hidden = cards.size > 0 || nextBefore === undefined;
    more.hidden = !nextBefore;
    end.hidden = nextBefore !== null || cards.size === 0;
  }

  function showError(e: unknown): void {
    error.textContent = e instanceof ApiRequestError ? `Could not load frames: ${e.message}` : 'Could not load frames.';
    error.hidden = false;
  }

  async function loadOlder(): Promise<void> {
    if (loading || nextBefore === null || stopped) return;
    loading = true;
    try {
      const list = await api<EntryList>(`/api/entries?limit=${PAGE}${nextBefore ? `&before_id=${nextBefore}` : ''}`);
      if (stopped) return;
      error.hidden = true;
      for (const entry of list.entries) if (!cards.has(entry.id)) appendOlder(entry);
      nextBefore = list.next_before_id;
      refreshStates();
    } catch (e) {
      showError(e);
    } finally {
      loading = false;
    }
    // Keep filling while the end of the list is on screen (a tall window, or few frames per page).
    if (nextBefore && sentinelVisible()) void loadOlder();
  }

  function sentinelVisible(): boolean {
    return sentinel.getBoundingClientRect().top < window.innerHeight + 800;
  }

  /** New frames, changed badges and deleted frames, without reloading. */
  async function poll(): Promise<void> {
    if (stopped) return;
    if (nextBefore === undefined) return loadOlder();
    const ids = [...cards.keys()];
    const newest = ids.length ? Math.max(...ids) : 0;
    const head = await api<EntryList>(`/api/entries?limit=${PAGE}`);
    if (stopped) return;
    error.hidden = true;
    const headIds = new Set(head.entries.map((e) => e.id));
    const lowestInHead = head.entries.at(-1)?.id ?? Infinity;
    if (head.entries.length === PAGE && lowestInHead > newest + 1 && cards.size > 0) {
      // More new frames arrived than one page holds: start again from the newest rather than leave a gap.
      for (const id of ids) remove(id);
      nextBefore = head.next_before_id;
      for (const entry of head.entries) appendOlder(entry);
      refreshStates();
      return;
    }
    prependNewer(head.entries.filter((e) => e.id > newest));
    for (const entry of head.entries) update(entry);
    for (const id of ids) if (id >= lowestInHead && !headIds.has(id)) remove(id);

    // Frames further down that are still being processed (or were deleted meanwhile).
    const unfinished = [...cards.values()].filter((c) => c.entry.id < lowestInHead && (c.entry.status === 'PENDING' || c.entry.status === 'PROCESSING'));
    if (unfinished.length) {
      const low = Math.min(...unfinished.map((c) => c.entry.id));
      const high = Math.max(...unfinished.map((c) => c.entry.id));
      const range = await api<EntryList>(`/api/entries?after_id=${low - 1}&before_id=${high + 1}&limit=500`);
      if (stopped) return;
      const present = new Set(range.entries.map((e) => e.id));
      for (const entry of range.entries) update(entry);
      if (range.entries.length < 500) for (const id of [...cards.keys()]) if (id >= low && id <= high && !present.has(id)) remove(id);
    }
    refreshStates();
  }

  more.addEventListener('click', () => void loadOlder());
  const observer = new IntersectionObserver(
    (items) => {
      if (items.some((i) => i.isIntersecting)) void loadOlder();
    },
    { rootMargin: '800px 0px' },
  );
  observer.observe(sentinel);
  // Belt and braces for the observer: a scroll that ends near the bottom also asks for more.
  let scrollQueued = false;
  const onScroll = () => {
    if (scrollQueued) return;
    scrollQueued = true;
    requestAnimationFrame(() => {
      scrollQueued = false;
      if (nextBefore && sentinelVisible()) void loadOlder();
    });
  };
  window.addEventListener('scroll', onScroll, { passive: true });

  let stopLive: (() => void) | undefined;
  void loadOlder().then(() => {
    if (!stopped) stopLive = every(LIVE_MS, poll);
  });

  return () => {
    stopped = true;
    observer.disconnect();
    window.removeEventListener('scroll', onScroll);
    stopLive?.();
  };
}
