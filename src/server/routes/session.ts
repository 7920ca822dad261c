import type { FastifyInstance } from 'fastify';
import { bearerToken, type AuthService } from '../../services/auth-service.js';
import { sendUnauthorized } from '../security.js';
import { errorResponses, Session } from '../../api/index.js';

/**
 * POST /api/session: the web UI sends the token once (Authorization: Bearer) and gets an HttpOnly,
 * SameSite=Strict cookie that authenticates its later requests, images included.
 */
export async function sessionRoutes(app: FastifyInstance, options: { auth: AuthService }): Promise<void> {
  const { auth } = options;
  app.post(
    '/api/session',
    {
      schema: {
        summary: 'Exchange the API token (Authorization: Bearer) for an HttpOnly session cookie, for browsers',
        tags: ['system'],
        response: { 200: Session, ...errorResponses(401) },
      },
    },
    async (request, reply) => {
      if (!auth.enabled) return { auth_required: false, authenticated: true };
      if (!auth.verifyToken(bearerToken(request.headers.authorization))) {
        return sendUnauthorized(
          reply,
          request.headers.authorization === undefined ? 'send the API token as Authorization: Bearer <token> to open a session' : 'the API token is not valid',
        );
      }
      reply.header('set-cookie', auth.sessionCookie()).header('cache-control', 'no-store');
      return { auth_required: true, authenticated: true };
    },
  );
}
