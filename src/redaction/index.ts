export { boxesOf, detectorsFor, REDACTED, RedactionError, redactText, RULES_VERSION, type RedactedText } from './redact.js';
export { parseRecord, recordBoxes, recordItems, type RedactionRecord } from './record.js';
export type { Box, Finding, LocatedWord, RedactionKind, RedactionPolicy } from './types.js';
