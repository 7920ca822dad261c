import { Type, type Static } from 'typebox';
import { WORKER_ID_HEADER } from './worker-header.js';

export { WORKER_ID_HEADER };

/** A file of the data dir, for `openrecall worker` processes that do not mount it. */
export const DataFileQuery = Type.Object({
  path: Type.String({
    minLength: 1,
    maxLength: 300,
    description:
      'Path relative to the data dir, as the frame rows store it: reading a frame (screenshots/…, compact/…), writing a processed frame or thumbnail (screenshots/YYYY/MM/DD/…, thumbnails/…), removing a processed upload (screenshots/incoming/…)',
  }),
});
export type DataFileQuery = Static<typeof DataFileQuery>;

/** A write or removal names the frame it is for: only the worker holding that frame's lease may make it. */
export const FrameFileQuery = Type.Object({
  frame: Type.Integer({ minimum: 1, description: 'The frame whose file this is (the worker must hold its lease)' }),
  path: DataFileQuery.properties.path,
});
export type FrameFileQuery = Static<typeof FrameFileQuery>;

export const WorkerHeaders = Type.Object({
  [WORKER_ID_HEADER]: Type.String({ minLength: 1, maxLength: 200, description: "The worker's id, as recorded with its claims" }),
});
export type WorkerHeaders = Static<typeof WorkerHeaders>;

export const WorkerPing = Type.Object({ ok: Type.Literal(true) }, { description: 'The worker may use the file API' });
export type WorkerPing = Static<typeof WorkerPing>;

export const DataFileWritten = Type.Object({ path: Type.String(), bytes: Type.Integer() }, { description: 'The file as stored' });
export type DataFileWritten = Static<typeof DataFileWritten>;

export const DataFileRemoved = Type.Object({ path: Type.String(), removed: Type.Boolean() });
export type DataFileRemoved = Static<typeof DataFileRemoved>;
