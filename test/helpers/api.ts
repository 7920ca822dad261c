import { uploadFrame, type UploadResponse } from '../../src/api-client/upload.js';

let counter = 0;

export interface TestFrame {
  image: Buffer;
  timestamp?: number;
  app?: string;
  title?: string;
  captureId?: string;
  monitor?: number;
}

/** Uploads through the same client code the capture client uses. */
export function upload(api: string, frame: TestFrame): Promise<UploadResponse> {
  return uploadFrame(api, {
    image: frame.image,
    contentType: 'image/png',
    timestamp: frame.timestamp ?? Date.now() / 1000 - 60 + counter++ / 1000,
    app: frame.app ?? 'TestApp',
    title: frame.title ?? 'Test window',
    ...(frame.captureId !== undefined ? { captureId: frame.captureId } : {}),
    ...(frame.monitor !== undefined ? { monitor: frame.monitor } : {}),
  });
}

export async function getJson<T = any>(url: string, init?: RequestInit): Promise<{ status: number; body: T }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** Polls until `check` returns a truthy value or the time runs out. */
export async function waitUntil<T>(check: () => Promise<T> | T, { timeoutMs = 120_000, intervalMs = 100, what = 'condition' } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function queueCounts(api: string) {
  return (await getJson<{ queue: { pending: number; processing: number; completed: number; failed: number } }>(`${api}/queue/status`)).body.queue;
}
