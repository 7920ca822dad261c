// One frame: the zoomable screenshot, its OCR text and description, facts, neighbours, delete and retry.
import { api, ApiRequestError, getCapabilities, type Entry, type EntryList } from '../api.js';
import { badge, every, formatBytes, formatFull, h, ICONS, icon, isTyping, isoTime, pageTitle, toast } from '../dom.js';
import { navigate, type Route } from '../router.js';

const ZOOM_STEPS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4];

export function detailPage(root: HTMLElement, route: Route): () => void {
  const id = Number(route.params.id);
  const page = h('div', { class: 'page page--detail' });
  root.append(page);
  let stopped = false;
  let stopLive: (() => void) | undefined;
  let current: Entry | undefined;
  const cleanups: (() => void)[] = [];

  page.append(pageTitle(`Frame ${id}`), h('p', { class: 'loading' }, 'Loading…'));

  async function load(): Promise<void> {
    try {
      const entry = await api<Entry>(`/api/entries/${id}`);
      if (stopped) return;
      render(entry);
      if (entry.status === 'PENDING' || entry.status === 'PROCESSING') watch();
    } catch (e) {
      if (stopped) return;
      page.replaceChildren(
        pageTitle(e instanceof ApiRequestError && e.status === 404 ? 'Frame not found' : 'Could not load this frame'),
        h(
          'p',
          { class: 'error', role: 'alert' },
          e instanceof ApiRequestError && e.status === 404 ? `There is no frame ${id}; it may have been deleted.` : (e as Error).message,
        ),
        h('p', null, h('a', { href: '/' }, 'Back to recent frames')),
      );
    }
  }

  /** Follows a frame that is still in the queue until it is done. */
  function watch(): void {
    stopLive?.();
    stopLive = every(1500, async () => {
      const entry = await api<Entry>(`/api/entries/${id}`);
      if (stopped || !current) return;
      if (entry.status !== current.status || entry.text !== current.text) render(entry);
      if (entry.status !== 'PENDING' && entry.status !== 'PROCESSING') stopLive?.();
    });
  }

  function render(entry: Entry): void {
    const first = !current;
    current = entry;
    document.title = `${entry.title || entry.app || `Frame ${entry.id}`} · OpenRecall`;
    const focused = document.activeElement;
    const keepFocus = focused instanceof HTMLElement && page.contains(focused) ? focused.dataset.focusKey : undefined;
    for (const fn of cleanups.splice(0)) fn();

    const viewer = imageViewer(entry);
    cleanups.push(viewer.cleanup);
    const older = h('a', { class: 'button', href: '#', 'aria-disabled': 'true', 'data-focus-key': 'older' }, icon(ICONS.left), 'Older');
    const newer = h('a', { class: 'button', href: '#', 'aria-disabled': 'true', 'data-focus-key': 'newer' }, 'Newer', icon(ICONS.right));
    void neighbours(entry.id, older, newer);

    const actions = h('div', { class: 'actions' });
    if (entry.status === 'FAILED') {
      actions.append(
        h(
          'button',
          { type: 'button', class: 'button button--primary', 'data-focus-key': 'retry', onclick: () => void retry(entry) },
          icon(ICONS.retry),
          'Retry',
        ),
      );
    }
    actions.append(
      h(
        'button',
        { type: 'button', class: 'button button--danger', 'data-focus-key': 'delete', onclick: () => void remove(entry) },
        icon(ICONS.trash),
        'Delete',
      ),
    );

    const text = entry.text?.trim();
    const copy = h('button', { type: 'button', class: 'button button--small', 'data-focus-key': 'copy', disabled: !text }, icon(ICONS.copy), 'Copy text');
    const ocr = h('pre', { class: 'ocr', tabindex: 0, 'aria-label': 'Recognised text' }, text || '');
    copy.addEventListener('click', () => void copyText(ocr, copy));

    const facts = h('dl', { class: 'facts' });
    const fact = (name: string, ...value: (Node | string)[]) => facts.append(h('dt', null, name), h('dd', null, ...value));
    fact('Status', badge(entry.status));
    fact('App', entry.app ? h('a', { href: `/search?q=&app=${encodeURIComponent(entry.app)}` }, entry.app) : 'Unknown');
    fact('Window', entry.title || 'Untitled');
    fact('Captured', h('time', { datetime: isoTime(entry.timestamp) }, formatFull(entry.timestamp)));
    if (entry.monitor !== null) fact('Monitor', String(entry.monitor));
    if (entry.browser_url)
      fact('Page', pageLink(entry.browser_url), ' · ', h('a', { href: `/search?q=&url=${encodeURIComponent(entry.browser_url)}` }, 'Frames from this page'));
    if (entry.text_source) fact('Text', entry.text_source === 'accessibility' ? "From the client's accessibility tree" : 'Sent by the client');
    if (entry.width && entry.height) fact('Size', `${entry.width} × ${entry.height}${entry.bytes ? ` · ${formatBytes(entry.bytes)}` : ''}`);
    if (entry.attempts) fact('Attempts', String(entry.attempts));
    if (entry.redacted?.count) {
      const kinds = entry.redacted.kinds.map((k) => `${k.count} ${k.kind}`).join(', ');
      fact('Redacted', `${entry.redacted.count} item${entry.redacted.count === 1 ? '' : 's'} redacted (${kinds})`);
    }
    if (entry.processing_finished_at && entry.status === 'COMPLETED' && entry.processing_started_at) {
      fact(
        'Processed',
        `${formatFull(entry.processing_finished_at)} (${Math.max(0, entry.processing_finished_at - entry.processing_started_at).toFixed(1)} s)`,
      );
    }

    const description = h(
      'section',
      { class: 'panel', hidden: true },
      h('h2', { class: 'panel__title' }, 'Description'),
      h('p', { class: 'description' }, entry.description ?? ''),
    );
    if (entry.description) {
      void getCapabilities().then((caps) => {
        if (caps.show_ai_description) description.hidden = false;
      });
    }

    page.replaceChildren(
      h(
        'div',
        { class: 'detail__head' },
        h(
          'div',
          null,
          pageTitle(entry.title || 'Untitled window'),
          h('p', { class: 'muted' }, `${entry.app ?? 'Unknown app'} · ${formatFull(entry.timestamp)}`),
        ),
        h('nav', { class: 'pager', 'aria-label': 'Neighbouring frames' }, older, newer),
      ),
      h(
        'div',
        { class: 'detail' },
        viewer.el,
        h(
          'div',
          { class: 'detail__side' },
          entry.status === 'FAILED' ? h('p', { class: 'error', role: 'alert' }, `Processing failed: ${entry.last_error ?? 'unknown error'}`) : null,
          entry.status === 'PENDING' || entry.status === 'PROCESSING'
            ? h('p', { class: 'notice' }, entry.status === 'PENDING' ? 'Waiting in the queue for text recognition…' : 'Recognising text…')
            : null,
          h('section', { class: 'panel' }, facts, actions, h('p', { class: 'muted small' }, h('a', { href: `/timeline?id=${entry.id}` }, 'Show in timeline'))),
          description,
          h(
            'section',
            { class: 'panel' },
            h('div', { class: 'panel__head' }, h('h2', { class: 'panel__title' }, 'Text'), copy),
            text
              ? ocr
              : h(
                  'p',
                  { class: 'muted' },
                  entry.status === 'COMPLETED'
                    ? 'No text was recognised on this screen.'
                    : entry.status === 'FAILED'
                      ? 'No text: processing did not finish.'
                      : 'Not recognised yet.',
                ),
          ),
        ),
      ),
    );
    if (first) page.querySelector<HTMLElement>('h1')?.focus({ preventScroll: true });
    else if (keepFocus) page.querySelector<HTMLElement>(`[data-focus-key="${keepFocus}"]`)?.focus();
  }

  async function neighbours(entryId: number, older: HTMLAnchorElement, newer: HTMLAnchorElement): Promise<void> {
    const [before, after] = await Promise.all([
      api<EntryList>(`/api/entries?before_id=${entryId}&limit=1`).catch(() => undefined),
      api<EntryList>(`/api/entries?after_id=${entryId}&limit=1`).catch(() => undefined),
    ]);
    if (stopped) return;
    const link = (a: HTMLAnchorElement, target: Entry | undefined, name: string) => {
      if (!target) return;
      a.href = `/entry/${target.id}`;
      a.removeAttribute('aria-disabled');
      a.title = `${name} frame: ${target.title ?? ''}`;
    };
    link(older, before?.entries[0], 'Older');
    link(newer, after?.entries.at(-1), 'Newer');
  }

  async function retry(entry: Entry): Promise<void> {
    try {
      await api(`/api/entries/${entry.id}/retry`, { method: 'POST' });
      toast(`Frame ${entry.id} is queued again`);
      const fresh = await api<Entry>(`/api/entries/${entry.id}`);
      if (stopped) return;
      render(fresh);
      watch();
    } catch (e) {
      toast(`Retry failed: ${(e as Error).message}`, 'error');
    }
  }

  async function remove(entry: Entry): Promise<void> {
    const ok = await confirmDialog(
      'Delete this frame?',
      'Its screenshot, thumbnail and recognised text are removed from this computer. This cannot be undone.',
      'Delete frame',
    );
    if (!ok) return;
    try {
      await api(`/api/entries/${entry.id}`, { method: 'DELETE' });
      toast(`Frame ${entry.id} deleted`);
      navigate('/');
    } catch (e) {
      toast(
        e instanceof ApiRequestError && e.status === 409
          ? 'This frame is being processed right now; try again in a moment.'
          : `Could not delete: ${(e as Error).message}`,
        'error',
      );
    }
  }

  const onKey = (event: KeyboardEvent) => {
    if (isTyping(event) || event.altKey || event.ctrlKey || event.metaKey || document.querySelector('dialog[open]')) return;
    const target = event.key === 'ArrowLeft' ? 'older' : event.key === 'ArrowRight' ? 'newer' : undefined;
    if (!target) return;
    const link = page.querySelector<HTMLAnchorElement>(`[data-focus-key="${target}"]:not([aria-disabled])`);
    if (link) {
      event.preventDefault();
      navigate(link.getAttribute('href')!);
    }
  };
  document.addEventListener('keydown', onKey);
  page.addEventListener('click', (event) => {
    const link = (event.target as Element).closest('a[aria-disabled]');
    if (link) event.preventDefault();
  });

  void load();
  return () => {
    stopped = true;
    stopLive?.();
    for (const fn of cleanups) fn();
    document.removeEventListener('keydown', onKey);
  };
}

