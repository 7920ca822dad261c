import { Type, type Static, type TSchema } from 'typebox';
import { Value } from 'typebox/value';
import { ApiError } from '../errors.js';
import type { SearchService } from '../search/search-service.js';
import type { ActivityService } from '../services/activity-service.js';
import type { FramesService } from '../services/frames-service.js';
import type { QueueService } from '../services/queue-service.js';
import type { AskService } from '../services/ask-service.js';
import { boldSnippet, clip, fitList, localTime } from './format.js';
import { parseTimePhrase, TIME_HELP, TIME_HINT, timeRange } from '../search/time-phrases.js';
import { boundedJpeg } from '../images/codec.js';

export interface ToolContext {
  search: SearchService;
  frames: FramesService;
  activity: ActivityService;
  queue: QueueService;
  ask?: AskService;
  /** Where the web UI is, for links to frames ("http://127.0.0.1:8083"). */
  baseUrl: string;
}

export type ToolContent = { type: 'text'; text: string } | { type: 'image'; data: string; mimeType: string };

export interface ToolResult {
  content: ToolContent[];
  isError?: boolean;
}

/** A mistake in the arguments: told to the model as a tool error it can correct. */
export class ToolInputError extends Error {}

interface Tool<S extends TSchema> {
  name: string;
  description: string;
  schema: S;
  run(args: Static<S>, context: ToolContext): Promise<ToolResult>;
}

const time = (description: string) => Type.String({ minLength: 1, maxLength: 64, description: `${description}: ${TIME_HINT}` });
const text = (value: string): ToolResult => ({ content: [{ type: 'text', text: value }] });
const link = (context: ToolContext, id: number) => `${context.baseUrl}/entry/${id}`;

const SearchArgs = Type.Object(
  {
    query: Type.String({
      maxLength: 2000,
      description: 'Words to find in the screen text (all must match), "exact phrases", -excluded; empty: every frame matching the filters',
    }),
    mode: Type.Optional(
      Type.Union([Type.Literal('keyword'), Type.Literal('semantic'), Type.Literal('hybrid')], {
        description: 'keyword (default without embeddings), semantic or hybrid',
      }),
    ),
    start: Type.Optional(time('Earliest capture time')),
    end: Type.Optional(time('Latest capture time')),
    app: Type.Optional(Type.String({ maxLength: 512, description: 'Only this application (exact name, case-insensitive)' })),
    window: Type.Optional(Type.String({ maxLength: 1024, description: 'Only windows whose title contains this' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 10 })),
  },
  { additionalProperties: false },
);

const GetFrameArgs = Type.Object(
  {
    id: Type.Integer({ minimum: 1, description: 'Frame id (from search, recent or activity)' }),
    include_image: Type.Optional(Type.Boolean({ default: true, description: 'Also return the screenshot, downscaled' })),
    max_width: Type.Optional(Type.Integer({ minimum: 200, maximum: 1920, default: 1024, description: 'Width of the returned image in pixels' })),
  },
  { additionalProperties: false },
);

const ActivityArgs = Type.Object(
  {
    start: time('Start of the range (e.g. "this morning", "yesterday", "today 9:00")'),
    end: Type.Optional(time('End of the range (default: the end of the start phrase, e.g. the whole day for "yesterday", else now)')),
    app: Type.Optional(Type.String({ maxLength: 512, description: 'Only this application' })),
  },
  { additionalProperties: false },
);

const RecentArgs = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 20, default: 3, description: 'How many of the latest frames' })),
    app: Type.Optional(Type.String({ maxLength: 512, description: 'Only this application' })),
  },
  { additionalProperties: false },
);

const NoArgs = Type.Object({}, { additionalProperties: false });

const AskArgs = Type.Object(
  {
    question: Type.String({
      minLength: 1,
      maxLength: 2000,
      description: 'A question about what was on screen; a time phrase in it ("yesterday afternoon") narrows the frames',
    }),
    since: Type.Optional(time('Earliest capture time')),
    until: Type.Optional(time('Latest capture time')),
    app: Type.Optional(Type.String({ maxLength: 512, description: 'Only this application (exact name, case-insensitive)' })),
  },
  { additionalProperties: false },
);

function when(value: string | undefined, field: 'start' | 'end'): number | undefined {
  if (value === undefined) return undefined;
  const span = parseTimePhrase(value);
  if (!span) throw new ToolInputError(`invalid argument '${field}': cannot read "${value.slice(0, 64)}" as a time; use ${TIME_HELP}`);
  return field === 'start' ? span.start : span.end;
}

