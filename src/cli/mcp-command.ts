import { bearer } from '../api-client/auth.js';
import { apiToken, apiUrl } from '../config.js';
import { runStdioBridge } from '../mcp/stdio.js';

/** `openrecall mcp`: the MCP server over stdio, for an assistant that launches it (stdout carries the protocol only). */
export async function mcpCommand(): Promise<number> {
  const endpoint = new URL(`${apiUrl().replace(/\/api$/, '')}/mcp`);
  const server = await runStdioBridge({ endpoint, headers: bearer(apiToken()), log: (message) => process.stderr.write(`openrecall mcp: ${message}\n`) });
  await new Promise<void>((resolve) => {
    server.onclose = resolve;
    process.stdin.once('end', resolve);
  });
  await server.close();
  return 0;
}
