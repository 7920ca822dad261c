import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { KEY_BYTES, type DatabaseCipher } from './data-key.js';
import type { KeySourceKind } from './key-record.js';
import { keysOfSubkeys, type EncryptionKeys } from './open-encryption.js';
import { secretBytes, wipe } from './secret-bytes.js';

/**
 * How the server hands its processor child the subkeys: the raw bytes (files key, then database key) on a pipe of
 * their own, the child's fd 4, read straight into secretBytes buffers. Not the fork IPC channel: a message there is
 * serialised into buffers, copied into read buffers and parsed into new ones, copies nobody can zero, which outlived
 * `openrecall lock` in the server's heap.
 */
export const KEY_PIPE_FD = 4;

/** What the processor's start message says about its keys: everything but the bytes. */
export interface PipedKeys {
  databaseCipher: DatabaseCipher;
  source: KeySourceKind;
}

/** Writes the keys on `pipe` (the child's KEY_PIPE_FD, its parent's end) and closes it. */
export function sendKeys(pipe: Writable, keys: EncryptionKeys): PipedKeys {
  // The child gone early (EPIPE) is the supervisor's to see, on its exit.
  pipe.on('error', () => {});
  const { files, database } = keys.subkeys();
  // The live buffers themselves: a stream write holds them until written (no copy), and a short write to an
  // empty pipe is done at once.
  pipe.write(files);
  pipe.write(database);
  pipe.end();
  return { databaseCipher: keys.databaseKey.cipher, source: keys.source };
}

/** In the processor child: the keys its server wrote on `fd`, which is closed after. */
export async function receiveKeys(piped: PipedKeys, fd = KEY_PIPE_FD): Promise<EncryptionKeys> {
  const files = secretBytes(KEY_BYTES);
  const database = secretBytes(KEY_BYTES);
  try {
    await readFully(fd, files);
    await readFully(fd, database);
  } catch (error) {
    wipe(files, database);
    throw error;
  } finally {
    fs.closeSync(fd);
  }
  return keysOfSubkeys({ files, database }, piped.source, piped.databaseCipher);
}

async function readFully(fd: number, into: Buffer): Promise<void> {
  for (let at = 0; at < into.length; ) {
    const read = await readSome(fd, into, at);
    if (read === 0) throw new Error('the key pipe closed before the keys were read');
    at += read;
  }
}

/** One read(2) into `into` at `at`; a non-blocking pipe with nothing yet is read again a moment later. */
function readSome(fd: number, into: Buffer, at: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, into, at, into.length - at, null, (error, bytesRead) => {
      if (error?.code === 'EAGAIN') setTimeout(() => readSome(fd, into, at).then(resolve, reject), 5);
      else if (error) reject(error);
      else resolve(bytesRead);
    });
  });
}
