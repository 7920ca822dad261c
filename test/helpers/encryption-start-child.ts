// The start of an entry point, as the server and worker run it: settings from the environment, then
// openEncryption, then the store with the database key. A ConfigError stops it with one line and exit status 2
// (as src/cli.ts does). Prints one JSON line on success.
//   node --import tsx test/helpers/encryption-start-child.ts [passphrase]
import crypto from 'node:crypto';
import path from 'node:path';
import { ConfigError, loadServerConfig } from '../../src/config.js';
import { openEncryption } from '../../src/encryption/open-encryption.js';
import { openStore } from '../../src/store/open-store.js';
import { StoreOpenError } from '../../src/store/ports.js';

const passphrase = process.argv[2];
try {
  const config = loadServerConfig();
  const opened = await openEncryption(config.encryption!, config.dataDir);
  if (opened.encrypted && opened.locked && passphrase === undefined) {
    console.log(JSON.stringify({ state: 'locked' }));
    process.exit(0);
  }
  const keys = !opened.encrypted ? undefined : opened.locked ? await opened.unlock(passphrase!) : opened.keys;
  const store = await openStore({ sqliteFile: path.join(config.dataDir, 'db', 'recall.db'), dataDir: config.dataDir, databaseKey: keys?.databaseKey });
  await store.close();
  const fingerprint = keys ? crypto.createHash('sha256').update(keys.databaseKey.key).digest('hex').slice(0, 16) : null;
  console.log(JSON.stringify({ state: keys ? 'open' : 'plain', source: keys?.source ?? null, fingerprint }));
} catch (error) {
  if (error instanceof ConfigError || error instanceof StoreOpenError || (error as Error).name === 'WrongPassphraseError') {
    console.error(`openrecall: ${(error as Error).message}`);
    process.exit(2);
  }
  throw error;
}
