import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

/**
 * Fastify compiles every route's validator (ajv) and response serializers (fast-json-stringify) before it listens:
 * about half of the server's start (0.6-0.9 s of CPU on this 2-core machine, more than loading every module), for
 * routes most runs never call. These compilers are Fastify's own (its defaults, resolved from Fastify itself),
 * each route's compiled on its first request instead; `warmUp` compiles the rest a route at a time once the server
 * has been up a while, so a first search later pays nothing. A route's compile holds the event loop for up to tens
 * of milliseconds, so the warm-up waits for a quiet moment: clients that kept frames while the server was down send
 * them all right after its start, and those uploads must not wait behind it.
 */
export class LazySchemas {
  private readonly waiting = new Set<() => void>();
  private warming: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastRequestAt = Number.NEGATIVE_INFINITY;

  /** Routes not compiled yet. */
  get pending(): number {
    return this.waiting.size;
  }

  /** For Fastify's `schemaController` option. */
  controller(): NonNullable<FastifyServerOptions['schemaController']> {
    // Loaded at the first compile as well (ajv and fast-json-stringify are some hundred modules).
    const fromFastify = createRequire(require_.resolve('fastify'));
    let validatorFactory: ValidatorFactory | undefined;
    let serializerFactory: SerializerFactory | undefined;
    const validators: ValidatorFactory = (schemas, options) => (validatorFactory ??= fromFastify('@fastify/ajv-compiler')())(schemas, options);
    const serializers: SerializerFactory = (schemas, options) =>
      (serializerFactory ??= fromFastify('@fastify/fast-json-stringify-compiler')())(schemas, options);
    return {
      compilersFactory: {
        // The compilers themselves are made at the first compile too: an Ajv instance with the shared schemas
        // costs ~0.2 s (it compiles JSON Schema's meta-schema to check them).
        buildValidator: (externalSchemas: unknown, options: unknown) => {
          let compile: ReturnType<ValidatorFactory> | undefined;
          return (route: unknown) => this.lazyValidator(() => (compile ??= validators(externalSchemas, options))(route));
        },
        buildSerializer: (externalSchemas: unknown, options: unknown) => {
          let compile: ReturnType<SerializerFactory> | undefined;
          return (route: unknown) => this.lazySerializer(() => (compile ??= serializers(externalSchemas, options))(route));
        },
      },
    } as NonNullable<FastifyServerOptions['schemaController']>;
  }

  /** Compiles every route not compiled yet, now (tests: every schema must compile). */
  compileAll(): void {
    for (const compile of [...this.waiting]) compile();
  }

  /** Called at each request: the warm-up keeps out of the way of requests (see warmUp()). */
  noteRequest(): void {
    this.lastRequestAt = performance.now();
  }

  /**
   * After `delayMs`, compiles the routes not compiled yet, one a turn of the event loop, each once no request has
   * come for `quietMs`.
   */
  warmUp(delayMs: number, quietMs: number): void {
    if (this.stopped || this.warming) return;
    const step = () => {
      const next = this.waiting.values().next();
      if (next.done || this.stopped) return;
      const quietFor = performance.now() - this.lastRequestAt;
      if (quietFor < quietMs) {
        this.warming = setTimeout(step, quietMs - quietFor).unref();
        return;
      }
      try {
        next.value();
      } catch {
        // A schema that does not compile fails its route's requests (500, logged), not the server.
        this.waiting.delete(next.value);
      }
      this.warming = setTimeout(step, 0).unref();
    };
    this.warming = setTimeout(step, delayMs).unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.warming) clearTimeout(this.warming);
  }

  private lazyValidator(compile: () => CompiledValidator): CompiledValidator {
    const compiled = this.once(compile);
    // Fastify reads the errors from the function it was given, after calling it.
    const validate = ((data: unknown) => {
      const fn = compiled();
      const valid = fn(data);
      validate.errors = fn.errors;
      return valid;
    }) as CompiledValidator;
    validate.errors = null;
    return validate;
  }

  private lazySerializer(compile: () => (payload: unknown) => string): (payload: unknown) => string {
    const compiled = this.once(compile);
    return (payload) => compiled()(payload);
  }

  /** `compile`, run at the first call (or by the warm-up) and its result kept; waiting until then. */
  private once<T>(compile: () => T): () => T {
    let compiled: T | undefined;
    const get = () => {
      if (compiled === undefined) {
        compiled = compile();
        this.waiting.delete(get);
      }
      return compiled;
    };
    this.waiting.add(get);
    return get;
  }
}

const require_ = createRequire(import.meta.url);

type CompiledValidator = ((data: unknown) => boolean | PromiseLike<unknown>) & { errors?: unknown };
type ValidatorFactory = (externalSchemas: unknown, options: unknown) => (route: unknown) => CompiledValidator;
type SerializerFactory = (externalSchemas: unknown, options: unknown) => (route: unknown) => (payload: unknown) => string;
