/** Plain, human-readable log lines on stderr. */
export type Logger = (message: string) => void;

export function createLogger(component: string): Logger {
  return (message) => process.stderr.write(`${new Date().toISOString()} [${component}] ${message}\n`);
}

export const silentLogger: Logger = () => {};
