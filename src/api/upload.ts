import { Type, type Static } from 'typebox';

export const UploadForm = Type.Object({
  // On the server, the file streamed to disk as it arrived (a ReceivedImage, checked by the isFile keyword).
  image: Type.Unsafe<unknown>({ isFile: true, description: 'PNG, JPEG or WebP screenshot (recognised from its bytes)' }),
  timestamp: Type.Number({ description: 'Capture time, Unix seconds (fraction allowed)' }),
  active_app: Type.String({ maxLength: 512, description: 'Application in the foreground' }),
  active_window: Type.String({ maxLength: 4096, description: 'Title of the active window' }),
  capture_id: Type.Optional(
    Type.String({ minLength: 1, maxLength: 128, pattern: '^[\\x21-\\x7e]+$', description: 'Client idempotency key (printable ASCII)' }),
  ),
  monitor: Type.Optional(Type.Integer({ minimum: 0, maximum: 255, description: 'Monitor index' })),
  text: Type.Optional(
    Type.String({
      maxLength: 64 * 1024,
      description: "The screen's text as the client read it (e.g. accessibility): it becomes the frame's text; with a dozen words or more OCR is skipped",
    }),
  ),
  browser_url: Type.Optional(Type.String({ maxLength: 4096, description: 'URL of the page in the foreground browser (stored, searchable, a search filter)' })),
  buffer_bytes: Type.Optional(Type.Integer({ minimum: 0, description: "Bytes of unsent frames in the client's buffer (reported in /metrics)" })),
});
export type UploadForm = Static<typeof UploadForm>;

export const UploadAccepted = Type.Object({
  status: Type.Literal('accepted'),
  task_id: Type.Integer(),
  elapsed_ms: Type.Number(),
  debug: Type.Optional(Type.Object({ queue_size: Type.Integer(), processing_mode: Type.Union([Type.Literal('LIFO'), Type.Literal('FIFO')]) })),
});
export type UploadAccepted = Static<typeof UploadAccepted>;

export const UploadDuplicate = Type.Object({ status: Type.Literal('duplicate'), task_id: Type.Integer() });
export type UploadDuplicate = Static<typeof UploadDuplicate>;
