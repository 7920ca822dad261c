// Full-text (and semantic, where the server offers it) search. The query lives in the URL, so results can be
// bookmarked and Back returns to them.
import { api, ApiRequestError, getCapabilities, query, type AppList, type SearchResponse, type SearchResult } from '../api.js';
import { badge, formatFull, formatTime, fromLocalInput, h, isoTime, pageTitle, thumbnail, toLocalInput } from '../dom.js';
import { pushUrl, type Route } from '../router.js';

const PAGE = 20;
const MODE_LABELS: Record<string, string> = { keyword: 'Keyword', semantic: 'Semantic', hybrid: 'Hybrid' };

/** "· 12 frames, 14:02–14:11": a result that stands for near-identical frames in a row. */
export function momentLabel(moment: NonNullable<SearchResult['moment']>): HTMLElement {
  return h('span', { class: 'result__moment' }, ` · ${moment.frames} frames, ${formatTime(moment.first)}–${formatTime(moment.last)}`);
}

export function searchPage(root: HTMLElement, route: Route): () => void {
  document.title = 'Search · OpenRecall';
  let stopped = false;
  let controller: AbortController | undefined;
  const params = route.query;

  const q = h('input', {
    type: 'search',
    id: 'search-q',
    name: 'q',
    class: 'search__input',
    placeholder: 'A word you remember…',
    autocomplete: 'off',
    value: params.get('q') ?? '',
  });
  const mode = h('select', { id: 'search-mode', name: 'mode' });
  const modeField = h('div', { class: 'field', hidden: true }, h('label', { for: 'search-mode' }, 'Mode'), mode);
  const start = h('input', { type: 'datetime-local', id: 'search-start', name: 'start' });
  const end = h('input', { type: 'datetime-local', id: 'search-end', name: 'end' });
  const app = h('select', { id: 'search-app', name: 'app' }, h('option', { value: '' }, 'All apps'));
  const sort = h(
    'select',
    { id: 'search-sort', name: 'sort' },
    h('option', { value: 'relevance' }, 'Best match'),
    h('option', { value: 'time' }, 'Newest first'),
  );
  const form = h(
    'form',
    { class: 'search', role: 'search', 'aria-label': 'Search your screen history' },
    h(
      'div',
      { class: 'search__bar' },
      h('label', { for: 'search-q', class: 'visually-hidden' }, 'Search text'),
      q,
      h('button', { type: 'submit', class: 'button button--primary' }, 'Search'),
    ),
    h(
      'div',
      { class: 'search__filters' },
      modeField,
      h('div', { class: 'field' }, h('label', { for: 'search-start' }, 'From'), start),
      h('div', { class: 'field' }, h('label', { for: 'search-end' }, 'To'), end),
      h('div', { class: 'field' }, h('label', { for: 'search-app' }, 'App'), app),
      h('div', { class: 'field' }, h('label', { for: 'search-sort' }, 'Order'), sort),
    ),
  );
  const summary = h('p', { class: 'search__summary muted', 'aria-live': 'polite' });
  const results = h('ol', { class: 'results', 'aria-label': 'Search results' });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, 'More results');
  const message = h('div', { class: 'search__message' });
  const relatedList = h('ol', { class: 'results results--related', 'aria-label': 'Related frames' });
  const related = h(
    'section',
    { class: 'related', hidden: true, 'aria-labelledby': 'related-title' },
    h('h2', { id: 'related-title', class: 'related__title' }, 'Related'),
    h('p', { class: 'muted' }, 'Close in meaning, without your words: shown apart from the matches.'),
    relatedList,
  );
  root.append(h('div', { class: 'page' }, pageTitle('Search'), form, summary, message, results, h('div', { class: 'list-foot' }, more), related));

  // Fill the form from the URL.
  const fromUrlTime = (value: string | null) => {
    if (!value) return '';
    const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Date.parse(value) / 1000;
    return Number.isFinite(n) ? toLocalInput(n) : '';
  };
  start.value = fromUrlTime(params.get('start'));
  end.value = fromUrlTime(params.get('end'));
  sort.value = params.get('sort') === 'time' ? 'time' : 'relevance';

  const ready = Promise.all([
    getCapabilities().then((caps) => {
      for (const m of caps.search_modes) mode.append(h('option', { value: m }, MODE_LABELS[m] ?? m));
      const requested = params.get('mode');
      mode.value = caps.search_modes.some((m) => m === requested) ? requested! : caps.default_search_mode;
      modeField.hidden = caps.search_modes.length < 2;
    }),
    api<AppList>('/api/apps')
      .then((list) => {
        for (const a of list.apps) app.append(h('option', { value: a.app }, `${a.app} (${a.count.toLocaleString()})`));
      })
      .catch(() => {})
      .then(() => {
        const wanted = params.get('app');
        if (wanted && ![...app.options].some((o) => o.value === wanted)) app.append(h('option', { value: wanted }, wanted));
        app.value = wanted ?? '';
      }),
  ]);

  function currentQuery() {
    const startTs = fromLocalInput(start.value);
    const endTs = fromLocalInput(end.value);
    return {
      q: q.value.trim(),
      mode: modeField.hidden ? undefined : mode.value,
      start: startTs === undefined ? undefined : Math.floor(startTs),
      // "To 14:05" includes the whole minute.
      end: endTs === undefined ? undefined : Math.floor(endTs) + 59,
      app: app.value || undefined,
      // Set by a frame's "Frames from this page" link (no field of its own).
      url: params.get('url') || undefined,
      sort: sort.value === 'time' ? 'time' : undefined,
    };
  }

  function urlFor(qs: ReturnType<typeof currentQuery>): string {
    // The URL keeps the dates as typed (local time), which reads well in a bookmark.
    return `/search${query({ q: qs.q, mode: qs.mode, start: start.value || undefined, end: end.value || undefined, app: qs.app, url: qs.url, sort: qs.sort }) || '?q='}`;
  }

  function resultItem(result: SearchResult): HTMLElement {
    const snippet = h('p', { class: 'result__snippet' });
    // The server escapes the text and adds only <mark>: this is the one place the UI inserts HTML.
    snippet.innerHTML = result.snippet;
    return h(
      'li',
      { class: 'result', 'data-id': result.id },
      h('a', { class: 'result__thumb', href: `/entry/${result.id}`, tabindex: -1, 'aria-hidden': 'true' }, thumbnail(result.thumbnail_url)),
      h(
        'div',
        { class: 'result__body' },
        h('h2', { class: 'result__title' }, h('a', { href: `/entry/${result.id}` }, result.title || 'Untitled window')),
        h(
          'p',
          { class: 'result__meta muted' },
          h('span', null, result.app ?? 'Unknown app'),
          ' · ',
          h('time', { datetime: isoTime(result.timestamp) }, formatFull(result.timestamp)),
          result.moment ? momentLabel(result.moment) : null,
          result.status !== 'COMPLETED' ? badge(result.status) : null,
        ),
        snippet,
      ),
    );
  }

  let offset = 0;
  async function run(append: boolean): Promise<void> {
    controller?.abort();
    controller = new AbortController();
    const qs = currentQuery();
    if (!append) offset = 0;
    form.setAttribute('aria-busy', 'true');
    if (!append) summary.textContent = 'Searching…';
    try {
      const response = await api<SearchResponse>(`/api/search${query({ ...qs, limit: PAGE, offset })}`, { signal: controller.signal });
      if (stopped) return;
      message.replaceChildren();
      if (!append) results.replaceChildren();
      results.append(...response.results.map(resultItem));
      if (!append) {
        relatedList.replaceChildren(...(response.related ?? []).map(resultItem));
        related.hidden = !response.related?.length;
      }
      offset = response.offset + response.results.length;
      // Results fold into moments, so a page can hold fewer results than frames counted.
      more.hidden = offset >= response.total || response.results.length < PAGE;
      if (response.total === 0) {
        summary.textContent = '';
        message.replaceChildren(
          h(
            'div',
            { class: 'empty' },
            h('p', { class: 'empty__title' }, qs.q ? `Nothing matches “${qs.q}”` : 'No frames match these filters'),
            h('p', null, 'Try another word or a shorter one, widen the time range, or choose all apps.'),
          ),
        );
      } else {
        summary.textContent = `${response.total.toLocaleString()} ${response.total === 1 ? 'frame' : 'frames'}${qs.q ? ` for “${qs.q}”` : ''}`;
      }
    } catch (e) {
      if ((e as Error).name === 'AbortError' || stopped) return;
      summary.textContent = '';
      if (!append) results.replaceChildren();
      more.hidden = true;
      const text =
        e instanceof ApiRequestError && e.status === 404 && e.message.startsWith('no route')
          ? 'Search is not available on this server.'
          : e instanceof ApiRequestError && e.status === 400
            ? `Check the search: ${e.message}`
            : `Search failed: ${(e as Error).message}`;
      message.replaceChildren(h('p', { class: 'error', role: 'alert' }, text));
    } finally {
      form.removeAttribute('aria-busy');
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    pushUrl(urlFor(currentQuery()));
    void run(false);
  });
  for (const control of [mode, app, sort]) {
    control.addEventListener('change', () => {
      if (!new URL(location.href).searchParams.has('q')) return;
      pushUrl(urlFor(currentQuery()));
      void run(false);
    });
  }
  more.addEventListener('click', () => void run(true));

  if (params.has('q')) void ready.then(() => (stopped ? undefined : run(false)));
  else {
    message.replaceChildren(
      h(
        'div',
        { class: 'empty' },
        h('p', { class: 'empty__title' }, 'Search everything you have seen'),
        h('p', null, 'Type a word from any screen. Leave it empty to list frames by the filters alone.'),
      ),
    );
    q.focus();
  }

  return () => {
    stopped = true;
    controller?.abort();
  };
}
