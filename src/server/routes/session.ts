import type { FastifyInstance } from 'fastify';
import fastifyRateLimit from '@fastify/rate-limit';
import { AuthService, bearerToken } from '../../services/auth-service.js';
import { isHttps, sendUnauthorized } from '../security.js';
import { errorResponses, Session, SessionClosed } from '../../api/index.js';

/** Token guesses per client address per minute on POST /api/session (a person types it a few times at most). */
export const SESSION_ATTEMPTS_PER_MINUTE = 10;

/**
 * POST /api/session: the web UI sends the token once (Authorization: Bearer) and gets an HttpOnly,
 * SameSite=Strict cookie (Secure over HTTPS) that authenticates its later requests, images included.
 * POST /api/session/logout ends that session; POST /api/session/rotate ends every session.
 */
export async function sessionRoutes(app: FastifyInstance, options: { auth: AuthService; trustProxy: boolean }): Promise<void> {
  const { auth, trustProxy } = options;
  await app.register(fastifyRateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`too many attempts to open a session: retry in ${Math.ceil(context.ttl / 1000)} s`), {
        statusCode: 429,
        code: 'TOO_MANY_REQUESTS',
      }),
  });
  app.post(
    '/api/session',
    {
      schema: {
        summary: 'Exchange the API token (Authorization: Bearer) for an HttpOnly session cookie, for browsers',
        tags: ['system'],
        response: { 200: Session, ...errorResponses(401, 429) },
      },
      config: { rateLimit: { max: SESSION_ATTEMPTS_PER_MINUTE, timeWindow: 60_000 } },
    },
    async (request, reply) => {
      if (!auth.enabled) return { auth_required: false, authenticated: true };
      if (!auth.verifyToken(bearerToken(request.headers.authorization))) {
        return sendUnauthorized(
          reply,
          request.headers.authorization === undefined ? 'send the API token as Authorization: Bearer <token> to open a session' : 'the API token is not valid',
        );
      }
      reply.header('set-cookie', await auth.openSession(isHttps(request, trustProxy))).header('cache-control', 'no-store');
      return { auth_required: true, authenticated: true };
    },
  );
  app.post(
    '/api/session/logout',
    {
      schema: {
        summary: "End this browser's session: its cookie stops working, here and on every server of the database",
        tags: ['system'],
        response: { 200: SessionClosed, ...errorResponses(401, 403) },
      },
    },
    async (request, reply) => {
      const closed = await auth.closeSession(request.headers.cookie);
      reply.header('set-cookie', AuthService.clearedCookie(isHttps(request, trustProxy))).header('cache-control', 'no-store');
      return { revoked: closed ? ('this' as const) : ('none' as const) };
    },
  );
  app.post(
    '/api/session/rotate',
    {
      schema: {
        summary: 'Rotate the session secret: every session cookie stops working (the API token is unchanged)',
        tags: ['system'],
        response: { 200: SessionClosed, ...errorResponses(401, 403) },
      },
    },
    async (request, reply) => {
      if (!auth.enabled) return { revoked: 'none' as const };
      await auth.rotate();
      reply.header('set-cookie', AuthService.clearedCookie(isHttps(request, trustProxy))).header('cache-control', 'no-store');
      return { revoked: 'all' as const };
    },
  );
}
