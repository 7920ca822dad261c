import type { FastifyInstance } from 'fastify';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpServer } from '../../mcp/server.js';
import type { ToolContext } from '../../mcp/tools.js';
import { isHttps, localPort, SECURITY_HEADERS } from '../security.js';
import type { HostPolicy } from '../allowed-hosts.js';

/**
 * MCP over Streamable HTTP at /mcp, stateless: each POST is a complete exchange with a fresh MCP server
 * (tools keep no state between calls). Behind the API token like every /api route (see ../security.ts).
 */
export function mcpRoutes(context: Omit<ToolContext, 'baseUrl'>, hosts: HostPolicy, trustProxy: boolean) {
  return async function mcpPlugin(app: FastifyInstance): Promise<void> {
    app.post(
      '/mcp',
      { schema: { summary: 'MCP (Model Context Protocol) endpoint for AI assistants, Streamable HTTP', tags: ['mcp'] } },
      async (request, reply) => {
        // The links in answers name the Host the request came to: one the host check (../security.ts) accepted.
        const baseUrl = `${isHttps(request, trustProxy) ? 'https' : 'http'}://${request.headers.host}`;
        const server = createMcpServer(() => ({ ...context, baseUrl }));
        const port = localPort(request);
        // The SDK's own DNS-rebinding check too (the MCP specification asks servers for it), on the same lists.
        const transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: undefined,
          enableJsonResponse: true,
          enableDnsRebindingProtection: true,
          allowedHosts: [...hosts.hosts(port)],
          allowedOrigins: hosts.origins(port),
        });
        reply.hijack();
        reply.raw.on('close', () => {
          void transport.close();
          void server.close();
        });
        // The security headers of every answer (onSend does not run for a hijacked reply).
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
        try {
          await server.connect(transport);
          await transport.handleRequest(request.raw, reply.raw, request.body);
        } catch (error) {
          request.log.error({ err: error }, 'MCP request failed');
          if (!reply.raw.headersSent) {
            reply.raw.writeHead(500, { 'content-type': 'application/json' });
            reply.raw.end(JSON.stringify({ statusCode: 500, error: 'INTERNAL', message: 'internal server error' }));
          }
        }
      },
    );
    const notAllowed = { statusCode: 405, error: 'METHOD_NOT_ALLOWED', message: 'this MCP endpoint is stateless: POST JSON-RPC messages to /mcp' };
    app.get('/mcp', { schema: { hide: true } }, async (_request, reply) => reply.code(405).header('allow', 'POST').send(notAllowed));
    app.delete('/mcp', { schema: { hide: true } }, async (_request, reply) => reply.code(405).header('allow', 'POST').send(notAllowed));
  };
}
