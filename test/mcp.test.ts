import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { fitList } from '../src/mcp/format.js';
import { uploadFrame } from '../src/api-client/upload.js';
import { getJson, waitUntil } from './helpers/api.js';
import { renderTextImage } from './helpers/images.js';
import { cliPath, startServerProcess, type ServerProcess } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-dir.js';

const TOKEN = 'mcp-test-token-0123456789abcdef';
const now = Date.now() / 1000;
const FRAMES = [
  {
    app: 'Terminal',
    title: 'bash — build',
    lines: ['npm run build', 'error TS2345: Argument of type string', 'is not assignable to parameter'],
    timestamp: now - 1800,
  },
  { app: 'Terminal', title: 'bash — build', lines: ['npm test', 'all tests passed', 'pelican migration finished'], timestamp: now - 1740 },
  {
    app: 'Firefox',
    title: 'Invoice 4711 — Mozilla Firefox',
    lines: ['Invoice number 4711', 'Total due: 1250 EUR', 'Payable within 30 days'],
    timestamp: now - 1200,
  },
];

type CallResult = { content: Array<{ type: string; text?: string; data?: string; mimeType?: string }>; isError?: boolean };
const textOf = (result: unknown) =>
  (result as CallResult).content
    .filter((c) => c.type === 'text')
    .map((c) => c.text)
    .join('\n');
const json = (result: unknown) => JSON.parse((result as CallResult).content[0]!.text!);

/** What an assistant does with the tools, the same over both transports. */
async function exerciseTools(client: Client, server: ServerProcess) {
  const { tools } = await client.listTools();
  assert.deepEqual(tools.map((t) => t.name).sort(), ['activity', 'ask', 'get_frame', 'queue_status', 'recent', 'search']);
  for (const tool of tools) {
    assert.ok(tool.description && tool.description.length > 30, `${tool.name} has a description`);
    assert.equal(tool.inputSchema.type, 'object');
  }
  assert.ok((tools.find((t) => t.name === 'search')!.inputSchema.required as string[]).includes('query'));

  const found = json(await client.callTool({ name: 'search', arguments: { query: 'invoice', start: '2 hours ago', limit: 5 } }));
  assert.equal(found.frames.length, 1, JSON.stringify(found));
  const hit = found.frames[0];
  assert.equal(hit.app, 'Firefox');
  assert.match(hit.title, /Invoice 4711/);
  assert.match(hit.snippet, /\*\*Invoice\*\*/i);
  assert.match(hit.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/);
  assert.equal(hit.link, `${server.url}/entry/${hit.id}`);
  const none = json(await client.callTool({ name: 'search', arguments: { query: 'invoice', end: '2 days ago' } }));
  assert.equal(none.frames.length, 0, 'the time range applies');

  const frame = (await client.callTool({ name: 'get_frame', arguments: { id: hit.id, max_width: 640 } })) as CallResult;
  assert.match(JSON.parse(frame.content[0]!.text!).text, /1250/);
  const image = frame.content.find((c) => c.type === 'image');
  assert.ok(image, 'the screenshot comes as image content');
  assert.equal(image.mimeType, 'image/jpeg');
  const meta = await sharp(Buffer.from(image.data!, 'base64')).metadata();
  assert.equal(meta.width, 640, 'downscaled from 1280');

  const activity = json(await client.callTool({ name: 'activity', arguments: { start: '1 hour ago', end: 'now' } }));
  const apps = activity.apps.map((a: { app: string }) => a.app);
  assert.deepEqual(apps.sort(), ['Firefox', 'Terminal']);
  const terminal = activity.apps.find((a: { app: string }) => a.app === 'Terminal');
  assert.equal(terminal.seconds, 360, 'the first frame counts until the second (60 s); the second until the next frame, 9 min later, capped at 5 min');
  assert.equal(activity.apps.find((a: { app: string }) => a.app === 'Firefox').seconds, 10, 'the last frame counts 10 s');
  assert.equal(terminal.windows[0].title, 'bash — build');
  assert.equal(terminal.stretches.length, 1);
  assert.ok(terminal.stretches[0].first_frame.id < terminal.stretches[0].last_frame.id);

  const recent = json(await client.callTool({ name: 'recent', arguments: { limit: 1 } }));
  assert.equal(recent.frames.length, 1);
  assert.match(recent.frames[0].text, /Payable/);

  const queue = json(await client.callTool({ name: 'queue_status', arguments: {} }));
  assert.equal(queue.queue.completed, FRAMES.length);

  // Mistakes come back as tool errors the model can read; the session goes on.
  const mistakes: Array<[string, Record<string, unknown>, RegExp]> = [
    ['search', {}, /missing argument 'query'/],
    ['search', { query: 'x', start: 'the day after never' }, /invalid argument 'start'.*yesterday 14:00/],
    ['search', { query: 'x', limit: 'many' }, /invalid argument 'limit'/],
    ['search', { query: 'x', colour: 'red' }, /unknown argument 'colour'/],
    ['get_frame', { id: 999_999 }, /entry 999999 not found/],
    ['activity', { start: 'today', end: 'yesterday' }, /'end' must be after 'start'/],
    ['nonsense', {}, /unknown tool 'nonsense'.*search/],
  ];
  for (const [name, args, message] of mistakes) {
    const result = (await client.callTool({ name, arguments: args })) as CallResult;
    assert.equal(result.isError, true, `${name} ${JSON.stringify(args)}`);
    assert.match(textOf(result), message);
  }
  assert.equal(json(await client.callTool({ name: 'recent', arguments: {} })).frames.length, 3, 'still serving');
}