/** The screenshot at "fit" or at a zoom level, scrollable when larger than its frame. */
function imageViewer(entry: Entry): { el: HTMLElement; cleanup: () => void } {
  const img = h('img', { src: entry.image_url, alt: `Screenshot: ${entry.title ?? entry.app ?? 'frame'}`, class: 'viewer__image' });
  const frame = h('div', { class: 'viewer__frame viewer__frame--fit', tabindex: 0, 'aria-label': 'Screenshot; + and − zoom, 0 fits' }, img);
  const level = h('output', { class: 'viewer__level', 'aria-live': 'polite' }, 'Fit');
  let zoom: number | null = null; // null = fit to the frame

  const apply = () => {
    frame.classList.toggle('viewer__frame--fit', zoom === null);
    if (zoom === null) {
      img.style.removeProperty('width');
      const fitted = img.naturalWidth ? img.clientWidth / img.naturalWidth : undefined;
      level.textContent = fitted ? `${Math.round(fitted * 100)} %` : 'Fit';
    } else {
      img.style.setProperty('width', `${Math.round((img.naturalWidth || entry.width || 1280) * zoom)}px`);
      level.textContent = `${Math.round(zoom * 100)} %`;
    }
  };
  const currentScale = () => zoom ?? img.clientWidth / (img.naturalWidth || entry.width || img.clientWidth || 1);
  const step = (direction: 1 | -1) => {
    const scale = currentScale();
    const next = direction > 0 ? ZOOM_STEPS.find((z) => z > scale + 0.01) : [...ZOOM_STEPS].reverse().find((z) => z < scale - 0.01);
    zoom = next ?? (direction > 0 ? ZOOM_STEPS.at(-1)! : ZOOM_STEPS[0]!);
    apply();
  };
  const fit = () => {
    zoom = null;
    apply();
  };

  img.addEventListener('click', (event) => {
    if (zoom === null) {
      const rect = img.getBoundingClientRect();
      const fx = (event.clientX - rect.left) / rect.width;
      const fy = (event.clientY - rect.top) / rect.height;
      zoom = 1;
      apply();
      frame.scrollLeft = fx * img.clientWidth - frame.clientWidth / 2;
      frame.scrollTop = fy * img.clientHeight - frame.clientHeight / 2;
    } else fit();
  });
  img.addEventListener('load', apply);
  img.addEventListener('error', () => frame.replaceChildren(h('p', { class: 'muted viewer__missing' }, 'The screenshot is not available.')), { once: true });
  frame.addEventListener('keydown', (event) => {
    if (event.key === '+' || event.key === '=') step(1);
    else if (event.key === '-') step(-1);
    else if (event.key === '0') fit();
    else return;
    event.preventDefault();
  });

  const controls = h(
    'div',
    { class: 'viewer__controls', role: 'group', 'aria-label': 'Zoom' },
    h('button', { type: 'button', class: 'button button--icon', 'aria-label': 'Zoom out', onclick: () => step(-1) }, icon(ICONS.zoomOut)),
    level,
    h('button', { type: 'button', class: 'button button--icon', 'aria-label': 'Zoom in', onclick: () => step(1) }, icon(ICONS.zoomIn)),
    h('button', { type: 'button', class: 'button button--small', onclick: fit }, icon(ICONS.fit), 'Fit'),
    h('button', { type: 'button', class: 'button button--small', onclick: () => ((zoom = 1), apply()) }, '100 %'),
    h('a', { class: 'button button--small', href: entry.image_url, target: '_blank', rel: 'noopener' }, 'Open image'),
  );
  return { el: h('section', { class: 'viewer', 'aria-label': 'Screenshot' }, controls, frame), cleanup: () => {} };
}

