import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { ConfigUpdate, RuntimeConfig, type ServerSetting, ServerSettings } from '../../api/index.js';
import type { ClientsService } from '../../services/clients-service.js';
import { errorResponses } from '../schemas.js';

/** The Python client's GET/POST /api/config, and the server's effective settings for the Settings page. */
export function configRoutes(clients: ClientsService, serverSettings: () => ServerSetting[]) {
  return async function configPlugin(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/api/config',
      {
        schema: {
          summary: 'Runtime settings the capture clients obey, and whether a client is online',
          tags: ['capture control'],
          response: { 200: RuntimeConfig },
        },
      },
      async () => clients.config(),
    );
    api.post(
      '/api/config',
      {
        schema: {
          summary: 'Change runtime settings (any subset); kept across restarts',
          tags: ['capture control'],
          body: ConfigUpdate,
          response: { 200: RuntimeConfig, ...errorResponses(400, 401) },
        },
      },
      async (request) => {
        const { client_online: _online, last_heartbeat: _last, ...patch } = request.body;
        return clients.updateConfig(patch);
      },
    );
    api.get(
      '/api/settings',
      { schema: { summary: "The server's effective settings (read-only; secrets never shown)", tags: ['capture control'], response: { 200: ServerSettings } } },
      async () => ({ settings: serverSettings() }),
    );
  };
}
