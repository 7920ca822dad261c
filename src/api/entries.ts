import { Type, type Static } from 'typebox';
import { Nullable, Status } from './common.js';

/** What redaction hid in a frame: how many values of which kinds (never the values themselves). */
export const RedactedSummary = Type.Object(
  {
    count: Type.Integer({ description: 'Values redacted (text, title, description; each covered in the image when on screen)' }),
    kinds: Type.Array(
      Type.Object({ kind: Type.String({ description: 'credential, private-key, card, iban, password, secret, email, phone, name' }), count: Type.Integer() }),
    ),
  },
  { description: 'N items redacted, by kind' },
);

export const Entry = Type.Object(
  {
    id: Type.Integer(),
    timestamp: Type.Number({ description: 'Capture time, Unix seconds' }),
    app: Nullable(Type.String()),
    title: Nullable(Type.String({ description: 'Window title' })),
    text: Nullable(Type.String({ description: 'OCR text' })),
    description: Nullable(Type.String({ description: 'AI description of the screen' })),
    status: Status,
    capture_id: Nullable(Type.String()),
    image_path: Nullable(Type.String({ description: 'Stored image, relative to the data dir' })),
    monitor: Nullable(Type.Integer()),
    width: Nullable(Type.Integer()),
    height: Nullable(Type.Integer()),
    bytes: Nullable(Type.Integer({ description: 'Size of the stored image' })),
    received_at: Nullable(Type.Number()),
    attempts: Type.Integer(),
    last_error: Nullable(Type.String()),
    processing_started_at: Nullable(Type.Number()),
    processing_finished_at: Nullable(Type.Number()),
    text_source: Type.Optional(Nullable(Type.String({ description: "'accessibility' or 'client': the client sent the text; null: OCR only" }))),
    browser_url: Type.Optional(Nullable(Type.String({ description: 'The page in the foreground browser, as the client reported it' }))),
    redaction_version: Type.Optional(Nullable(Type.Integer({ description: 'Redaction rules version applied to text and pixels; null: not redacted' }))),
    redacted: Type.Optional(RedactedSummary),
    image_url: Type.String(),
    thumbnail_url: Type.String(),
  },
  { $id: 'Entry' },
);
export type Entry = Static<typeof Entry>;

export const EntryIdParams = Type.Object({ id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
export type EntryIdParams = Static<typeof EntryIdParams>;

export const ListEntriesQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })),
  before_id: Type.Optional(Type.Integer({ minimum: 1, description: 'Return entries older than this id (next page)' })),
  after_id: Type.Optional(Type.Integer({ minimum: 0, description: 'Return entries newer than this id (live updates)' })),
  status: Type.Optional(Status),
  app: Type.Optional(Type.String({ maxLength: 512 })),
});
export type ListEntriesQuery = Static<typeof ListEntriesQuery>;

export const EntryList = Type.Object({
  entries: Type.Array(Type.Ref('Entry')),
  next_before_id: Nullable(Type.Integer({ description: 'Pass as before_id for the next page; null at the end' })),
});
/** The list refers to the shared Entry schema by id; the context resolves that reference in the type. */
export type EntryList = Static<typeof EntryList, { Entry: typeof Entry }>;

export const EntryDeleted = Type.Object({ deleted: Type.Integer() });
export type EntryDeleted = Static<typeof EntryDeleted>;

export const EntryRetried = Type.Object({ retried: Type.Integer() });
export type EntryRetried = Static<typeof EntryRetried>;
