import fs from 'node:fs';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import Database from 'better-sqlite3-multiple-ciphers';
import { uploadFrame, type UploadResponse } from '../../src/api-client/upload.js';

export const TOKEN = 'test-token-0123456789abcdef';
export const bearer = (token = TOKEN) => ({ authorization: `Bearer ${token}` });

let counter = 0;

/** Uploads through the client code (with the token unless told otherwise). */
export function uploadWithToken(
  api: string,
  image: Buffer,
  extra: { captureId?: string; token?: string | null; timestamp?: number } = {},
): Promise<UploadResponse> {
  const token = extra.token === undefined ? TOKEN : extra.token;
  return uploadFrame(
    api,
    {
      image,
      contentType: 'image/png',
      timestamp: extra.timestamp ?? Date.now() / 1000 - 60 + counter++ / 1000,
      app: 'TestApp',
      title: 'Test window',
      ...(extra.captureId !== undefined ? { captureId: extra.captureId } : {}),
    },
    token ? { token } : {},
  );
}

export async function getJsonAuthed<T = any>(url: string, token: string | null = TOKEN): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers: token ? bearer(token) : {} });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

export interface Row {
  id: number;
  capture_id: string | null;
  status: string;
  text: string | null;
  attempts: number;
  image_path: string | null;
  last_error: string | null;
}

/** The entries table, read with a connection of its own (the server may be running or dead). */
export function readRows(dataDir: string): Row[] {
  const db = new Database(path.join(dataDir, 'db', 'recall.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare('SELECT id, capture_id, status, text, attempts, image_path, last_error FROM entries ORDER BY id').all() as Row[];
  } finally {
    db.close();
  }
}

export const exists = (p: string) => fs.existsSync(p);

/** A PNG with every chunk well formed (CRCs right) but garbage where the IDAT's zlib stream should be. */
export function corruptZlibPng(png: Buffer): Buffer {
  const copy = Buffer.from(png);
  let offset = 8;
  while (offset < copy.length) {
    const length = copy.readUInt32BE(offset);
    const type = copy.toString('latin1', offset + 4, offset + 8);
    if (type === 'IDAT') {
      for (let i = offset + 8 + 2; i < offset + 8 + length; i++) copy[i] = (i * 37) & 0xff; // keep the 2-byte zlib header
      copy.writeUInt32BE(crc32(copy.subarray(offset + 4, offset + 8 + length)), offset + 8 + length);
      return copy;
    }
    offset += 12 + length;
  }
  throw new Error('no IDAT chunk');
}
