/** The variable that selects PostgreSQL: every connection error names it, so the user knows what to fix. */
export const DATABASE_URL_VARIABLE = 'OPENRECALL_DATABASE_URL';

/** The URL with its password replaced by ***, for logs, errors and doctor. */
export function redactDatabaseUrl(url: string): string {
  const withoutQueryPassword = url.replace(/([?&]password=)[^&#]*/gi, '$1***');
  const scheme = withoutQueryPassword.indexOf('://');
  if (scheme < 0) return withoutQueryPassword;
  const start = scheme + 3;
  const queryStart = withoutQueryPassword.indexOf('?', start);
  const authorityEnd = queryStart < 0 ? withoutQueryPassword.length : queryStart;
  const at = withoutQueryPassword.lastIndexOf('@', authorityEnd);
  if (at < start) return withoutQueryPassword;
  const userinfo = withoutQueryPassword.slice(start, at);
  const colon = userinfo.indexOf(':');
  if (colon < 0) return withoutQueryPassword;
  return `${withoutQueryPassword.slice(0, start)}${userinfo.slice(0, colon)}:***${withoutQueryPassword.slice(at)}`;
}

/** Throws when the URL is not one PostgreSQL could be reached at. */
export function checkDatabaseUrl(url: string): void {
  let parsed: URL;
  try {
    // An empty host (postgres:///recall?host=/run/postgresql, a Unix socket) is valid for the driver, not for URL.
    parsed = new URL(url.replace(/^(postgres(?:ql)?:\/\/(?:[^/?#]*@)?)(?=[/?#]|$)/i, '$1localhost'));
  } catch {
    throw new Error('not a valid URL (expected postgres://user:password@host:5432/database)');
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new Error(`unsupported scheme ${parsed.protocol} (expected postgres://user:password@host:5432/database)`);
  }
  if (parsed.pathname.length <= 1) throw new Error('no database name (expected postgres://user:password@host:5432/database)');
}

function reason(error: Error): string {
  const code = (error as { code?: unknown }).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running and listening there?)';
    case 'ENOENT':
      return 'no PostgreSQL socket there (is PostgreSQL running?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case '28P01':
    case '28000':
      return `authentication failed: ${error.message}`;
    case '3D000':
      return error.message;
  }
  if (/timeout/i.test(error.message)) return 'connection timed out';
  return error.message || String(error);
}

/** One line naming the setting the URL came from and the redacted URL, never the password. */
export function connectionErrorMessage(url: string, error: unknown, setting = DATABASE_URL_VARIABLE): string {
  const password = passwordOf(url);
  let line = `${setting} (${redactDatabaseUrl(url)}): ${error instanceof Error ? reason(error) : String(error)}`;
  // A driver message might quote the password; a very short one would also match ordinary words.
  if (password && password.length >= 4) line = line.split(password).join('***');
  return line.replace(/\s*\n\s*/g, ' ');
}

function passwordOf(url: string): string | undefined {
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : undefined;
  } catch {
    return undefined;
  }
}