describe('MCP server', () => {
  let server: ServerProcess;

  before(async () => {
    server = await startServerProcess(tempDir(), { OPENRECALL_API_TOKEN: TOKEN });
    const api = server.api;
    let seed = 1;
    for (const frame of FRAMES) {
      const image = await renderTextImage(frame.lines, { seed: seed++, fontSize: 28 });
      const response = await uploadFrame(
        api,
        { image, contentType: 'image/png', app: frame.app, title: frame.title, timestamp: frame.timestamp },
        { token: TOKEN },
      );
      assert.equal(response.status, 202);
    }
    const authed = { headers: { authorization: `Bearer ${TOKEN}` } };
    await waitUntil(async () => (await getJson(`${api}/queue/status`, authed)).body.queue.completed === FRAMES.length, {
      what: 'OCR of all frames',
      timeoutMs: 240_000,
      intervalMs: 250,
    });
  });
  after(async () => {
    await server?.stop();
  });

  it('serves the tools over Streamable HTTP at /mcp, with the token', async () => {
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${TOKEN}` } } }));
    try {
      await exerciseTools(client, server);
    } finally {
      await client.close();
    }
  });

  it('answers /mcp without the token with 401', async () => {
    const response = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    assert.equal(response.status, 401);
    const client = new Client({ name: 'test', version: '1' });
    await assert.rejects(client.connect(new StreamableHTTPClientTransport(new URL(`${server.url}/mcp`))), /401|Unauthorized/i);
  });

  it('serves the same tools over stdio (openrecall mcp), relaying to the running server', async () => {
    const client = new Client({ name: 'test', version: '1' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [cliPath, 'mcp'],
      env: { PATH: process.env.PATH ?? '', OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: TOKEN },
      stderr: 'pipe',
    });
    await client.connect(transport);
    try {
      await exerciseTools(client, server);
    } finally {
      await client.close();
    }
  });

  it('tells the model over stdio when the server refuses its token', async () => {
    const client = new Client({ name: 'test', version: '1' });
    await client.connect(
      new StdioClientTransport({
        command: process.execPath,
        args: [cliPath, 'mcp'],
        env: { PATH: process.env.PATH ?? '', OPENRECALL_API_URL: server.api, OPENRECALL_API_TOKEN: 'wrong-token-0123456789abcdef' },
        stderr: 'pipe',
      }),
    );
    try {
      const result = (await client.callTool({ name: 'recent', arguments: {} })) as CallResult;
      assert.equal(result.isError, true);
      assert.match(textOf(result), /cannot reach the OpenRecall server.*OPENRECALL_API_TOKEN/);
    } finally {
      await client.close();
    }
  });
});

describe('MCP answers', () => {
  it('cut an oversized list to fit, saying how many were left out and what to do', () => {
    const frames = Array.from({ length: 500 }, (_, i) => ({ id: i, text: 'lorem ipsum '.repeat(20) }));
    const text = fitList({ frames }, 'frames', 'lower limit', 10_000);
    assert.ok(text.length <= 10_000, String(text.length));
    const parsed = JSON.parse(text);
    assert.ok(parsed.frames.length > 10 && parsed.frames.length < 500);
    assert.match(parsed.note, new RegExp(`truncated: ${500 - parsed.frames.length} of 500 frames left out.*lower limit`));
  });
});
