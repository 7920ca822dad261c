import { parseArgs } from 'node:util';
import { apiUrl } from '../config.js';
import { readSecret } from './read-secret.js';
import { UsageError } from './usage-error.js';

const USAGE = 'usage: openrecall unlock [--passphrase]';

/**
 * `openrecall unlock`: unlocks a server running locked, through the same POST /api/unlock as the unlock page. It
 * first asks the server to open its configured source again (a server with a key file or the OS keyring, locked with
 * `openrecall lock`); when only a passphrase opens the data dir (or with --passphrase), the passphrase is asked for
 * without echo, or read as the first line of stdin.
 */
export async function unlockCommand(args: string[]): Promise<number> {
  let values: { passphrase?: boolean };
  try {
    ({ values } = parseArgs({ args, options: { passphrase: { type: 'boolean' } }, allowPositionals: false }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}; ${USAGE}`);
  }
  const base = apiUrl();
  const post = async (body: { passphrase?: string }): Promise<Response | undefined> => {
    try {
      return await fetch(`${base}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    } catch (error) {
      console.error(`openrecall: no server answers at ${base} (${(error as Error).message}); set OPENRECALL_API_URL`);
      return undefined;
    }
  };
  let response = values.passphrase ? undefined : await post({});
  if (!values.passphrase && !response) return 1;
  const needsPassphrase = async (answer: Response | undefined) =>
    answer === undefined ||
    (answer.status === 400 &&
      (
        (await answer
          .clone()
          .json()
          .catch(() => ({}))) as { error?: string }
      ).error === 'PASSPHRASE_NEEDED');
  if (await needsPassphrase(response)) {
    response = await post({ passphrase: await readSecret('passphrase: ') });
    if (!response) return 1;
  }
  const answer = response!;
  if (answer.ok) {
    console.log('unlocked: the server is starting with the keys');
    return 0;
  }
  const body = (await answer.json().catch(() => ({}))) as { message?: string };
  if (answer.status === 404) console.error(`openrecall: the server at ${base} is not locked`);
  else console.error(`openrecall: ${body.message ?? `unlock refused (HTTP ${answer.status})`}`);
  return 1;
}
