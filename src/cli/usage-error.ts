/** A command was called the wrong way: `openrecall` prints the message (with the usage) and exits with 2. */
export class UsageError extends Error {}
