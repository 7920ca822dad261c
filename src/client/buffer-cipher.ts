import type { EncryptionConfig } from '../config.js';
import { EncryptionStartError, openEncryption } from '../encryption/open-encryption.js';
import type { FileCipher } from '../files/file-cipher.js';
import { plainCipher } from '../files/plain-cipher.js';

/**
 * The cipher of the capture client's buffer: with OPENRECALL_ENCRYPTION=on on the client's machine (which need
 * not be the server's), every buffered frame is sealed as a server seals its data dir. The buffer folder has its
 * own `encryption.json` (its data key, wrapped), made at the first encrypted start and opened by the same sources
 * as a server's: OPENRECALL_ENCRYPTION_KEY_FILE, else the OS keyring. Never a passphrase: the client runs
 * unattended (at login, under systemd, inside `openrecall start`) and nobody would be there to type it, so a
 * buffer only a passphrase opens is refused. A wrong key, a missing key file or a locked keyring stops the start
 * with one line (an EncryptionStartError) before the buffer is touched. Frames left plain from before encryption
 * was switched on are sealed when the buffer opens (buffer.ts).
 */
export async function openBufferCipher(config: EncryptionConfig, bufferDir: string): Promise<FileCipher> {
  const opened = await openEncryption(config, bufferDir, { sealsPlainFilesItself: true });
  if (!opened.encrypted) return plainCipher;
  if (opened.locked) {
    throw new EncryptionStartError(
      `${bufferDir} opens only with a passphrase, which the capture client cannot ask for (it runs unattended): set OPENRECALL_ENCRYPTION_KEY_FILE to a key file it was encrypted with`,
    );
  }
  return opened.keys.fileCipher;
}
