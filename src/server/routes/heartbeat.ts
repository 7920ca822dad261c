import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ClientsService } from '../../services/clients-service.js';
import { errorResponses } from '../schemas.js';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(schema: T) => Type.Union([schema, Type.Null()]);

export const HeartbeatBody = Type.Object(
  {
    client_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', description: 'Stable id of the client (printable ASCII); none: known by its address' }),
    ),
    host: Type.Optional(Type.String({ maxLength: 255, description: 'Host name of the machine it captures' })),
    version: Type.Optional(Type.String({ maxLength: 64 })),
    paused: Type.Optional(Type.Boolean({ description: 'Capture is paused (by the user or the server)' })),
    state: Type.Optional(Type.String({ maxLength: 32, description: 'capturing, paused, idle, locked, excluded...' })),
    buffer_bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Bytes of frames not yet uploaded' })),
    buffer_items: Type.Optional(Type.Integer({ minimum: 0, description: 'Frames not yet uploaded' })),
    heartbeat_seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400, description: 'Seconds between heartbeats' })),
  },
  { additionalProperties: false, description: "Optional: the Python client sends no body (it is then known by its address)" },
);

export const ClientDirective = Type.Object({
  recording_enabled: Type.Boolean({ description: 'Capture (false: pause), for this client' }),
  upload_enabled: Type.Boolean(),
  ai_processing_enabled: Type.Boolean(),
  ui_show_ai: Type.Boolean(),
  revision: Type.Integer({ description: 'Grows with every change: apply a revision not applied yet' }),
});

const HeartbeatResponse = Type.Object({
  status: Type.Literal('ok'),
  client_id: Type.String(),
  client_online: Type.Boolean(),
  config: ClientDirective,
});

export const CaptureClient = Type.Object({
  id: Type.String(),
  kind: Type.String({ description: 'openrecall or python' }),
  host: Nullable(Type.String()),
  version: Nullable(Type.String()),
  address: Nullable(Type.String()),
  first_seen: Type.Number(),
  last_seen: Type.Number({ description: 'Latest heartbeat, Unix seconds' }),
  online: Type.Boolean(),
  paused: Type.Boolean({ description: 'Paused (as reported by the client, else as asked)' }),
  state: Nullable(Type.String()),
  buffer_bytes: Nullable(Type.Integer()),
  buffer_items: Nullable(Type.Integer()),
  pause_requested: Type.Boolean({ description: 'The server asks this client to pause' }),
});

const ClientParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
const PauseBody = Type.Object({ paused: Type.Boolean() }, { additionalProperties: false });

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
        const id = body.client_id ?? `python@${request.ip}`;
        const config = clients.heartbeat({
          id,
          kind: body.client_id ? 'openrecall' : 'python',
          host: body.host ?? null,
          version: body.version ?? null,
          address: request.ip,
          heartbeat_seconds: body.heartbeat_seconds ?? null,
          paused: body.paused ?? null,
          state: body.state ?? null,
          buffer_bytes: body.buffer_bytes ?? null,
          buffer_items: body.buffer_items ?? null,
        });
        return { status: 'ok' as const, client_id: id, client_online: true, config };
      },
    );
    api.get(
      '/api/clients',
      { schema: { summary: 'Capture clients that have called in, newest first', tags: ['capture control'], response: { 200: Type.Object({ clients: Type.Array(CaptureClient) }) } } },
      async () => ({ clients: clients.list() }),
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
          response: { 200: Type.Object({ clients: Type.Array(CaptureClient) }), ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        clients.setAllPaused(request.body.paused);
        return { clients: clients.list() };
      },
    );
  };
}
