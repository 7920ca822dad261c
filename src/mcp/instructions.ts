/** Told to the assistant at the start of a session; its own module: `openrecall mcp` relays without the tools. */
export const MCP_INSTRUCTIONS =
  "OpenRecall is the user's screen memory: screenshots taken every few seconds, with their text read by OCR. " +
  'Use search to find when something was on screen, activity for what the user did over a time range, recent for what is on screen now, ' +
  'get_frame for the full text and the image of one frame. Times accept ISO 8601 or phrases like "yesterday 14:00" or "this morning" (server local time).';
