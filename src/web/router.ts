// History-API routing: each page renders into <main> and returns a cleanup that stops its timers.

export interface Route {
  name: string;
  params: Record<string, string>;
  query: URLSearchParams;
}

export type Cleanup = () => void;
export type Page = (root: HTMLElement, route: Route) => Cleanup | void;

const routes: { name: string; pattern: RegExp; keys: string[] }[] = [
  { name: 'grid', pattern: /^\/$/, keys: [] },
  { name: 'timeline', pattern: /^\/timeline\/?$/, keys: [] },
  { name: 'search', pattern: /^\/search\/?$/, keys: [] },
  { name: 'ask', pattern: /^\/ask\/?$/, keys: [] },
  { name: 'queue', pattern: /^\/queue\/?$/, keys: [] },
  { name: 'activity', pattern: /^\/activity\/?$/, keys: [] },
  { name: 'settings', pattern: /^\/settings\/?$/, keys: [] },
  { name: 'entry', pattern: /^\/entry\/(\d+)\/?$/, keys: ['id'] },
];

export function match(url: URL): Route {
  for (const route of routes) {
    const m = route.pattern.exec(url.pathname);
    if (m) return { name: route.name, params: Object.fromEntries(route.keys.map((k, i) => [k, m[i + 1]!])), query: url.searchParams };
  }
  return { name: 'not-found', params: {}, query: url.searchParams };
}

let render: (url: URL, focus: boolean) => void = () => {};

export function onNavigate(handler: (url: URL, focus: boolean) => void): void {
  render = handler;
}

/** Goes to a page of the UI without reloading. */
export function navigate(to: string, { replace = false } = {}): void {
  const url = new URL(to, location.href);
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render(url, true);
}

/** Changes the address (a bookmarkable state such as a query) without rendering the page again. */
export function setUrl(to: string): void {
  const url = new URL(to, location.href);
  if (url.href !== location.href) history.replaceState(null, '', url);
}

export function pushUrl(to: string): void {
  const url = new URL(to, location.href);
  if (url.href !== location.href) history.pushState(null, '', url);
}