async function copyText(source: HTMLElement, button: HTMLButtonElement): Promise<void> {
  const text = source.textContent ?? '';
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission: select the text so the user can copy it with the keyboard.
    const range = document.createRange();
    range.selectNodeContents(source);
    const selection = getSelection();
    selection?.removeAllRanges();
    selection?.addRange(range);
    toast('Text selected: press Ctrl+C to copy');
    return;
  }
  toast('Text copied');
  button.blur();
  button.focus();
}

/** A modal confirmation; resolves true when the user confirms. Escape and Cancel resolve false. */
export function confirmDialog(title: string, message: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'submit', class: 'button', value: 'cancel', autofocus: true }, 'Cancel');
    const confirm = h('button', { type: 'submit', class: 'button button--danger', value: 'confirm' }, confirmLabel);
    const titleId = `dialog-title-${Date.now()}`;
    const dialog = h(
      'dialog',
      { class: 'dialog', 'aria-labelledby': titleId },
      h(
        'form',
        { method: 'dialog', class: 'dialog__body' },
        h('h2', { id: titleId }, title),
        h('p', null, message),
        h('div', { class: 'dialog__actions' }, cancel, confirm),
      ),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      resolve(dialog.returnValue === 'confirm');
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** A web page as a link (it opens outside OpenRecall); any other scheme stays plain text. */
function pageLink(url: string): Node | string {
  return /^https?:\/\//i.test(url) ? h('a', { href: url, rel: 'noreferrer noopener', target: '_blank' }, url) : url;
}
