import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { VERSION } from '../version.js';
import { callTool, TOOLS, type ToolContext } from './tools.js';

export const MCP_INSTRUCTIONS =
  "OpenRecall is the user's screen memory: screenshots taken every few seconds, with their text read by OCR. " +
  'Use search to find when something was on screen, activity for what the user did over a time range, recent for what is on screen now, ' +
  'get_frame for the full text and the image of one frame. Times accept ISO 8601 or phrases like "yesterday 14:00" or "this morning" (server local time).';

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
