import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../services/auth-service.js';

/**
 * The one Content-Security-Policy of the server, sent with every response: the UI's own scripts and styles
 * only (no inline code, no eval), images and API calls to this server only, never framed.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Routes open without the token: liveness (status and version only) and the token-for-cookie exchange, which checks the token itself. */
const OPEN_ROUTES = new Set(['/api/health', '/api/session']);

/**
 * Whether a matched route needs the token: every /api route but the open ones, and /metrics. The decision is
 * made on the route that matched (not the raw URL), so no spelling of a path (percent-encoding, case, dots)
 * reaches a protected handler unchecked. /mcp (the MCP server for AI assistants) reads everything: it needs it too. The UI shell (pages, /assets) and unmatched addresses (404) are open.
 */
export function requiresToken(routeUrl: string | undefined): boolean {
  if (routeUrl === undefined) return false;
  if (routeUrl === '/metrics' || routeUrl === '/mcp') return true;
  if (routeUrl.startsWith('/v1/')) return true; // MyRecall v3's routes read and write the same memory
  return (routeUrl === '/api' || routeUrl.startsWith('/api/')) && !OPEN_ROUTES.has(routeUrl);
}

export function sendUnauthorized(reply: FastifyReply, message: string) {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="OpenRecall"')
    .header('cache-control', 'no-store')
    .send({ statusCode: 401, error: 'UNAUTHORIZED', message });
}

/** Hooks on the root instance (so they cover every route, 404s and errors): token check first, headers on every answer. */
export function installSecurity(app: FastifyInstance, auth: AuthService): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    return payload;
  });
  if (!auth.enabled) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!requiresToken(request.routeOptions.url)) return;
    if (auth.isAuthorized(request.headers)) return;
    const offered = request.headers.authorization !== undefined || (request.headers.cookie ?? '').includes('openrecall_session=');
    return sendUnauthorized(
      reply,
      offered ? 'the API token (or session) is not valid' : 'this server requires its API token: send Authorization: Bearer <OPENRECALL_API_TOKEN>',
    );
  });
}
