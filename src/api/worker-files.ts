import { Type, type Static } from 'typebox';

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

export const DataFileWritten = Type.Object({ path: Type.String(), bytes: Type.Integer() }, { description: 'The file as stored' });
export type DataFileWritten = Static<typeof DataFileWritten>;

export const DataFileRemoved = Type.Object({ path: Type.String(), removed: Type.Boolean() });
export type DataFileRemoved = Static<typeof DataFileRemoved>;
