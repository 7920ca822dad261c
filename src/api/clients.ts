import { Type, type Static } from 'typebox';
import { Nullable } from './common.js';

const count = (description: string) => Type.Optional(Type.Integer({ minimum: 0, description }));

/** What MyRecall v3's heartbeat adds (its recorder's HeartbeatThread); it owns its recording/upload switches. */
const myRecallV3Report = {
  capture_permission_status: Type.Optional(Type.String({ maxLength: 64, description: 'MyRecall v3: granted, denied_or_revoked, recovering…' })),
  capture_permission_reason: Type.Optional(Nullable(Type.String({ maxLength: 512 }))),
  last_permission_check_ts: Type.Optional(Nullable(Type.Union([Type.String({ maxLength: 64 }), Type.Number()]))),
  queue_depth: count("MyRecall v3: captures waiting in the client's trigger queue"),
  queue_capacity: count('MyRecall v3: size of that queue'),
  collapse_trigger_count: count('MyRecall v3: triggers merged into one capture'),
  overflow_drop_count: count('MyRecall v3: captures dropped because the queue was full'),
  capture_runtime: Type.Optional(
    Type.Object(
      {
        active_monitors: Type.Optional(Type.Array(Type.String({ maxLength: 128 }), { maxItems: 64, description: 'Devices it captures' })),
      },
      { additionalProperties: true, description: 'MyRecall v3: its capture state (kept as sent)' },
    ),
  ),
  config: Type.Optional(
    Type.Object(
      {
        recording_enabled: Type.Optional(Type.Boolean({ description: "The client's own recording switch" })),
        upload_enabled: Type.Optional(Type.Boolean({ description: "The client's own upload switch" })),
      },
      { additionalProperties: true, description: 'MyRecall v3: its own switches, which it reports and does not take from the server' },
    ),
  ),
};

/** What a MyRecall v3 client last reported about itself (GET /api/clients). */
export const ClientSelfReport = Type.Object({
  recording_enabled: Nullable(Type.Boolean()),
  upload_enabled: Nullable(Type.Boolean()),
  permission_status: Nullable(Type.String()),
  permission_reason: Nullable(Type.String()),
  queue_depth: Nullable(Type.Integer()),
  queue_capacity: Nullable(Type.Integer()),
  dropped: Nullable(Type.Integer({ description: 'Captures dropped (queue full)' })),
  collapsed: Nullable(Type.Integer({ description: 'Triggers merged' })),
  devices: Type.Array(Type.String()),
});
export type ClientSelfReport = Static<typeof ClientSelfReport>;

/** POST /api/heartbeat: a capture client's report (the Python client sends none). */
export const HeartbeatBody = Type.Object(
  {
    client_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[\\x21-\\x7e]+$',
        description: 'Stable id of the client (printable ASCII); none: known by its address',
      }),
    ),
    host: Type.Optional(Type.String({ maxLength: 255, description: 'Host name of the machine it captures' })),
    version: Type.Optional(Type.String({ maxLength: 64 })),
    paused: Type.Optional(Type.Boolean({ description: 'Capture is paused (by the user or the server)' })),
    state: Type.Optional(Type.String({ maxLength: 32, description: 'capturing, paused, idle, locked, excluded...' })),
    buffer_bytes: Type.Optional(Type.Integer({ minimum: 0, description: 'Bytes of frames not yet uploaded' })),
    buffer_items: Type.Optional(Type.Integer({ minimum: 0, description: 'Frames not yet uploaded' })),
    heartbeat_seconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 86_400, description: 'Seconds between heartbeats' })),
    ...myRecallV3Report,
  },
  { additionalProperties: false, description: 'Optional: the Python client sends no body (it is then known by its address)' },
);
export type HeartbeatBody = Static<typeof HeartbeatBody>;

/** What the server asks of one client: the runtime settings with the pause that applies to it, and their revision. */
export const ClientDirective = Type.Object({
  recording_enabled: Type.Boolean({ description: 'Capture (false: pause), for this client' }),
  upload_enabled: Type.Boolean(),
  ai_processing_enabled: Type.Boolean(),
  ui_show_ai: Type.Boolean(),
  revision: Type.Integer({ description: 'Grows with every change: apply a revision not applied yet' }),
});
export type ClientDirective = Static<typeof ClientDirective>;

export const HeartbeatResponse = Type.Object({
  status: Type.Literal('ok'),
  client_id: Type.String(),
  client_online: Type.Boolean(),
  config: ClientDirective,
});
export type HeartbeatResponse = Static<typeof HeartbeatResponse>;

/** A capture client that has called in (GET /api/clients). */
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
  obeys_server_pause: Type.Boolean({ description: 'false: the client owns its switches (MyRecall v3) and ignores a pause set here' }),
  self_report: Nullable(ClientSelfReport),
});
export type CaptureClient = Static<typeof CaptureClient>;

export const ClientList = Type.Object({ clients: Type.Array(CaptureClient) });
export type ClientList = Static<typeof ClientList>;

export const ClientParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });
export type ClientParams = Static<typeof ClientParams>;

export const PauseBody = Type.Object({ paused: Type.Boolean() }, { additionalProperties: false });
export type PauseBody = Static<typeof PauseBody>;

const settingFields = {
  recording_enabled: Type.Boolean({ description: 'Clients capture (false: every client pauses)' }),
  upload_enabled: Type.Boolean({ description: 'Clients upload their frames (false: they keep them in their buffer)' }),
  ai_processing_enabled: Type.Boolean({ description: "The Python client's AI processing switch (stored and reported)" }),
  ui_show_ai: Type.Boolean({ description: "The Python client's UI switch for AI descriptions (stored and reported)" }),
};

/** The Python client's runtime settings, kept by the server and obeyed by the clients. */
export const RuntimeSettings = Type.Object(settingFields);
export type RuntimeSettings = Static<typeof RuntimeSettings>;

/** GET /api/config: the runtime settings, and whether a client called in recently. */
export const RuntimeConfig = Type.Object({
  ...settingFields,
  client_online: Type.Boolean({ description: 'A capture client called in recently' }),
  last_heartbeat: Type.Union([Type.Number(), Type.Null()], { description: 'Latest heartbeat of any client, Unix seconds' }),
});
export type RuntimeConfig = Static<typeof RuntimeConfig>;

/** POST /api/config: any subset of the runtime settings (the read-only fields are accepted and ignored). */
export const ConfigUpdate = Type.Object(
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
export type ConfigUpdate = Static<typeof ConfigUpdate>;

/** One of the server's effective settings, named by the environment variable that sets it. */
export const ServerSetting = Type.Object({ name: Type.String({ description: 'Environment variable' }), value: Type.String() });
export type ServerSetting = Static<typeof ServerSetting>;

/** GET /api/settings. */
export const ServerSettings = Type.Object({
  settings: Type.Array(ServerSetting, {
    description: 'Effective values; secrets (token, API keys) only as "set" or "not set"',
  }),
});
export type ServerSettings = Static<typeof ServerSettings>;
