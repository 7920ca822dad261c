/**
 * The HTTP contract: every request and response schema of the API, in TypeBox. One schema validates the
 * request, serializes and documents the response (OpenAPI), and gives the type (Static) that routes,
 * services, the CLI, the capture client and the web UI (`import type` only) use.
 */
export * from './common.js';
export * from './entries.js';
export * from './upload.js';
export * from './queue.js';
export * from './storage.js';
export * from './search.js';
export * from './timeline.js';
export * from './system.js';
export * from './clients.js';
export * from './activity.js';
export * from './time.js';
export * from './entry-resource.js';
export * from './worker-files.js';
export * from './v1.js';
export * from './ask.js';
export * from './unlock.js';
