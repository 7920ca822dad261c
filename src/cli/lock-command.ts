import { ApiClient, ApiClientError } from '../api-client/client.js';
import { UsageError } from './usage-error.js';

/**
 * `openrecall lock`: the running server (OPENRECALL_API_URL, with OPENRECALL_API_TOKEN when it needs one) stops
 * serving the memory, closes its database, stops its processor and zeroes its keys, then serves the unlock page.
 */
export async function lockCommand(args: string[]): Promise<number> {
  if (args.length > 0) throw new UsageError(`unknown option ${args[0]}; usage: openrecall lock`);
  const client = ApiClient.fromEnv();
  try {
    const result = await client.lock();
    const how =
      result.unlock_with === 'passphrase'
        ? '`openrecall unlock` (or the web page) with its passphrase'
        : '`openrecall unlock` (the server reads its key file or keyring again) or its passphrase if it has one';
    console.log(`locked: the server's keys are wiped from memory; unlock with ${how}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ApiClientError)) throw error;
    if (error.status === 423) {
      console.log(`the server at ${client.baseUrl} is locked already`);
      return 0;
    }
    console.error(`openrecall: ${error.message}`);
    return 1;
  }
}
