import os from 'node:os';
import path from 'node:path';

/**
 * Readers of OPENRECALL_* environment variables, one per kind of value. A bad value throws a ConfigError whose
 * message is the single line the CLI prints before exiting. Both config.ts and ai/config.ts build on these.
 */
export class ConfigError extends Error {}

export type Env = Record<string, string | undefined>;

export function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function readString(env: Env, name: string, fallback: string): string {
  return raw(env, name) ?? fallback;
}

export function readBoolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const lower = value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
  if (['0', 'false', 'no', 'off'].includes(lower)) return false;
  throw new ConfigError(`${name}="${value}" is not valid: use true or false`);
}

export function readNumber(env: Env, name: string, fallback: number, { min, max, integer = true }: { min: number; max: number; integer?: boolean }): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  const parsed = Number(value);
  const kind = integer ? 'an integer' : 'a number';
  if (!Number.isFinite(parsed) || (integer && !Number.isInteger(parsed)) || parsed < min || parsed > max) {
    throw new ConfigError(`${name}="${value}" is not valid: use ${kind} from ${min} to ${max}`);
  }
  return parsed;
}

export function readChoice<T extends string>(env: Env, name: string, fallback: T, choices: readonly T[]): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${name}="${value}" is not valid: use one of ${choices.join(', ')}`);
}

export function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/')) return path.join(os.homedir(), p.slice(2));
  return p;
}
