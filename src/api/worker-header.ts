/**
 * The header naming the worker (its id, as its claims record it). Its own module: the API client sends it, and
 * every CLI command loads the client; the schemas of `worker-files.ts` would bring TypeBox into each of them.
 */
export const WORKER_ID_HEADER = 'x-openrecall-worker';
