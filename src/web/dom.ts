// Tiny DOM helpers. Text always goes in as text nodes; the only HTML the UI inserts is the server's search snippet.
import type { Status } from './api.js';

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(parent: Node, children: (Child | Child[])[]): void {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
}

export function clear(el: Element): void {
  el.replaceChildren();
}

/** An inline SVG icon from a path list (no markup strings). */
export function icon(paths: string[], label?: string): SVGSVGElement {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  if (label) svg.setAttribute('aria-label', label);
  else svg.setAttribute('aria-hidden', 'true');
  for (const d of paths) {
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', d);
    svg.appendChild(path);
  }
  return svg;
}

export const ICONS = {
  left: ['M15 18l-6-6 6-6'],
  right: ['M9 18l6-6-6-6'],
  trash: ['M4 7h16', 'M10 11v6', 'M14 11v6', 'M6 7l1 13h10l1-13', 'M9 7V4h6v3'],
  retry: ['M20 11a8 8 0 1 0-2.3 5.7', 'M20 4v7h-7'],
  copy: ['M9 9h11v11H9z', 'M5 15H4V4h11v1'],
  zoomIn: ['M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14', 'M21 21l-5-5', 'M11 8v6', 'M8 11h6'],
  zoomOut: ['M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14', 'M21 21l-5-5', 'M8 11h6'],
  fit: ['M4 9V4h5', 'M20 9V4h-5', 'M4 15v5h5', 'M20 15v5h-5'],
  search: ['M11 4a7 7 0 1 0 0 14a7 7 0 1 0 0-14', 'M21 21l-5-5'],
  clock: ['M12 3a9 9 0 1 0 0 18a9 9 0 1 0 0-18', 'M12 7v5l3 2'],
  grid: ['M4 4h7v7H4z', 'M13 4h7v7h-7z', 'M4 13h7v7H4z', 'M13 13h7v7h-7z'],
  queue: ['M4 6h16', 'M4 12h16', 'M4 18h10'],
};

/** A page's heading; focusable (not tabbable) so the router can move focus to it after navigating. */
export function pageTitle(text: string): HTMLHeadingElement {
  return h('h1', { class: 'page__title', tabindex: -1 }, text);
}

/** The marker of a page that refreshes itself. */
export function liveIndicator(): HTMLSpanElement {
  return h('span', { class: 'live', title: 'Updated automatically' }, h('span', { class: 'live__dot', 'aria-hidden': 'true' }), 'Live');
}

export function badge(status: Status): HTMLSpanElement {
  return h('span', { class: `badge badge--${status.toLowerCase()}`, 'data-status': status }, status);
}

const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const fullFormat = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

export const formatTime = (ts: number) => timeFormat.format(ts * 1000);
export const formatFull = (ts: number) => fullFormat.format(ts * 1000);
export const isoTime = (ts: number) => new Date(ts * 1000).toISOString();

/** Local calendar day, for grouping. */
export function dayKey(ts: number): string {
  const d = new Date(ts * 1000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

export function dayLabel(ts: number): string {
  const key = dayKey(ts);
  const now = Date.now() / 1000;
  if (key === dayKey(now)) return 'Today';
  if (key === dayKey(now - 86400)) return 'Yesterday';
  return dayFormat.format(ts * 1000);
}

/** A duration for people: "42 s", "5 min", "3 h 12 min", "2 d 4 h". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GB`;
}

/** `datetime-local` input value (local time, minutes) for a Unix time, and back. */
export function toLocalInput(ts: number): string {
  const d = new Date(ts * 1000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function fromLocalInput(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/** A thumbnail that shows a quiet placeholder instead of a broken image when the server has none. */
export function thumbnail(src: string, alt = '', eager = false): HTMLImageElement {
  const img = h('img', { src, alt, loading: eager ? 'eager' : 'lazy', decoding: 'async', class: 'thumb' });
  img.addEventListener('error', () => img.classList.add('thumb--missing'), { once: true });
  return img;
}

/** Whether a key event should be left to the control that has focus (typing, selects, buttons with their own keys). */
export function isTyping(event: KeyboardEvent): boolean {
  const target = event.target as HTMLElement | null;
  if (!target) return false;
  if (target.isContentEditable) return true;
  const tag = target.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT';
}

let toastTimer: number | undefined;

/** A short message read out by screen readers. */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  const region = document.getElementById('toast');
  if (!region) return;
  region.textContent = message;
  region.dataset.kind = kind;
  region.classList.add('toast--visible');
  window.clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => region.classList.remove('toast--visible'), 4000);
}

/** Runs `task` now and then every `ms` while the page is visible; returns a stop function. */
export function every(ms: number, task: () => Promise<void> | void): () => void {
  let stopped = false;
  let running = false;
  let timer: number | undefined;
  const run = async () => {
    if (stopped || running) return;
    running = true;
    window.clearTimeout(timer);
    if (!document.hidden) {
      try {
        await task();
      } catch {
        // A failed poll is retried at the next tick; the page shows the error itself where it matters.
      }
    }
    running = false;
    if (!stopped) timer = window.setTimeout(run, ms);
  };
  const onVisible = () => {
    if (!document.hidden) void run();
  };
  document.addEventListener('visibilitychange', onVisible);
  void run();
  return () => {
    stopped = true;
    window.clearTimeout(timer);
    document.removeEventListener('visibilitychange', onVisible);
  };
}
