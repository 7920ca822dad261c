import crypto from 'node:crypto';

/** Name of the HttpOnly cookie the web UI gets from POST /api/session. */
export const SESSION_COOKIE = 'openrecall_session';

/** How long a browser keeps its session cookie (it is re-issued whenever the user enters the token again). */
const SESSION_MAX_AGE_SECONDS = 30 * 24 * 3600;

const digest = (value: string) => crypto.createHash('sha256').update(value, 'utf8').digest();

/** Constant-time comparison of two strings of any length (their SHA-256 digests are compared). */
export function safeEqual(a: string, b: string): boolean {
  return crypto.timingSafeEqual(digest(a), digest(b));
}

/**
 * The rules of OPENRECALL_API_TOKEN. API clients send `Authorization: Bearer <token>`; the web UI trades the
 * token once for an HttpOnly cookie (an <img> cannot send a header, and a script must not hold the token).
 * The cookie's value is derived from the token (HMAC), so it survives restarts, is never the token itself,
 * and every cookie stops working when the token changes.
 */
export class AuthService {
  private readonly sessionValue: string | undefined;

  constructor(private readonly token: string | undefined) {
    this.sessionValue = token === undefined ? undefined : crypto.createHmac('sha256', token).update('openrecall-session-v1').digest('base64url');
  }

  get enabled(): boolean {
    return this.token !== undefined;
  }

  /** True when the token is not required, or the request carries it (header) or a valid session cookie. */
  isAuthorized(headers: { authorization?: string | undefined; cookie?: string | undefined }): boolean {
    if (this.token === undefined) return true;
    const bearer = bearerToken(headers.authorization);
    if (bearer !== undefined) return safeEqual(bearer, this.token);
    const session = readCookie(headers.cookie, SESSION_COOKIE);
    return session !== undefined && safeEqual(session, this.sessionValue!);
  }

  /** Whether `token` (as typed by the user) is the right one. */
  verifyToken(token: string | undefined): boolean {
    return this.token !== undefined && token !== undefined && safeEqual(token, this.token);
  }

  /** Set-Cookie value for a browser that proved it knows the token. */
  sessionCookie(): string {
    return `${SESSION_COOKIE}=${this.sessionValue ?? ''}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SESSION_MAX_AGE_SECONDS}`;
  }

  /** Set-Cookie value that removes the session cookie. */
  static clearedCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}

export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}
