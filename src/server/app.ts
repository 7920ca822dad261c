import { DamagedFileError } from '../files/file-cipher.js';
import fastifyMultipart from '@fastify/multipart';
import { StoreUnavailableError } from '../store/ports.js';
import fastifySwagger from '@fastify/swagger';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { randomFillSync } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import Fastify, { type FastifyError, type FastifyHttpOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { FramesService } from '../services/frames-service.js';
import type { ReceivedImage } from '../images/received-image.js';
import type { IngestService } from '../services/ingest-service.js';
import type { QueueService } from '../services/queue-service.js';
import type { SearchService } from '../search/search-service.js';
import { ApiError } from '../errors.js';
import { documentFileFields, fileKeyword, formatValidationError, rejectOutOfRangeNumbers } from './validation.js';
import { Entry, ErrorResponse } from '../api/index.js';
import { healthRoutes } from './routes/health.js';
import { uploadRoutes } from './routes/upload.js';
import { queueRoutes } from './routes/queue.js';
import { entriesRoutes } from './routes/entries.js';
import { searchRoutes } from './routes/search.js';
import { metricsRoutes } from './routes/metrics.js';
import { sessionRoutes } from './routes/session.js';
import { DEFAULT_FIELD_PARSER_BYTES, refuseLongFields, UPLOAD_FIELD_BYTES } from './form-fields.js';
import { installSecurity } from './security.js';
import { LazySchemas } from './lazy-schemas.js';
import { answerLocked } from './locked-answers.js';
import type { HostPolicy } from './allowed-hosts.js';
import { AuthService } from '../services/auth-service.js';
import type { MetricsService } from '../services/metrics-service.js';
import type { UploadGate } from '../services/upload-gate.js';
import { createLogger, type Logger } from '../log.js';

export interface AppServices {
  ingest: IngestService;
  queue: QueueService;
  frames: FramesService;
  search: SearchService;
  /** OPENRECALL_API_TOKEN rules; none: no token required. */
  auth?: AuthService;
  /** Bound on concurrent uploads (503 past it). */
  uploadGate?: UploadGate;
  /** /metrics; none: no such route. */
  metrics?: MetricsService;
}

export interface AppOptions {
  version: string;
  debug: boolean;
  maxUploadBytes: number;
  /** The longest text field of the upload forms (/api/upload, /v1/ingest); other forms: FORM_FIELD_BYTES. Default 4 MB. */
  maxMetadataBytes?: number;
  showAiDescription: boolean;
  logger?: FastifyServerOptions['logger'];
  /** Where a failed request (500) is written with its stack and request id; default stderr. */
  log?: Logger;
  /** Whole request (headers and body) must arrive within this; idle connections close after it. Default 30 s. */
  requestTimeoutMs?: number;
  /** Which Host and Origin headers the server answers to (every request is checked). */
  hosts: HostPolicy;
  /** OPENRECALL_TRUST_PROXY: X-Forwarded-Proto says whether the browser used HTTPS. */
  trustProxy?: boolean;
  /** PEM certificate and key: the server speaks HTTPS. */
  tls?: { cert: Buffer; key: Buffer };
  /** Further route plugins (search, web UI) registered by later features. */
  plugins?: Array<(app: FastifyInstance) => Promise<void>>;
  /** True while `openrecall lock` takes this app down: every request after the security checks gets the locked answer. */
  locking?: () => boolean;
}

export type App = FastifyInstance;

declare module 'fastify' {
  interface FastifyInstance {
    /** Each route's schemas are compiled at its first request (lazy-schemas.ts). */
    lazySchemas: LazySchemas;
  }
  interface FastifyRequest {
    /** Set once the route handler runs: errors before that come from parsing the client's request. */
    handlerStarted?: boolean;
    /** Uploaded files written to disk while the body was parsed. */
    receivedImages?: ReceivedImage[];
  }
}

/**
 * 8 random bytes in hex, taken from a pool filled 256 ids at a time: a call to the random generator for each
 * request cost as much as the security hooks together (bench/ingest.ts, profiled). Each pool is used once.
 */
const ID_BYTES = 8;
const idPool = Buffer.alloc(ID_BYTES * 256);
let idAt = idPool.length;
export function randomRequestId(): string {
  if (idAt === idPool.length) {
    randomFillSync(idPool);
    idAt = 0;
  }
  idAt += ID_BYTES;
  return idPool.toString('hex', idAt - ID_BYTES, idAt);
}

/** What a client is told to wait while the database is away. */
const DATABASE_RETRY_AFTER_SECONDS = 5;
/** Routes' schemas no request compiled yet are compiled from this long after the start, */
const COMPILE_SCHEMAS_AFTER_MS = 3_000;
/** one at a time, each once no request has come for this long. */
const COMPILE_SCHEMAS_WHEN_QUIET_MS = 500;

export async function buildApp(services: AppServices, options: AppOptions): Promise<App> {
  // Each route's schemas compiled at its first request, the rest after COMPILE_SCHEMAS_AFTER_MS (lazy-schemas.ts).
  const schemas = new LazySchemas();
  const serverOptions: FastifyHttpOptions<http.Server> = {
    // Long search queries travel in the URL: allow 64 KB of headers instead of Node's 16 KB.
    serverFactory: (handler) => {
      // A slow client (slowloris) cannot hold a connection or an upload slot for longer than the request timeout.
      const timeout = options.requestTimeoutMs ?? 30_000;
      const limits = { maxHeaderSize: 64 * 1024, requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: Math.min(1000, timeout / 2) };
      const server = options.tls
        ? https.createServer({ ...limits, cert: options.tls.cert, key: options.tls.key }, handler)
        : http.createServer(limits, handler);
      server.setTimeout(timeout);
      return server;
    },
    logger: options.logger ?? false,
    ajv: { plugins: [fileKeyword] },
    schemaController: schemas.controller(),
    schemaErrorFormatter: formatValidationError,
    bodyLimit: 1024 * 1024,
    // Random, so an id quoted by a user in a bug report names one request in the log.
    genReqId: randomRequestId,
    // The server comes from serverFactory; this only makes listen() name its address https://.
    ...(options.tls ? ({ https: options.tls } as object) : {}),
  };
  const app = Fastify(serverOptions).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('lazySchemas', schemas);
  app.addHook('onRequest', (_request, _reply, done) => {
    schemas.noteRequest();
    done();
  });
  app.addHook('onReady', async () => schemas.warmUp(COMPILE_SCHEMAS_AFTER_MS, COMPILE_SCHEMAS_WHEN_QUIET_MS));
  app.addHook('onClose', async () => schemas.stop());

  app.addSchema(ErrorResponse);
  app.addSchema(Entry);

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'OpenRecall API', version: options.version, description: 'Ingest, queue and browse screen captures.' },
      // With OPENRECALL_API_TOKEN set, every route but /api/health needs it (or the UI's session cookie).
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: ({ schema, url }) => ({ schema: documentFileFields(schema), url }),
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (json.$id as string) ?? `def-${i}` },
  });

  await app.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: options.maxUploadBytes, files: 1, fields: 16, parts: 17, fieldSize: DEFAULT_FIELD_PARSER_BYTES, headerPairs: 100 },
    // The file goes to disk as it arrives (checked on the way) instead of into one buffer per upload: at 32
    // uploads/s those buffers made a full garbage collection every few hundred milliseconds.
    async onFile(part) {
      const received = await services.ingest.receive(part.file);
      (this.receivedImages ??= []).push(received);
      if (part.file.truncated) throw new app.multipartErrors.RequestFileTooLargeError();
      (part as { value?: unknown }).value = received;
    },
  });

  // After the parser's own preValidation hook: a text field longer than its route allows is refused by name.
  app.addHook('preValidation', refuseLongFields);

  const auth = services.auth ?? new AuthService(undefined);
  installSecurity(app, auth, options.hosts);
  const locking = options.locking;
  if (locking) {
    app.addHook('onRequest', async (request, reply) => {
      if (locking()) return answerLocked(request, reply);
    });
  }

  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // Answered or abandoned: an upload's file that was not stored goes (a no-op for a stored one).
    reply.raw.once('close', () => {
      for (const image of request.receivedImages ?? []) image.discard();
    });
  });

  app.addHook('preHandler', async (request) => {
    rejectOutOfRangeNumbers({ query: request.query, params: request.params, body: request.body });
    request.handlerStarted = true;
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof StoreUnavailableError) {
      // The database is away (PostgreSQL restarting, a network cut): the client's request was fine, so it may
      // come back as is. Nothing was stored; the server keeps running and reconnects by itself.
      return reply
        .code(503)
        .header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS))
        .send({ statusCode: 503, error: 'DATABASE_UNAVAILABLE', message: 'the database is unavailable right now; nothing was stored, retry later' });
    }
    if (error instanceof DamagedFileError) {
      // A sealed file that does not authenticate (changed, cut short): the request was fine, the file is not.
      return reply.code(422).send({ statusCode: 422, error: 'DAMAGED_FILE', message: `${error.message}; run \`openrecall doctor\`` });
    }
    if (error instanceof ApiError) {
      return reply.code(error.statusCode).send({ statusCode: error.statusCode, error: error.code, message: error.message });
    }
    if (error.validation) {
      // A malformed id in the path is simply a resource that does not exist.
      const status = error.validationContext === 'params' ? 404 : 400;
      const message = status === 404 ? 'not found' : error.message;
      return reply.code(status).send({ statusCode: status, error: status === 404 ? 'NOT_FOUND' : 'INVALID_FIELD', message });
    }
    if (error.code === 'FST_REQ_FILE_TOO_LARGE') {
      const mb = Math.round((options.maxUploadBytes / 1024 / 1024) * 100) / 100;
      return reply.code(413).send({ statusCode: 413, error: 'FILE_TOO_LARGE', message: `invalid field 'image': larger than the ${mb} MB upload limit` });
    }
    if (error.code === 'FST_FIELDS_LIMIT' || error.code === 'FST_PARTS_LIMIT') {
      return reply
        .code(413)
        .send({ statusCode: 413, error: 'TOO_MANY_FIELDS', message: 'too many form fields: an upload has at most 16 fields and one image' });
    }
    const status = error.statusCode ?? (request.handlerStarted ? 500 : 400);
    if (status >= 500) {
      const log = options.log ?? createLogger('server');
      log(`request ${request.id} failed: ${request.method} ${request.url.split('?')[0]} -> ${status}\n${error.stack ?? error.message}`);
      return reply
        .code(status)
        .header('x-request-id', request.id)
        .send({ statusCode: status, error: 'INTERNAL', message: `internal server error (request id ${request.id})`, requestId: request.id });
    }
    // Errors raised while parsing the request (multipart framing, content type, body size...).
    return reply.code(status).send({ statusCode: status, error: error.code ?? 'BAD_REQUEST', message: error.message });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ statusCode: 404, error: 'NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` });
  });

  await app.register(healthRoutes, { version: options.version });
  await app.register(sessionRoutes, { auth, trustProxy: options.trustProxy ?? false });
  await app.register(uploadRoutes, {
    ingest: services.ingest,
    debug: options.debug,
    maxMetadataBytes: options.maxMetadataBytes ?? UPLOAD_FIELD_BYTES,
    ...(services.uploadGate ? { gate: services.uploadGate } : {}),
    ...(services.metrics ? { metrics: services.metrics } : {}),
  });
  if (services.metrics) await app.register(metricsRoutes, { metrics: services.metrics });
  await app.register(queueRoutes, { queue: services.queue });
  await app.register(entriesRoutes, { frames: services.frames, queue: services.queue });
  await app.register(searchRoutes, { search: services.search, showAiDescription: options.showAiDescription });
  for (const plugin of options.plugins ?? []) await app.register(plugin);

  app.get('/api/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  return app;
}
