// Every frame in time order on one slider. Only the pages of frames around the slider are fetched (100 at a
// time, a bounded cache), and only the current frame's images load, so 50 000 frames scrub like 50.
import { api, ApiRequestError, type TimelineFrame, type TimelineLocated, type TimelinePage, type TimelineSummary } from '../api.js';
import { badge, formatFull, fromLocalInput, h, ICONS, icon, isTyping, isoTime, pageTitle, toLocalInput } from '../dom.js';
import { setUrl, type Route } from '../router.js';

const CHUNK = 100;
const MAX_CHUNKS = 60;
const STRIP = 4; // neighbours shown on each side

export function timelinePage(root: HTMLElement, route: Route): () => void {
  document.title = 'Timeline · OpenRecall';
  let stopped = false;
  let total = 0;
  let index = 0;
  const chunks = new Map<number, TimelineFrame[]>();
  const loadingChunks = new Map<number, Promise<TimelineFrame[] | undefined>>();

  const slider = h('input', { type: 'range', id: 'timeline-slider', class: 'slider', min: 0, max: 0, step: 1, value: 0, 'aria-label': 'Position in time' });
  const time = h('time', { class: 'scrub__time', id: 'timeline-time' });
  const meta = h('p', { class: 'scrub__meta' });
  const position = h('span', { class: 'scrub__position muted' });
  const open = h('a', { class: 'button button--small', href: '#', id: 'timeline-open' }, 'Open frame');
  const preview = h('img', { class: 'stage__preview', alt: '' });
  const full = h('img', { class: 'stage__full', alt: '' });
  const stage = h('a', { class: 'stage', href: '#', 'aria-label': 'Open this frame' }, preview, full);
  const strip = h('ol', { class: 'strip', 'aria-label': 'Neighbouring frames' });
  const older = h('button', { type: 'button', class: 'button button--icon', 'aria-label': 'Previous frame' }, icon(ICONS.left));
  const newer = h('button', { type: 'button', class: 'button button--icon', 'aria-label': 'Next frame' }, icon(ICONS.right));
  const jumpInput = h('input', { type: 'datetime-local', id: 'timeline-jump', step: 60 });
  const jump = h(
    'form',
    { class: 'jump' },
    h('label', { for: 'timeline-jump' }, 'Jump to'),
    jumpInput,
    h('button', { type: 'submit', class: 'button button--small' }, 'Go'),
    h('button', { type: 'button', class: 'button button--small', onclick: () => show(total - 1) }, 'Latest'),
  );
  const range = h('div', { class: 'scrub__range muted' }, h('span', { id: 'timeline-first' }), h('span', { id: 'timeline-last' }));
  const status = h('span', { class: 'scrub__status' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const body = h(
    'div',
    { class: 'timeline', hidden: true },
    h('div', { class: 'scrub__head' }, h('div', null, time, meta), h('div', { class: 'scrub__tools' }, status, position, open)),
    stage,
    h('div', { class: 'scrub' }, older, slider, newer),
    range,
    strip,
    jump,
  );
  const empty = h(
    'div',
    { class: 'empty', hidden: true },
    h('p', { class: 'empty__title' }, 'Nothing to scrub through yet'),
    h('p', null, 'The timeline fills as frames are captured.'),
  );
  root.append(
    h(
      'div',
      { class: 'page' },
      h(
        'div',
        { class: 'page__head' },
        pageTitle('Timeline'),
        h('p', { class: 'muted small' }, 'Drag the slider or use ← → (PageUp/PageDown, Home/End) to move through time.'),
      ),
      error,
      empty,
      body,
    ),
  );

  function chunkOf(i: number) {
    return Math.floor(i / CHUNK);
  }

  function cached(i: number): TimelineFrame | undefined {
    const chunk = chunks.get(chunkOf(i));
    if (!chunk) return undefined;
    // Refresh its place in the LRU order.
    chunks.delete(chunkOf(i));
    chunks.set(chunkOf(i), chunk);
    return chunk[i - chunkOf(i) * CHUNK];
  }

  function loadChunk(n: number): Promise<TimelineFrame[] | undefined> {
    if (chunks.has(n)) return Promise.resolve(chunks.get(n));
    let pending = loadingChunks.get(n);
    if (!pending) {
      pending = api<TimelinePage>(`/api/timeline/frames?offset=${n * CHUNK}&limit=${CHUNK}`)
        .then((page) => {
          chunks.set(n, page.frames);
          while (chunks.size > MAX_CHUNKS) chunks.delete(chunks.keys().next().value!);
          if (page.total !== total) resize(page.total);
          return page.frames;
        })
        .catch((e: unknown) => {
          showError(e);
          return undefined;
        })
        .finally(() => loadingChunks.delete(n));
      loadingChunks.set(n, pending);
    }
    return pending;
  }

  function resize(count: number): void {
    total = count;
    slider.max = String(Math.max(0, total - 1));
    empty.hidden = total > 0;
    body.hidden = total === 0;
    if (index > total - 1) show(Math.max(0, total - 1));
  }

  function showError(e: unknown): void {
    error.textContent = `Could not load the timeline: ${e instanceof Error ? e.message : String(e)}`;
    error.hidden = false;
  }

  // Images: the preview (thumbnail) follows the slider at once; one request at a time, always the latest wanted.
  let previewLoading = false;
  let previewWanted: string | undefined;
  function setPreview(src: string): void {
    previewWanted = src;
    if (previewLoading) return;
    if (preview.getAttribute('src') === src) return;
    previewLoading = true;
    preview.src = src;
  }
  const previewDone = () => {
    previewLoading = false;
    if (previewWanted && preview.getAttribute('src') !== previewWanted) setPreview(previewWanted);
  };
  preview.addEventListener('load', previewDone);
  preview.addEventListener('error', previewDone);

  let fullTimer: number | undefined;
  let stripTimer: number | undefined;
  let urlTimer: number | undefined;
  full.addEventListener('load', () => {
    if (full.dataset.id === String(cached(index)?.id)) stage.classList.add('stage--sharp');
  });

  function render(frame: TimelineFrame): void {
    time.textContent = formatFull(frame.timestamp);
    time.dateTime = isoTime(frame.timestamp);
    meta.textContent = `${frame.app ?? 'Unknown app'} · ${frame.title || 'Untitled window'}`;
    position.textContent = `${(frame.index + 1).toLocaleString()} / ${total.toLocaleString()}`;
    status.replaceChildren(frame.status === 'COMPLETED' ? '' : badge(frame.status));
    slider.setAttribute('aria-valuetext', `${formatFull(frame.timestamp)}, ${frame.app ?? ''}`);
    open.href = `/entry/${frame.id}`;
    stage.href = `/entry/${frame.id}`;
    stage.dataset.id = String(frame.id);
    preview.alt = `Screenshot at ${formatFull(frame.timestamp)}`;
    setPreview(frame.thumbnail_url);
    stage.classList.remove('stage--sharp');
    window.clearTimeout(fullTimer);
    // The full screenshot once the slider rests.
    fullTimer = window.setTimeout(() => {
      full.dataset.id = String(frame.id);
      full.src = frame.image_url;
      if (full.complete && full.naturalWidth) stage.classList.add('stage--sharp');
    }, 180);
    window.clearTimeout(stripTimer);
    stripTimer = window.setTimeout(() => void renderStrip(frame.index), 60);
    window.clearTimeout(urlTimer);
    urlTimer = window.setTimeout(() => setUrl(`/timeline?t=${frame.timestamp}`), 300);
  }

  async function renderStrip(center: number): Promise<void> {
    const from = Math.max(0, center - STRIP);
    const to = Math.min(total - 1, center + STRIP);
    await Promise.all([loadChunk(chunkOf(from)), loadChunk(chunkOf(to))]);
    if (stopped || center !== index) return;
    const items: HTMLElement[] = [];
    for (let i = from; i <= to; i++) {
      const frame = cached(i);
      if (!frame) continue;
      const img = h('img', { src: frame.thumbnail_url, alt: '', loading: 'lazy', decoding: 'async' });
      img.addEventListener('error', () => img.classList.add('thumb--missing'), { once: true });
      items.push(
        h(
          'li',
          { class: i === center ? 'strip__item strip__item--current' : 'strip__item' },
          h(
            'button',
            {
              type: 'button',
              'aria-label': `Frame at ${formatFull(frame.timestamp)}`,
              'aria-current': i === center ? 'true' : null,
              tabindex: -1,
              onclick: () => show(i),
            },
            img,
          ),
        ),
      );
    }
    strip.replaceChildren(...items);
  }

  /** Moves to a position: instant from the cache, else as soon as its page arrives (latest move wins). */
  function show(i: number): void {
    if (total === 0) return;
    index = Math.min(Math.max(0, Math.round(i)), total - 1);
    if (slider.valueAsNumber !== index) slider.value = String(index);
    older.disabled = index === 0;
    newer.disabled = index === total - 1;
    const frame = cached(index);
    if (frame) render(frame);
    else {
      position.textContent = `${(index + 1).toLocaleString()} / ${total.toLocaleString()}`;
      const wanted = index;
      void loadChunk(chunkOf(index)).then(() => {
        const loaded = cached(wanted);
        if (!stopped && wanted === index && loaded) render(loaded);
      });
    }
    // Read ahead in the direction of travel so holding a key never waits.
    const n = chunkOf(index);
    const offset = index - n * CHUNK;
    if (offset >= CHUNK / 2 && (n + 1) * CHUNK < total) void loadChunk(n + 1);
    if (offset < CHUNK / 2 && n > 0) void loadChunk(n - 1);
  }

  async function locate(params: string): Promise<void> {
    try {
      const found = await api<TimelineLocated>(`/api/timeline/locate?${params}`);
      if (stopped) return;
      error.hidden = true;
      resize(found.total);
      const n = chunkOf(found.frame.index);
      if (!chunks.has(n)) await loadChunk(n);
      show(found.frame.index);
    } catch (e) {
      if (e instanceof ApiRequestError && e.status === 404 && params.startsWith('id=')) {
        error.textContent = 'That frame no longer exists; showing the latest instead.';
        error.hidden = false;
        show(total - 1);
      } else if (!(e instanceof ApiRequestError && e.status === 404)) showError(e);
    }
  }

  slider.addEventListener('input', () => show(slider.valueAsNumber));
  older.addEventListener('click', () => show(index - 1));
  newer.addEventListener('click', () => show(index + 1));
  jump.addEventListener('submit', (event) => {
    event.preventDefault();
    const t = fromLocalInput(jumpInput.value);
    if (t !== undefined) void locate(`t=${t}`);
  });

  // Arrow keys scrub from anywhere on the page (the slider handles them itself when focused).
  const onKey = (event: KeyboardEvent) => {
    if (event.target === slider || isTyping(event) || event.altKey || event.ctrlKey || event.metaKey || document.querySelector('dialog[open]')) return;
    const moves: Record<string, number> = { ArrowLeft: -1, ArrowRight: 1, PageUp: -10, PageDown: 10 };
    if (event.key in moves) {
      event.preventDefault();
      show(index + moves[event.key]!);
    } else if (event.key === 'Home' || event.key === 'End') {
      event.preventDefault();
      show(event.key === 'Home' ? 0 : total - 1);
    }
  };
  document.addEventListener('keydown', onKey);

  void (async () => {
    try {
      const summary = await api<TimelineSummary>('/api/timeline');
      if (stopped) return;
      resize(summary.count);
      if (summary.count === 0) return;
      (document.getElementById('timeline-first') as HTMLElement).textContent = formatFull(summary.first_timestamp!);
      (document.getElementById('timeline-last') as HTMLElement).textContent = formatFull(summary.last_timestamp!);
      jumpInput.min = toLocalInput(summary.first_timestamp!);
      jumpInput.max = toLocalInput(summary.last_timestamp! + 60);
      const id = route.query.get('id');
      const t = route.query.get('t');
      if (id) await locate(`id=${encodeURIComponent(id)}`);
      else if (t) await locate(`t=${encodeURIComponent(t)}`);
      else {
        index = summary.count - 1;
        await loadChunk(chunkOf(index));
        show(index);
      }
      if (!stopped) slider.focus({ preventScroll: true });
    } catch (e) {
      showError(e);
    }
  })();

  return () => {
    stopped = true;
    window.clearTimeout(fullTimer);
    window.clearTimeout(stripTimer);
    window.clearTimeout(urlTimer);
    document.removeEventListener('keydown', onKey);
  };
}
