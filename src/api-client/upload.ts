import type { ErrorResponse, UploadAccepted, UploadDuplicate } from '../api/index.js';
import { bearer } from './auth.js';

type UploadAnswer = Partial<Omit<UploadAccepted, 'status'> & ErrorResponse> & { status?: (UploadAccepted | UploadDuplicate)['status'] };

/** The client side of POST /api/upload, shared by the capture client and `openrecall import` (through ApiClient). */
export interface FrameUpload {
  image: Buffer;
  /** MIME type of the image bytes (the server recognises the format from the bytes anyway). */
  contentType: string;
  timestamp: number;
  app: string;
  title: string;
  captureId?: string;
  monitor?: number;
  /** Bytes waiting in the sender's buffer (the server reports them in /metrics). */
  bufferBytes?: number;
}

export interface UploadResponse {
  status: number;
  /** 202 UploadAccepted, 200 UploadDuplicate, or an error (`message`); a body that is not JSON becomes `message`. */
  body: UploadAnswer;
  /** Seconds the server asked us to wait (Retry-After), when it said so. */
  retryAfter?: number;
}

export async function uploadFrame(
  apiUrl: string,
  frame: FrameUpload,
  options: { timeoutMs?: number; token?: string; signal?: AbortSignal } = {},
): Promise<UploadResponse> {
  const form = new FormData();
  form.append('image', new Blob([frame.image as Uint8Array<ArrayBuffer>], { type: frame.contentType }), `frame.${frame.contentType.split('/')[1] ?? 'bin'}`);
  form.append('timestamp', String(frame.timestamp));
  form.append('active_app', frame.app);
  form.append('active_window', frame.title);
  if (frame.captureId !== undefined) form.append('capture_id', frame.captureId);
  if (frame.monitor !== undefined) form.append('monitor', String(frame.monitor));
  if (frame.bufferBytes !== undefined) form.append('buffer_bytes', String(Math.max(0, Math.round(frame.bufferBytes))));
  const signals = [AbortSignal.timeout(options.timeoutMs ?? 30_000), ...(options.signal ? [options.signal] : [])];
  const response = await fetch(`${apiUrl}/upload`, {
    method: 'POST',
    body: form,
    headers: bearer(options.token),
    signal: AbortSignal.any(signals),
  });
  const text = await response.text();
  let body: UploadResponse['body'];
  try {
    body = JSON.parse(text) as UploadResponse['body'];
  } catch {
    body = { message: text.slice(0, 500) };
  }
  const retryAfter = Number(response.headers.get('retry-after'));
  return { status: response.status, body, ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfter } : {}) };
}
