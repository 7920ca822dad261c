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

/** Where the session secret and the revoked sessions are kept (the settings table: shared by every server of a database). */
export interface SessionSettings {
  all(): Promise<Array<{ key: string; value: string }>>;
  set(values: Record<string, unknown>): Promise<number>;
}

const SECRET_KEY = 'session_secret';
const REVOKED_KEY = 'session_revoked';
/** Past this many logged-out sessions still within their lifetime, a logout rotates the secret instead. */
const MAX_REVOKED = 1000;
/** How long a server trusts its copy of the secret (another server's rotation reaches it within this). */
const STATE_TTL_MS = 2000;

interface SessionState {
  secret: string;
  /** Session id -> when its cookie would have expired (s). */
  revoked: Map<string, number>;
  readAt: number;
}

/** How a request proved it may use the API. */
export type Authentication = 'open' | 'bearer' | 'cookie' | false;

/**
 * The rules of OPENRECALL_API_TOKEN. API clients send `Authorization: Bearer <token>`; the web UI trades the
 * token once for an HttpOnly cookie (an <img> cannot send a header, and a script must not hold the token).
 * A cookie is a random session id signed with a key derived from the token and a random secret kept in the
 * database: it survives restarts, is never the token itself, stops working when the token changes, when its
 * session logs out (the id is listed as revoked) and when the secret is rotated (every session at once).
 */
export class AuthService {
  private state: SessionState | undefined;

  constructor(
    private readonly token: string | undefined,
    private readonly settings?: SessionSettings,
  ) {}

  get enabled(): boolean {
    return this.token !== undefined;
  }

  /** Whether the request may pass: no token required, the token (header) or a live session cookie. */
  async authenticate(headers: { authorization?: string | undefined; cookie?: string | undefined }): Promise<Authentication> {
    if (this.token === undefined) return 'open';
    const bearer = bearerToken(headers.authorization);
    if (bearer !== undefined) return safeEqual(bearer, this.token) ? 'bearer' : false;
    const id = await this.sessionId(readCookie(headers.cookie, SESSION_COOKIE));
    return id === undefined ? false : 'cookie';
  }

  /** Whether `token` (as typed by the user) is the right one. */
  verifyToken(token: string | undefined): boolean {
    return this.token !== undefined && token !== undefined && safeEqual(token, this.token);
  }

  /** Set-Cookie value of a new session, for a browser that proved it knows the token. */
  async openSession(secure: boolean): Promise<string> {
    const state = await this.current();
    const id = crypto.randomBytes(18).toString('base64url');
    return `${SESSION_COOKIE}=${id}.${this.sign(state.secret, id)}; ${cookieAttributes(secure)}; Max-Age=${SESSION_MAX_AGE_SECONDS}`;
  }

  /** Revokes the session of this cookie header (if it is a live one). */
  async closeSession(cookieHeader: string | undefined): Promise<boolean> {
    const id = await this.sessionId(readCookie(cookieHeader, SESSION_COOKIE), true);
    if (id === undefined) return false;
    const state = await this.current(true);
    const now = Date.now() / 1000;
    const revoked = [...state.revoked].filter(([, expires]) => expires > now);
    if (revoked.length >= MAX_REVOKED) await this.rotate();
    else {
      revoked.push([id, now + SESSION_MAX_AGE_SECONDS]);
      await this.settings?.set({ [REVOKED_KEY]: revoked });
      this.state = undefined;
    }
    return true;
  }

  /** A new secret: every cookie issued so far stops working. */
  async rotate(): Promise<void> {
    await this.settings?.set({ [SECRET_KEY]: crypto.randomBytes(32).toString('base64url'), [REVOKED_KEY]: [] });
    this.state = undefined;
  }

  /** Set-Cookie value that removes the session cookie. */
  static clearedCookie(secure: boolean): string {
    return `${SESSION_COOKIE}=; ${cookieAttributes(secure)}; Max-Age=0`;
  }

  private sign(secret: string, id: string): string {
    const key = crypto
      .createHmac('sha256', this.token ?? '')
      .update(`openrecall-session-v2:${secret}`)
      .digest();
    return crypto.createHmac('sha256', key).update(id).digest('base64url');
  }

  /** The id of a cookie value that is signed with the current secret and not revoked. */
  private async sessionId(value: string | undefined, fresh = false): Promise<string | undefined> {
    if (this.token === undefined || value === undefined) return undefined;
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const id = value.slice(0, dot);
    const state = await this.current(fresh);
    if (!safeEqual(value.slice(dot + 1), this.sign(state.secret, id))) return undefined;
    return state.revoked.has(id) ? undefined : id;
  }

  private async current(fresh = false): Promise<SessionState> {
    if (!fresh && this.state && Date.now() - this.state.readAt < STATE_TTL_MS) return this.state;
    const rows = new Map((await this.settings?.all())?.map((row) => [row.key, JSON.parse(row.value) as unknown]) ?? []);
    let secret = rows.get(SECRET_KEY);
    if (typeof secret !== 'string') {
      // First session of this database (no settings store: one secret for this process's life).
      secret = this.state?.secret ?? crypto.randomBytes(32).toString('base64url');
      await this.settings?.set({ [SECRET_KEY]: secret });
    }
    const revoked = rows.get(REVOKED_KEY);
    const entries = Array.isArray(revoked) ? (revoked as Array<[string, number]>) : [];
    this.state = { secret: secret as string, revoked: new Map(entries), readAt: Date.now() };
    return this.state;
  }
}

function cookieAttributes(secure: boolean): string {
  return `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
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
