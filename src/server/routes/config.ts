import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { ClientsService } from '../../services/clients-service.js';
import type { ServerSetting } from '../../services/server-settings.js';
import { errorResponses } from '../schemas.js';

const settingFields = {
  recording_enabled: Type.Boolean({ description: 'Clients capture (false: every client pauses)' }),
  upload_enabled: Type.Boolean({ description: 'Clients upload their frames (false: they keep them in their buffer)' }),
  ai_processing_enabled: Type.Boolean({ description: "The Python client's AI processing switch (stored and reported)" }),
  ui_show_ai: Type.Boolean({ description: "The Python client's UI switch for AI descriptions (stored and reported)" }),
};

export const RuntimeConfig = Type.Object({
  ...settingFields,
  client_online: Type.Boolean({ description: 'A capture client called in recently' }),
  last_heartbeat: Type.Union([Type.Number(), Type.Null()], { description: 'Latest heartbeat of any client, Unix seconds' }),
});

const ConfigUpdate = Type.Object(
  {
    recording_enabled: Type.Optional(settingFields.recording_enabled),
    upload_enabled: Type.Optional(settingFields.upload_enabled),
    ai_processing_enabled: Type.Optional(settingFields.ai_processing_enabled),
    ui_show_ai: Type.Optional(settingFields.ui_show_ai),
    client_online: Type.Optional(Type.Boolean({ description: 'Read-only: ignored' })),
    last_heartbeat: Type.Optional(Type.Union([Type.Number(), Type.Null()], { description: 'Read-only: ignored' })),
  },
  { additionalProperties: false },
);

const ServerSettings = Type.Object({
  settings: Type.Array(Type.Object({ name: Type.String({ description: 'Environment variable' }), value: Type.String() }), {
    description: 'Effective values; secrets (token, API keys) only as "set" or "not set"',
  }),
});

/** The Python client's GET/POST /api/config, and the server's effective settings for the Settings page. */
export function configRoutes(clients: ClientsService, serverSettings: () => ServerSetting[]) {
  return async function configPlugin(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    api.get(
      '/api/config',
      { schema: { summary: 'Runtime settings the capture clients obey, and whether a client is online', tags: ['capture control'], response: { 200: RuntimeConfig } } },
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
