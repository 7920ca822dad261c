import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { CONTENT_SECURITY_POLICY } from '../security.js';

/** Where `npm run build` puts the UI: dist/web, found from this file in src/ (tsx) or in dist/. */
export const DEFAULT_WEB_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist/web');

/** The pages of the single-page UI; each serves index.html and the browser renders the page. */
const PAGES = ['/', '/timeline', '/search', '/ask', '/queue', '/activity', '/settings', '/entry/:id'];

// The Content-Security-Policy and the other security headers are set on every response (../security.ts);
// the page repeats the policy so the HTML is never served without it.

function sendHtml(reply: FastifyReply, html: string, status = 200) {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

/** Serves the built web UI: its pages on the same port as the API, assets with long-lived caching. */
export function webRoutes(options: { webDir?: string } = {}) {
  const webDir = options.webDir ?? DEFAULT_WEB_DIR;
  return async function webPlugin(app: FastifyInstance): Promise<void> {
    const indexFile = path.join(webDir, 'index.html');
    const assetsDir = path.join(webDir, 'assets');
    const notBuilt =
      '<!doctype html><meta charset="utf-8"><title>OpenRecall</title><p>The web interface has not been built. Run <code>npm run build</code>, then reload.</p>';
    // Read on each request (a 1 KB file): a rebuild while the server runs is picked up at the next page load.
    const page = async (reply: FastifyReply, status: number) => {
      try {
        return sendHtml(reply, await fs.promises.readFile(indexFile, 'utf8'), status);
      } catch {
        return sendHtml(reply, notBuilt, 503);
      }
    };

    fs.mkdirSync(assetsDir, { recursive: true });
    // Asset names carry a content hash, so they never change: cache them for a year.
    await app.register(fastifyStatic, {
      root: assetsDir,
      prefix: '/assets/',
      index: false,
      immutable: true,
      maxAge: '365d',
      decorateReply: false,
      setHeaders: (res) => res.setHeader('x-content-type-options', 'nosniff'),
    });

    app.get('/favicon.ico', { schema: { hide: true } }, async (_request, reply) => {
      const icon = (await fs.promises.readdir(assetsDir)).find((name) => name.startsWith('icon-') && name.endsWith('.svg'));
      if (!icon) return reply.callNotFound();
      return reply
        .type('image/svg+xml')
        .header('cache-control', 'public, max-age=86400')
        .send(await fs.promises.readFile(path.join(assetsDir, icon)));
    });

    for (const pattern of PAGES) {
      app.get(pattern, { schema: { hide: true } }, async (_request, reply) => page(reply, 200));
    }

    // Any other address answers the usual JSON 404, except a browser navigating to a mistyped page (it asks for
    // HTML), which gets the UI and its "not found" page. /api and /assets are always JSON.
    app.get('/*', { schema: { hide: true } }, async (request, reply) => {
      const pathname = request.url.split('?')[0]!;
      const api = pathname.startsWith('/api/') || pathname === '/api' || pathname.startsWith('/assets/');
      if (api || !(request.headers.accept ?? '').includes('text/html')) return reply.callNotFound();
      return page(reply, 404);
    });
  };
}
