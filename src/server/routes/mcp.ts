import type { FastifyInstance } from 'fastify';
import type { ToolContext } from '../../mcp/tools.js';
import { isHttps, localPort, SECURITY_HEADERS } from '../security.js';
import type { HostPolicy } from '../allowed-hosts.js';

/**
 * MCP over Streamable HTTP at /mcp, stateless: each POST is a complete exchange with a fresh MCP server
 * (tools keep no state between calls). Behind the API token like every /api route (see ../security.ts).
 */
export function mcpRoutes(context: Omit<ToolContext, 'baseUrl'>, hosts: HostPolicy, trustProxy: boolean) {
  // The MCP SDK loads at the first request: most servers never get one.
  let exchange: Promise<typeof import('../../mcp/http-exchange.js')> | undefined;
  return async function mcpPlugin(app: FastifyInstance): Promise<void> {
    app.post(
      '/mcp',
      { schema: { summary: 'MCP (Model Context Protocol) endpoint for AI assistants, Streamable HTTP', tags: ['mcp'] } },
      async (request, reply) => {
        // The links in answers name the Host the request came to: one the host check (../security.ts) accepted.
        const baseUrl = `${isHttps(request, trustProxy) ? 'https' : 'http'}://${request.headers.host}`;
        const { serveMcpExchange } = await (exchange ??= import('../../mcp/http-exchange.js'));
        const port = localPort(request);
        reply.hijack();
        // The security headers of every answer (onSend does not run for a hijacked reply).
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.raw.setHeader(name, value);
        try {
          await serveMcpExchange(request.raw, reply.raw, request.body, {
            context: { ...context, baseUrl },
            allowedHosts: [...hosts.hosts(port)],
            allowedOrigins: hosts.origins(port),
          });
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
