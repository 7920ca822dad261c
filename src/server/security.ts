import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../services/auth-service.js';
import type { HostPolicy } from './allowed-hosts.js';

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

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route checks a token of its own (the worker file API with OPENRECALL_WORKER_TOKEN), not the API token. */
    ownToken?: boolean;
  }
}

/** Routes open without the token: liveness (status and version only) and the token-for-cookie exchange, which checks the token itself. */
const OPEN_ROUTES = new Set(['/api/health', '/api/session']);

/** The header the web UI sends with every request: a page elsewhere cannot add it without a CORS preflight, which it never gets. */
export const CSRF_HEADER = 'x-openrecall-csrf';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Body types a plain HTML form (or a "simple" cross-site fetch) can send without a preflight, and any multipart. */
const FORM_TYPES = /^\s*(multipart\/[^;\s]*|application\/x-www-form-urlencoded|text\/plain)\s*(;|$)/i;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route takes multipart/form-data (uploads). Every other route answers 415 to it, before parsing. */
    acceptsMultipart?: boolean;
  }
}

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

/** The port the request arrived on (the server's own), or the listening one for an in-process request. */
export function localPort(request: FastifyRequest): number | undefined {
  const port = request.raw.socket?.localPort;
  if (port !== undefined) return port;
  const address = request.server.server.address();
  return address !== null && typeof address === 'object' ? address.port : undefined;
}

/** https when the connection is TLS, or (OPENRECALL_TRUST_PROXY) when the proxy in front says it was. */
export function isHttps(request: FastifyRequest, trustProxy: boolean): boolean {
  if ((request.raw.socket as { encrypted?: boolean } | undefined)?.encrypted) return true;
  const forwarded = request.headers['x-forwarded-proto'];
  return trustProxy && typeof forwarded === 'string' && forwarded.split(',')[0]!.trim().toLowerCase() === 'https';
}

function refuse(reply: FastifyReply, status: number, error: string, message: string) {
  return reply.code(status).header('cache-control', 'no-store').send({ statusCode: status, error, message });
}

/**
 * Hooks on the root instance (so they cover every route, 404s and errors), in order: the Host and Origin a
 * browser sent (DNS rebinding, other sites), form bodies (cross-site posts), the token, and for a cookie the
 * proof that the UI itself sent a state change. Security headers go on every answer.
 */
export function installSecurity(app: FastifyInstance, auth: Pick<AuthService, 'enabled' | 'authenticate'>, hosts: HostPolicy): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    return payload;
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const port = localPort(request);
    const host = request.headers.host;
    if (!hosts.allowsHost(host, port)) {
      return refuse(
        reply,
        421,
        'HOST_NOT_ALLOWED',
        host === undefined
          ? 'send a Host header naming this server'
          : `this server does not answer to Host '${host.slice(0, 200)}': add it to OPENRECALL_ALLOWED_HOSTS (comma-separated) to allow it`,
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined && !hosts.allowsOrigin(origin, port)) {
      return refuse(
        reply,
        403,
        'ORIGIN_NOT_ALLOWED',
        `requests from the web page at '${origin.slice(0, 200)}' are not allowed: add its host to OPENRECALL_ALLOWED_HOSTS (comma-separated) to allow it`,
      );
    }
    if (SAFE_METHODS.has(request.method)) return;
    const type = request.headers['content-type'];
    if (type !== undefined && FORM_TYPES.test(type) && !(request.routeOptions.config?.acceptsMultipart && /^\s*multipart\/form-data/i.test(type))) {
      const kind = /^\s*multipart\//i.test(type) ? 'multipart' : 'form';
      return refuse(reply, 415, 'UNSUPPORTED_MEDIA_TYPE', `this route takes JSON (Content-Type: application/json), not a ${kind} body`);
    }
  });
  if (!auth.enabled) return;
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!requiresToken(request.routeOptions.url) || request.routeOptions.config.ownToken) return;
    const how = await auth.authenticate(request.headers);
    if (how === 'cookie' && !SAFE_METHODS.has(request.method) && request.headers.origin === undefined && request.headers[CSRF_HEADER] === undefined) {
      return refuse(reply, 403, 'CSRF', `a change made with the session cookie must come from the web UI: send an Origin or ${CSRF_HEADER} header`);
    }
    if (how) return;
    const offered = request.headers.authorization !== undefined || (request.headers.cookie ?? '').includes('openrecall_session=');
    return sendUnauthorized(
      reply,
      offered ? 'the API token (or session) is not valid' : 'this server requires its API token: send Authorization: Bearer <OPENRECALL_API_TOKEN>',
    );
  });
}
