import { LocalModelError } from './ai/local-embeddings.js';
import { ApiClientError } from './api-client/client.js';
import { UsageError } from './cli/usage-error.js';
import { ConfigError } from './config.js';
import { useOwnerOnlyUmask } from './files/owner-only.js';
import { StoreOpenError } from './store/ports.js';
import { VERSION } from './version.js';

const USAGE = `openrecall ${VERSION}: a private, self-hosted memory of your screen

Usage: openrecall <command> [options]

Commands:
  start            run the server (and, where a display is available, the capture client)
  server           run the server only [--no-processing: ingest and serve; workers process]
  worker           process frames (OCR, AI) for servers sharing OPENRECALL_DATABASE_URL and the data dir
  client [status]  run the capture client (or show the running one's status)
  pause            pause capture (the running client; a client started later starts paused)
  resume           resume capture
  status [--json]  show the running server's queue
  import <dir|zip> ingest a folder of PNG/JPEG/WebP screenshots, or a zip written by export
  search <query>   search your history [--app A --window W --since T --until T --mode M --limit N --json]
  backfill         add AI descriptions/embeddings to frames processed before a provider was configured
  redact           redact passwords, keys and card numbers in frames stored before redaction (text and images)
  compact          compact every processed frame now (shared tiles; OPENRECALL_COMPACT_AFTER_MINUTES does it in the background)
  export --since T --until T <file>  write frames (images, metadata, text) to a zip
  prune [--dry-run]  apply retention (OPENRECALL_RETENTION_DAYS, OPENRECALL_MAX_STORAGE_GB) now, or show what it would delete
  migrate-db --to postgres://user@host:5432/db  copy this data dir's SQLite database into PostgreSQL (resumable)
  repage-db        rewrite a plain database made before 8 KB pages in 8 KB ones (~20 % smaller; stop the server first)
  rekey --to passphrase|keyring|key-file [--key-file PATH] [--only]  change what opens an encrypted data dir (its data is not rewritten)
  encrypt [--to passphrase|keyring|key-file] [--key-file PATH]  encrypt a plain data dir in place (resumable; stop the server first)
  lock             wipe the running server's keys from its memory (an encrypted data dir): it serves the unlock page until unlocked
  unlock [--passphrase]  unlock a locked server: its key file or keyring read again, or the passphrase (asked without echo, or read from stdin)
  mcp              MCP server over stdio for AI assistants (relays to the running server's /mcp)
  doctor [--json]  check this machine's setup (display, data dir, disk, server, token, OCR) and say what to fix
  help             show this help

Configuration comes from OPENRECALL_* environment variables; see README.md.`;

type Command = (args: string[]) => Promise<number | void>;

const commands: Record<string, () => Promise<Command>> = {
  server: async () => (await import('./cli/server-command.js')).serverCommand,
  start: async () => (await import('./cli/server-command.js')).startCommand,
  worker: async () => (await import('./cli/worker-command.js')).workerCommand,
  status: async () => (await import('./cli/status-command.js')).statusCommand,
  import: async () => (await import('./cli/import-command.js')).importCommand,
  search: async () => (await import('./cli/search-command.js')).searchCommand,
  backfill: async () => (await import('./cli/backfill-command.js')).backfillCommand,
  redact: async () => (await import('./cli/redact-command.js')).redactCommand,
  prune: async () => (await import('./cli/prune-command.js')).pruneCommand,
  compact: async () => (await import('./cli/compact-command.js')).compactCommand,
  export: async () => (await import('./cli/export-command.js')).exportCommand,
  doctor: async () => (await import('./cli/doctor-command.js')).doctorCommand,
  'migrate-db': async () => (await import('./cli/migrate-db-command.js')).migrateDbCommand,
  'repage-db': async () => (await import('./cli/repage-db-command.js')).repageDbCommand,
  mcp: async () => (await import('./cli/mcp-command.js')).mcpCommand,
  rekey: async () => (await import('./cli/rekey-command.js')).rekeyCommand,
  unlock: async () => (await import('./cli/unlock-command.js')).unlockCommand,
  encrypt: async () => (await import('./cli/encrypt-command.js')).encryptCommand,
  lock: async () => (await import('./cli/lock-command.js')).lockCommand,
  client: async () => (await import('./client/cli.js')).clientCommand,
  pause: async () => (await import('./client/cli.js')).pauseCommand,
  resume: async () => (await import('./client/cli.js')).resumeCommand,
};

export async function main(argv: string[]): Promise<number> {
  // Server, processor, worker, client and every other command: what they create is the user's alone.
  useOwnerOnlyUmask();
  const [name, ...args] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    console.log(USAGE);
    return name ? 0 : 1;
  }
  if (name === '--version' || name === '-v') {
    console.log(VERSION);
    return 0;
  }
  const load = commands[name];
  if (!load) {
    console.error(`openrecall: unknown command "${name}"\n\n${USAGE}`);
    return 2;
  }
  try {
    return (await (await load())(args)) ?? 0;
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof LocalModelError || error instanceof StoreOpenError) {
      console.error(`openrecall: ${error.message}`);
      return 2;
    }
    // Every API call of every command fails the same way: the client's sentence, exit status 1.
    if (error instanceof ApiClientError) {
      console.error(`openrecall: ${error.message}`);
      return 1;
    }
    throw error;
  }
}