const search: Tool<typeof SearchArgs> = {
  name: 'search',
  description:
    "Search the user's screen history (OCR text of screenshots, window titles, app names). Returns matching frames with capture time, app, window title, a text snippet (matches in **bold**) and a link. Use get_frame for a frame's full text and image.",
  schema: SearchArgs,
  async run(args, context) {
    const limit = args.limit ?? 10;
    const answer = await context.search.search({
      q: args.query,
      limit,
      offset: 0,
      ...(args.mode ? { mode: args.mode } : {}),
      ...optional('start', when(args.start, 'start')),
      ...optional('end', when(args.end, 'end')),
      ...(args.app ? { app: args.app } : {}),
      ...(args.window ? { window: args.window } : {}),
    });
    const frames = answer.results.map((hit) => ({
      id: hit.id,
      time: localTime(hit.timestamp),
      app: hit.app,
      title: hit.title,
      snippet: boldSnippet(hit.snippet),
      link: link(context, hit.id),
      // Near-identical frames in a row are one result: how many, and over what span.
      ...(hit.moment ? { moment: { frames: hit.moment.frames, from: localTime(hit.moment.first), to: localTime(hit.moment.last) } } : {}),
    }));
    const result = { query: answer.query, mode: answer.mode, total_matches: answer.total, frames, ...(answer.warning ? { warning: answer.warning } : {}) };
    return text(fitList(result, 'frames', 'lower limit or narrow the query or time range'));
  },
};

const getFrame: Tool<typeof GetFrameArgs> = {
  name: 'get_frame',
  description: 'One captured frame: its OCR text, AI description (if any), time, app, window title, and the screenshot as an image (downscaled).',
  schema: GetFrameArgs,
  async run(args, context) {
    const entry = await context.frames.get(args.id);
    const details = {
      id: entry.id,
      time: localTime(entry.timestamp),
      app: entry.app,
      title: entry.title,
      status: entry.status,
      text: entry.text === null ? null : clip(entry.text, 16_000),
      description: entry.description,
      link: link(context, entry.id),
      ...(entry.status === 'PENDING' || entry.status === 'PROCESSING' ? { note: 'not processed yet: no OCR text so far' } : {}),
    };
    const content: ToolContent[] = [{ type: 'text', text: JSON.stringify(details, null, 1) }];
    if (args.include_image !== false) {
      try {
        // frameImage: a compacted frame rebuilt, an encrypted one authenticated (a damaged file names the frame).
        const image = await context.frames.frameImage(entry.id);
        const jpeg = await boundedJpeg('bytes' in image ? image.bytes : await image.read(), args.max_width ?? 1024, 70);
        content.push({ type: 'image', data: jpeg.toString('base64'), mimeType: 'image/jpeg' });
      } catch (error) {
        content.push({ type: 'text', text: `(no image: ${(error as Error).message})` });
      }
    }
    return { content };
  },
};

const activity: Tool<typeof ActivityArgs> = {
  name: 'activity',
  description:
    'What the user did over a time range: the apps and window titles with time spent (seconds), and for each app its stretches of continuous use with the first and last frame (ids and links). Good for "what did I work on this morning".',
  schema: ActivityArgs,
  async run(args, context) {
    const range = timeRange(args.start, args.end, (message) => new ToolInputError(message.replace('field', 'argument')));
    const summary = await context.activity.summary(range.start, range.end, args.app ? { app: args.app } : {});
    const apps = summary.apps.map((a) => ({
      app: a.app,
      seconds: a.seconds,
      windows: a.windows.slice(0, 15).map((w) => ({ title: w.title, seconds: w.seconds })),
      ...(a.windows.length > 15 ? { more_windows: a.windows.length - 15 } : {}),
      stretches: a.stretches.map((s) => ({
        from: localTime(s.start),
        to: localTime(s.end),
        seconds: s.seconds,
        first_frame: { id: s.first_frame_id, link: link(context, s.first_frame_id) },
        last_frame: { id: s.last_frame_id, link: link(context, s.last_frame_id) },
      })),
    }));
    // Stretches are the bulk: keep the longest ones when the answer is too long.
    for (const a of apps) a.stretches.sort((x, y) => y.seconds - x.seconds);
    let result: Record<string, unknown> & { apps: typeof apps } = {
      from: localTime(summary.start),
      to: localTime(summary.end),
      total_seconds: summary.total_seconds,
      frames: summary.frames,
      ...(summary.truncated ? { note: 'too many frames: the summary stops early; narrow the range' } : {}),
      apps,
    };
    let json = JSON.stringify(result, null, 1);
    for (let keep = 20; json.length > 24_000 && keep >= 1; keep = Math.floor(keep / 2)) {
      result = {
        ...result,
        apps: apps.map((a) => ({ ...a, stretches: a.stretches.slice(0, keep) })),
        note: `truncated: only the ${keep} longest stretch(es) of each app are listed; narrow the range or pass app for all`,
      };
      json = JSON.stringify(result, null, 1);
    }
    return text(json.length > 24_000 ? fitList(result, 'apps', 'narrow the range') : json);
  },
};

