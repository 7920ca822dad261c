// The floor for bench/ingest.ts: a bare node:http server that streams each request body to a file and makes it
// durable the way the real server does (fsync the file, rename it, fsync the directory) before its 202.
// No parsing, no checks, no database: what durability alone costs on this disk.
//   node bench/durable-floor-server.mjs <dir>   (prints "listening on <url>")
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';

const dir = process.argv[2];
fs.mkdirSync(dir, { recursive: true });
let sequence = 0;

async function store(request) {
  const name = String(sequence++);
  const part = path.join(dir, `${name}.part`);
  const handle = await fs.promises.open(part, 'wx', 0o600);
  try {
    for await (const chunk of request) await handle.write(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.promises.rename(part, path.join(dir, `${name}.bin`));
  const directory = await fs.promises.open(dir, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

const server = http.createServer((request, response) => {
  const started = performance.now();
  store(request).then(
    () => {
      response.writeHead(202, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ elapsed_ms: performance.now() - started }));
    },
    (error) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: String(error) }));
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}`));
