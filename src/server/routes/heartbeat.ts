import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CaptureClient, ClientList, ClientParams, HeartbeatBody, HeartbeatResponse, PauseBody } from '../../api/index.js';
import { isMyRecallV3, myRecallV3Id, myRecallV3State, selfReport } from '../../services/myrecall-heartbeat.js';
import type { ClientsService } from '../../services/clients-service.js';
import { errorResponses } from '../schemas.js';

/** POST /api/heartbeat (Python and TypeScript clients) and the clients list with its pause switches. */
export function heartbeatRoutes(clients: ClientsService) {
  return async function heartbeatPlugin(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.post(
      '/api/heartbeat',
      {
        schema: {
          summary: 'A capture client calls in; the answer says whether to record and upload',
          tags: ['capture control'],
          body: HeartbeatBody,
          response: { 200: HeartbeatResponse, ...errorResponses(400, 401) },
        },
        // The Python client posts without a body.
        preValidation: async (request) => {
          request.body ??= {};
        },
      },
      async (request) => {
        const body = request.body;
        const myRecallV3 = body.client_id === undefined && isMyRecallV3(body);
        const id = body.client_id ?? (myRecallV3 ? myRecallV3Id(body, request.ip) : `python@${request.ip}`);
        const config = await clients.heartbeat({
          id,
          kind: body.client_id ? 'openrecall' : myRecallV3 ? 'myrecall-v3' : 'python',
          host: body.host ?? null,
          version: body.version ?? null,
          address: request.ip,
          heartbeat_seconds: body.heartbeat_seconds ?? null,
          paused: body.paused ?? (body.config?.recording_enabled === undefined ? null : !body.config.recording_enabled),
          state: body.state ?? (myRecallV3 ? myRecallV3State(body) : null),
          buffer_bytes: body.buffer_bytes ?? null,
          buffer_items: body.buffer_items ?? null,
          report: myRecallV3 ? JSON.stringify(selfReport(body)) : null,
        });
        return { status: 'ok' as const, client_id: id, client_online: true, config };
      },
    );
    api.get(
      '/api/clients',
      { schema: { summary: 'Capture clients that have called in, newest first', tags: ['capture control'], response: { 200: ClientList } } },
      async () => ({ clients: await clients.list() }),
    );
    api.post(
      '/api/clients/:id/paused',
      {
        schema: {
          summary: 'Pause or resume one client (it obeys at its next heartbeat)',
          tags: ['capture control'],
          params: ClientParams,
          body: PauseBody,
          response: { 200: CaptureClient, ...errorResponses(400, 401, 404) },
        },
      },
      async (request) => clients.setPaused(request.params.id, request.body.paused),
    );
    api.post(
      '/api/clients/paused',
      {
        schema: {
          summary: 'Pause or resume every client (sets recording_enabled)',
          tags: ['capture control'],
          body: PauseBody,
          response: { 200: ClientList, ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        await clients.setAllPaused(request.body.paused);
        return { clients: await clients.list() };
      },
    );
  };
}
