import path from 'node:path';
import { ConfigError, expandHome, readBoolean, readChoice, readNumber, readString, type Env } from '../env.js';

export type EmbeddingProviderName = 'none' | 'openai' | 'local' | 'builtin';

export interface EmbeddingConfig {
  provider: EmbeddingProviderName;
  /** `openai`: base URL (…/v1) or the full …/embeddings endpoint. */
  url: string;
  /** `openai`: the model name sent to the API; `local`: a model directory on disk; `builtin`: another copy of the bundled model's directory (empty: the bundled one). */
  model: string;
  apiKey: string;
  /** Expected vector length; 0 = take it from the provider's first answer. */
  dim: number;
  timeoutMs: number;
}

export interface VlmConfig {
  /** Chat-completions base URL (…/v1) or full endpoint; empty = the description stage is off. */
  url: string;
  model: string;
  apiKey: string;
  prompt: string;
  timeoutMs: number;
  maxImageWidth: number;
}

/** The chat model Ask uses (OpenAI-compatible chat completions); empty url = Ask answers 503. */
export interface ChatConfig {
  url: string;
  model: string;
  apiKey: string;
  timeoutMs: number;
  /** How many tokens of screen text Ask may put in front of the model. */
  contextTokens: number;
}

export interface AiConfig {
  embedding: EmbeddingConfig;
  vlm: VlmConfig;
  chat: ChatConfig;
  /** OPENRECALL_VECTOR_FLOOR(_WITH_MATCHES): similarity a vector-only hit must reach; unset: the model's calibrated floors. */
  vectorFloor: { withoutMatches?: number; withMatches?: number };
  /** The original's flag: whether the UI shows AI descriptions. */
  showAiDescription: boolean;
}

export const DEFAULT_VLM_PROMPT =
  'Describe this screenshot for a personal search index in two or three sentences: the application, what the user is doing, and the key names, topics and numbers visible.';

export function loadAiConfig(env: Env = process.env): AiConfig {
  const provider = readChoice<EmbeddingProviderName>(env, 'OPENRECALL_EMBEDDING_PROVIDER', 'builtin', ['builtin', 'none', 'openai', 'local']);
  const embedding: EmbeddingConfig = {
    provider,
    url: readString(env, 'OPENRECALL_EMBEDDING_URL', ''),
    model: readString(env, 'OPENRECALL_EMBEDDING_MODEL', ''),
    apiKey: readString(env, 'OPENRECALL_EMBEDDING_API_KEY', ''),
    dim: readNumber(env, 'OPENRECALL_EMBEDDING_DIM', 0, { min: 0, max: 16384 }),
    timeoutMs: readNumber(env, 'OPENRECALL_EMBEDDING_TIMEOUT', 30, { min: 0.1, max: 600, integer: false }) * 1000,
  };
  if (provider === 'openai' && (!embedding.url || !embedding.model)) {
    throw new ConfigError('OPENRECALL_EMBEDDING_PROVIDER=openai needs OPENRECALL_EMBEDDING_URL and OPENRECALL_EMBEDDING_MODEL');
  }
  if (provider === 'local') {
    if (!embedding.model) throw new ConfigError('OPENRECALL_EMBEDDING_PROVIDER=local needs OPENRECALL_EMBEDDING_MODEL: the path of a model directory');
    embedding.model = path.resolve(expandHome(embedding.model));
  }
  if (provider === 'builtin' && embedding.model) embedding.model = path.resolve(expandHome(embedding.model));
  const vlm: VlmConfig = {
    url: readString(env, 'OPENRECALL_VLM_URL', ''),
    model: readString(env, 'OPENRECALL_VLM_MODEL', ''),
    apiKey: readString(env, 'OPENRECALL_VLM_API_KEY', ''),
    prompt: readString(env, 'OPENRECALL_VLM_PROMPT', DEFAULT_VLM_PROMPT),
    timeoutMs: readNumber(env, 'OPENRECALL_VLM_TIMEOUT', 60, { min: 0.1, max: 600, integer: false }) * 1000,
    maxImageWidth: readNumber(env, 'OPENRECALL_VLM_MAX_WIDTH', 1280, { min: 64, max: 8192 }),
  };
  if (vlm.url && !vlm.model) throw new ConfigError('OPENRECALL_VLM_URL is set but OPENRECALL_VLM_MODEL is not: name the vision model to use');
  const chat: ChatConfig = {
    url: readString(env, 'OPENRECALL_CHAT_URL', ''),
    model: readString(env, 'OPENRECALL_CHAT_MODEL', ''),
    apiKey: readString(env, 'OPENRECALL_CHAT_API_KEY', ''),
    timeoutMs: readNumber(env, 'OPENRECALL_CHAT_TIMEOUT', 120, { min: 1, max: 3600, integer: false }) * 1000,
    contextTokens: readNumber(env, 'OPENRECALL_CHAT_CONTEXT_TOKENS', 3000, { min: 200, max: 200_000 }),
  };
  if (chat.url && !chat.model) throw new ConfigError('OPENRECALL_CHAT_URL is set but OPENRECALL_CHAT_MODEL is not: name the chat model to use');
  const floor = (name: string) => (env[name]?.trim() ? readNumber(env, name, 0, { min: -1, max: 1, integer: false }) : undefined);
  const vectorFloor = { withoutMatches: floor('OPENRECALL_VECTOR_FLOOR'), withMatches: floor('OPENRECALL_VECTOR_FLOOR_WITH_MATCHES') };
  return { embedding, vlm, chat, vectorFloor, showAiDescription: readBoolean(env, 'OPENRECALL_SHOW_AI_DESCRIPTION', true) };
}

/** `…/v1` or a full endpoint URL → the endpoint. */
export function endpoint(url: string, path: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return trimmed.endsWith(path) ? trimmed : `${trimmed}${path}`;
}
