import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer } from './server.js';
import type { ToolContext } from './tools.js';

export interface McpExchangeOptions {
  context: ToolContext;
  /** The SDK's own DNS-rebinding check too (the MCP specification asks servers for it), on the server's lists. */
  allowedHosts: string[];
  allowedOrigins: string[];
}

/**
 * One stateless exchange: a fresh MCP server and transport answer this POST on the raw response. Its own module,
 * loaded at the first /mcp request: the SDK (and zod) cost every server start about 0.3 s of CPU otherwise.
 */
export async function serveMcpExchange(request: IncomingMessage, response: ServerResponse, body: unknown, options: McpExchangeOptions): Promise<void> {
  const server = createMcpServer(() => options.context);
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
    enableDnsRebindingProtection: true,
    allowedHosts: options.allowedHosts,
    allowedOrigins: options.allowedOrigins,
  });
  response.on('close', () => {
    void transport.close();
    void server.close();
  });
  await server.connect(transport);
  await transport.handleRequest(request, response, body);
}
