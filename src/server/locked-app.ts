import Fastify, { type FastifyInstance } from 'fastify';
import { ConfigError } from '../config.js';
import { UnlockRequest, UnlockResult } from '../api/index.js';
import type { EncryptionKeys } from '../encryption/open-encryption.js';
import type { HostPolicy } from './allowed-hosts.js';
import { answerLocked, LOCKED_MESSAGE, UPLOAD_ROUTES } from './locked-answers.js';
import { installSecurity } from './security.js';

/**
 * What a server serves while its memory is locked (a data dir only a passphrase opens, at start; any encrypted one
 * after `openrecall lock`): the unlock page and POST /api/unlock. Nothing of the memory can be read (the keys are not
 * known); uploads answer 503 with Retry-After (the client keeps them), every other route 423.
 * Host/Origin checks and the refusal of form bodies apply as on the real app.
 */
export interface LockedAppOptions {
  hosts: HostPolicy;
  /** `passphrase` undefined: the unlock asks the server to read its configured key source again. */
  unlock(passphrase: string | undefined): Promise<EncryptionKeys>;
  /** Called once with the keys: the caller closes this app and starts the real one. */
  onUnlocked(keys: EncryptionKeys): void;
  /** After `openrecall lock` of a server with a key file or keyring: the page may unlock without a passphrase. */
  passphraseOptional?: boolean;
}

export async function buildLockedApp(options: LockedAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  installSecurity(app, { enabled: false, authenticate: async () => false }, options.hosts);
  // One Argon2id run (64 MiB) at a time: parallel guesses wait their turn instead of exhausting memory.
  let attempt: Promise<unknown> = Promise.resolve();
  let unlocked = false;

  const page = unlockPage(options.passphraseOptional ?? false);
  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(page));
  app.get('/unlock.js', async (_request, reply) => reply.type('text/javascript; charset=utf-8').send(UNLOCK_SCRIPT));
  app.get('/api/health', async (_request, reply) => reply.code(503).send({ statusCode: 503, error: 'LOCKED', message: LOCKED_MESSAGE }));
  app.post<{ Body: UnlockRequest }>('/api/unlock', { schema: { body: UnlockRequest, response: { 200: UnlockResult } } }, async (request, reply) => {
    const run = attempt.then(async () => {
      if (unlocked) return true;
      try {
        const keys = await options.unlock(request.body.passphrase);
        unlocked = true;
        options.onUnlocked(keys);
        return true;
      } catch (error) {
        const name = (error as Error).name;
        if (name === 'WrongPassphraseError' || name === 'PassphraseNeededError') return name;
        if (error instanceof ConfigError) return error;
        throw error;
      }
    });
    attempt = run.catch(() => undefined);
    const outcome = await run;
    if (outcome === 'WrongPassphraseError')
      return reply.code(401).send({ statusCode: 401, error: 'WRONG_PASSPHRASE', message: 'the passphrase does not open the data dir' });
    if (outcome === 'PassphraseNeededError') {
      return reply.code(400).send({ statusCode: 400, error: 'PASSPHRASE_NEEDED', message: 'only a passphrase opens this data dir: give it' });
    }
    // The key file or keyring the server was started with no longer opens it (moved, changed): say which, stay locked.
    if (outcome instanceof Error) return reply.code(409).send({ statusCode: 409, error: 'KEY_SOURCE', message: outcome.message });
    return { unlocked: true as const };
  });
  // Uploads: 503 with Retry-After before their body is read (the client keeps the frame and retries).
  for (const url of UPLOAD_ROUTES) app.post(url, { config: { acceptsMultipart: true }, onRequest: answerLocked }, async () => undefined);
  app.setNotFoundHandler(answerLocked);
  return app;
}

const unlockPage = (passphraseOptional: boolean) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenRecall is locked</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>OpenRecall is locked</h1>
<p>Its memory is encrypted. ${
  passphraseOptional
    ? 'Unlock it with its key file or keyring (leave the passphrase empty: the server reads them again), or type its passphrase if it has one.'
    : 'Type the passphrase to unlock it.'
}</p>
<form id="unlock"><label>Passphrase <input id="passphrase" type="password" autocomplete="current-password"${passphraseOptional ? '' : ' required'} autofocus></label>
<button type="submit">Unlock</button></form><p id="status" role="status"></p></main>
<script src="/unlock.js"></script></body></html>
`;

const UNLOCK_SCRIPT = `document.getElementById('unlock').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = document.getElementById('status');
  status.textContent = 'Unlocking…';
  const response = await fetch('/api/unlock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(document.getElementById('passphrase').value ? { passphrase: document.getElementById('passphrase').value } : {}) });
  if (response.ok) { status.textContent = 'Unlocked. Loading…'; setTimeout(() => location.reload(), 1500); return; }
  status.textContent = (await response.json()).message;
});
`;
