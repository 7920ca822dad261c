import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';
import { MCP_INSTRUCTIONS } from './instructions.js';

export interface StdioBridgeOptions {
  /** The server's MCP endpoint, e.g. http://127.0.0.1:8083/mcp. */
  endpoint: URL;
  headers: Record<string, string>;
  log: (message: string) => void;
}

/**
 * `openrecall mcp`: MCP over stdio for desktop assistants, relaying every request to the running server's
 * /mcp endpoint (with the API token). The tools live in one place, the server; this process holds no data.
 */
export async function runStdioBridge(options: StdioBridgeOptions): Promise<Server> {
  let remote: Promise<Client> | undefined;
  const connect = () =>
    (remote ??= (async () => {
      const client = new Client({ name: 'openrecall-mcp-stdio', version: VERSION });
      const transport = new StreamableHTTPClientTransport(options.endpoint, { requestInit: { headers: options.headers } });
      try {
        await client.connect(transport);
        return client;
      } catch (error) {
        remote = undefined;
        throw error;
      }
    })());
  const unreachable = (error: unknown) => {
    remote = undefined;
    const reason = (error as Error).message;
    const hint = /401/.test(reason) ? "set OPENRECALL_API_TOKEN to the server's token" : 'start it with: openrecall server (and check OPENRECALL_API_URL)';
    return `cannot reach the OpenRecall server at ${options.endpoint.href} (${reason}); ${hint}`;
  };

  const server = new Server({ name: 'openrecall', version: VERSION }, { capabilities: { tools: {} }, instructions: MCP_INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, async () => {
    try {
      return await (await connect()).listTools();
    } catch (error) {
      throw new Error(unreachable(error));
    }
  });
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    try {
      return (await (await connect()).callTool({ name: request.params.name, arguments: request.params.arguments ?? {} })) as CallToolResult;
    } catch (error) {
      return { isError: true, content: [{ type: 'text', text: unreachable(error) }] };
    }
  });
  await server.connect(new StdioServerTransport());
  options.log(`relaying MCP over stdio to ${options.endpoint.href}`);
  return server;
}
