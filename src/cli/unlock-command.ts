import { apiUrl } from '../config.js';
import { readSecret } from './read-secret.js';
import { UsageError } from './usage-error.js';

/**
 * `openrecall unlock`: gives the passphrase to a server running locked (asked for without echo, or the first line of
 * stdin), the same POST /api/unlock as the unlock page.
 */
export async function unlockCommand(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`unknown option ${args[0]}; usage: openrecall unlock`);
  const base = apiUrl();
  const passphrase = await readSecret('passphrase: ');
  let response: Response;
  try {
    response = await fetch(`${base}/unlock`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passphrase }) });
  } catch (error) {
    console.error(`openrecall: no server answers at ${base} (${(error as Error).message}); set OPENRECALL_API_URL`);
    return 1;
  }
  if (response.ok) {
    console.log('unlocked: the server is starting with the keys');
    return 0;
  }
  const body = (await response.json().catch(() => ({}))) as { message?: string };
  if (response.status === 404) console.error(`openrecall: the server at ${base} is not locked`);
  else console.error(`openrecall: ${body.message ?? `unlock refused (HTTP ${response.status})`}`);
  return 1;
}
