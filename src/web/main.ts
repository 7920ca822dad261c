import { api, setTokenPrompt, type QueueStatus } from './api.js';
import { every, h, pageTitle } from './dom.js';
import { gridPage } from './pages/grid.js';
import { detailPage } from './pages/detail.js';
import { timelinePage } from './pages/timeline.js';
import { searchPage } from './pages/search.js';
import { askPage } from './pages/ask.js';
import { queuePage } from './pages/queue.js';
import { activityPage } from './pages/activity.js';
import { settingsPage } from './pages/settings.js';
import { match, navigate, onNavigate, type Cleanup, type Page } from './router.js';

const pages: Record<string, Page> = {
  grid: gridPage,
  entry: detailPage,
  timeline: timelinePage,
  search: searchPage,
  ask: askPage,
  queue: queuePage,
  activity: activityPage,
  settings: settingsPage,
  'not-found': (root) => {
    document.title = 'Not found · OpenRecall';
    root.append(
      h(
        'div',
        { class: 'page' },
        pageTitle('Page not found'),
        h('p', { class: 'empty' }, 'There is nothing at this address. ', h('a', { href: '/' }, 'See recent frames'), '.'),
      ),
    );
  },
};

const main = document.getElementById('main')!;
let cleanup: Cleanup | void;

function show(url: URL, focus: boolean): void {
  const route = match(url);
  cleanup?.();
  cleanup = undefined;
  main.replaceChildren();
  for (const link of document.querySelectorAll<HTMLAnchorElement>('.nav__link')) {
    const active = link.dataset.nav === route.name || (route.name === 'entry' && link.dataset.nav === 'grid');
    if (active) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  cleanup = pages[route.name]!(main, route);
  // Move focus to the new page (for screen readers and keyboard users), unless the page chose a control itself.
  if (focus && !(document.activeElement && main.contains(document.activeElement) && document.activeElement !== main)) {
    const heading = main.querySelector<HTMLElement>('h1');
    (heading ?? main).focus({ preventScroll: true });
    window.scrollTo(0, 0);
  }
}

onNavigate(show);
window.addEventListener('popstate', () => show(new URL(location.href), true));

// Links inside the UI navigate without a reload; API links, downloads, new tabs and modified clicks are left alone.
document.addEventListener('click', (event) => {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const link = (event.target as Element | null)?.closest?.('a');
  if (!link || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/') || url.pathname.startsWith('/assets/')) return;
  event.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});

setTokenPrompt(
  () =>
    new Promise((resolve) => {
      const input = h('input', { type: 'password', id: 'token-input', autocomplete: 'current-password', required: true });
      const form = h(
        'form',
        { method: 'dialog', class: 'dialog__body' },
        h('h2', null, 'API token'),
        h('p', null, 'This OpenRecall server is protected by a token. Enter it once; this browser remembers it.'),
        h('label', { for: 'token-input' }, 'Token'),
        input,
        h('div', { class: 'dialog__actions' }, h('button', { type: 'submit', class: 'button button--primary', value: 'ok' }, 'Continue')),
      );
      const dialog = h('dialog', { class: 'dialog', 'aria-label': 'API token' }, form);
      dialog.addEventListener('close', () => {
        dialog.remove();
        resolve(input.value.trim() || null);
      });
      document.body.append(dialog);
      dialog.showModal();
    }),
);

// A failed frame needs the user: the Queue link shows how many there are, from every page.
const failedCount = document.getElementById('nav-queue-count');
if (failedCount) {
  every(5000, async () => {
    const { queue } = await api<QueueStatus>('/api/queue/status');
    failedCount.hidden = queue.failed === 0;
    failedCount.replaceChildren(queue.failed.toLocaleString(), h('span', { class: 'visually-hidden' }, ' failed'));
  });
}

show(new URL(location.href), false);