const recent: Tool<typeof RecentArgs> = {
  name: 'recent',
  description: 'The text on the user\'s screen in the latest captured frames, newest first: for "what am I looking at" or "what was I just doing".',
  schema: RecentArgs,
  async run(args, context) {
    const rows = await context.frames.list({ limit: args.limit ?? 3, ...(args.app ? { app: args.app } : {}) });
    const frames = rows.map((row) => ({
      id: row.id,
      time: localTime(row.timestamp),
      app: row.app,
      title: row.title,
      text: row.text === null ? `(no text yet: ${row.status})` : clip(row.text, 6000),
      link: link(context, row.id),
    }));
    return text(fitList({ frames }, 'frames', 'lower limit'));
  },
};

const queueStatus: Tool<typeof NoArgs> = {
  name: 'queue_status',
  description:
    'Processing state of the screen memory: frames waiting for OCR, processing, done and failed, throughput and the oldest waiting frame. Use it to tell whether recent frames are searchable yet.',
  schema: NoArgs,
  async run(_args, context) {
    const status = await context.queue.status();
    return text(
      JSON.stringify(
        {
          queue: status.queue,
          frames_per_minute: status.throughput.frames_per_minute,
          oldest_pending_age_seconds: status.oldest_pending_age_seconds,
          mode: status.config.current_mode,
          ocr_engine: status.config.ocr_engine,
          version: status.system.version,
        },
        null,
        1,
      ),
    );
  },
};

const ask: Tool<typeof AskArgs> = {
  name: 'ask',
  description:
    "Answer a question about the user's screen history with the server's own chat model, from the frames that match it. Returns {answer, citations: [{id, timestamp, app, title, link}], frames_considered}; the answer cites frames as [frame:ID]. Fails when the server has no chat model configured (then use search and get_frame).",
  schema: AskArgs,
  async run(args, context) {
    if (!context.ask) throw new ToolInputError('ask is not available on this server');
    const question = {
      question: args.question,
      ...optional('since', when(args.since, 'start')),
      ...optional('until', when(args.until, 'end')),
      ...(args.app ? { app: args.app } : {}),
    };
    // No model configured, or the model failed: said to the assistant, which can fall back on search.
    const answer = await context.ask.ask(question).catch((error: unknown) => {
      throw error instanceof ApiError ? new ToolInputError(error.message) : error;
    });
    const citations = answer.citations.map((c) => ({ id: c.id, timestamp: localTime(c.timestamp), app: c.app, title: c.title, link: link(context, c.id) }));
    return text(JSON.stringify({ answer: answer.answer, citations, frames_considered: answer.frames_considered }, null, 1));
  },
};

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

export const TOOLS = [search, getFrame, activity, recent, queueStatus, ask] as unknown as Tool<TSchema>[];

/** One sentence naming the first thing wrong with the arguments. */
function argumentError(schema: TSchema, args: unknown): string | undefined {
  if (Value.Check(schema, args)) return undefined;
  const [first] = Value.Errors(schema, args);
  if (!first) return 'invalid arguments';
  const params = first.params as { requiredProperties?: string[]; additionalProperties?: string[] };
  if (first.keyword === 'required') return `missing argument '${params.requiredProperties?.join("', '")}'`;
  const extra = Value.Errors(schema, args).find((e) => e.keyword === 'additionalProperties');
  if (extra) return `unknown argument '${(extra.params as { additionalProperties: string[] }).additionalProperties[0]}'`;
  return `invalid argument '${first.instancePath.replace(/^\//, '') || 'arguments'}': ${first.message}`;
}

/** Runs a tool call; every mistake (unknown tool, bad arguments, a frame that does not exist) is a readable tool error. */
export async function callTool(name: string, args: unknown, context: ToolContext): Promise<ToolResult> {
  const tool = TOOLS.find((t) => t.name === name);
  const failure = (message: string): ToolResult => ({ isError: true, content: [{ type: 'text', text: message }] });
  if (!tool) return failure(`unknown tool '${name.slice(0, 64)}': the tools are ${TOOLS.map((t) => t.name).join(', ')}`);
  const given = args ?? {};
  const problem = argumentError(tool.schema, given);
  if (problem) return failure(`${problem}. ${tool.name} takes: ${Object.keys((tool.schema as unknown as { properties: object }).properties).join(', ')}`);
  try {
    return await tool.run(given, context);
  } catch (error) {
    if (error instanceof ToolInputError || (error instanceof ApiError && error.statusCode < 500)) return failure(error.message);
    throw error;
  }
}
