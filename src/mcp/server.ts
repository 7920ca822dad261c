import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';
import { MCP_INSTRUCTIONS } from './instructions.js';
import { callTool, TOOLS, type ToolContext } from './tools.js';

/** The MCP server (tools only) over the server's services; one per connection or per stateless HTTP request. */
export function createMcpServer(context: () => ToolContext): Server {
  const server = new Server({ name: 'openrecall', version: VERSION }, { capabilities: { tools: {} }, instructions: MCP_INSTRUCTIONS });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: TOOLS.map((tool) => ({ name: tool.name, description: tool.description, inputSchema: tool.schema as { type: 'object' } })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (request): Promise<CallToolResult> => {
    try {
      return (await callTool(request.params.name, request.params.arguments, context())) as CallToolResult;
    } catch (error) {
      // A failure of ours, still told to the model as a tool error rather than breaking the session.
      return { isError: true, content: [{ type: 'text', text: `the tool failed: ${(error as Error).message}` }] };
    }
  });
  return server;
}
