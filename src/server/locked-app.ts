import Fastify, { type FastifyInstance } from 'fastify';
import { UnlockRequest, UnlockResult } from '../api/index.js';
import type { EncryptionKeys } from '../encryption/open-encryption.js';
import type { HostPolicy } from './allowed-hosts.js';
import { installSecurity } from './security.js';

/**
 * What a server whose data dir only a passphrase opens serves until it is given: the unlock page and
 * POST /api/unlock. Nothing of the memory can be read (the keys are not known); every other route answers 423.
 * Host/Origin checks and the refusal of form bodies apply as on the real app.
 */
export interface LockedAppOptions {
  hosts: HostPolicy;
  unlock(passphrase: string): Promise<EncryptionKeys>;
  /** Called once with the keys: the caller closes this app and starts the real one. */
  onUnlocked(keys: EncryptionKeys): void;
}

const LOCKED_MESSAGE = 'the data dir is encrypted and locked: unlock it on the web page at / or with `openrecall unlock`';

export async function buildLockedApp(options: LockedAppOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 });
  installSecurity(app, { enabled: false, authenticate: async () => false }, options.hosts);
  // One Argon2id run (64 MiB) at a time: parallel guesses wait their turn instead of exhausting memory.
  let attempt: Promise<unknown> = Promise.resolve();
  let unlocked = false;

  app.get('/', async (_request, reply) => reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(UNLOCK_PAGE));
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
        if ((error as Error).name === 'WrongPassphraseError') return false;
        throw error;
      }
    });
    attempt = run.catch(() => undefined);
    if (!(await run)) return reply.code(401).send({ statusCode: 401, error: 'WRONG_PASSPHRASE', message: 'the passphrase does not open the data dir' });
    return { unlocked: true as const };
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(423).send({ statusCode: 423, error: 'LOCKED', message: LOCKED_MESSAGE }));
  return app;
}

const UNLOCK_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>OpenRecall is locked</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>OpenRecall is locked</h1>
<p>Its memory is encrypted. Type the passphrase to unlock it.</p>
<form id="unlock"><label>Passphrase <input id="passphrase" type="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Unlock</button></form><p id="status" role="status"></p></main>
<script src="/unlock.js"></script></body></html>
`;

const UNLOCK_SCRIPT = `document.getElementById('unlock').addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = document.getElementById('status');
  status.textContent = 'Unlocking…';
  const response = await fetch('/api/unlock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ passphrase: document.getElementById('passphrase').value }) });
  if (response.ok) { status.textContent = 'Unlocked. Loading…'; setTimeout(() => location.reload(), 1500); return; }
  status.textContent = (await response.json()).message;
});
`;
