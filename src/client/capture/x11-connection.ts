import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A minimal X11 protocol client: just enough to read window properties and the MIT-SCREEN-SAVER idle time
 * over one persistent socket, so that the capture loop spawns no processes (xdotool, xprop, xprintidle) and
 * needs no native module. Requests used: InternAtom, GetProperty, GetInputFocus, QueryExtension and
 * ScreenSaverQueryInfo.
 */

export interface DisplayAddress {
  /** Unix socket path or TCP host. */
  socketPath?: string;
  host?: string;
  port?: number;
  displayNumber: string;
}

/** Parses DISPLAY (":0", ":0.0", "unix:1", "localhost:10.0"); undefined when it is not an X display name. */
export function parseDisplay(display: string | undefined): DisplayAddress | undefined {
  if (!display) return undefined;
  const match = /^(.*):(\d+)(?:\.\d+)?$/.exec(display.trim());
  if (!match) return undefined;
  const [, host = '', number = '0'] = match;
  if (host === '' || host === 'unix') return { socketPath: `/tmp/.X11-unix/X${number}`, displayNumber: number };
  if (host.startsWith('/')) return { socketPath: `${host}:${number}`, displayNumber: number }; // launchd-style path
  return { host, port: 6000 + Number(number), displayNumber: number };
}

interface AuthEntry {
  family: number;
  address: Buffer;
  number: string;
  name: string;
  data: Buffer;
}

function readXauthority(file: string): AuthEntry[] {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch {
    return [];
  }
  const entries: AuthEntry[] = [];
  let offset = 0;
  const field = (): Buffer => {
    const length = buf.readUInt16BE(offset);
    const value = buf.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    return value;
  };
  try {
    while (offset + 2 <= buf.length) {
      const family = buf.readUInt16BE(offset);
      offset += 2;
      const address = field();
      const number = field().toString('latin1');
      const name = field().toString('latin1');
      const data = field();
      entries.push({ family, address, number, name, data });
    }
  } catch {
    // truncated file: use what was read
  }
  return entries;
}

const FAMILY_LOCAL = 256;
const FAMILY_WILD = 65535;

function findCookie(address: DisplayAddress, env: Record<string, string | undefined>): { name: string; data: Buffer } | undefined {
  const file = env.XAUTHORITY || path.join(os.homedir(), '.Xauthority');
  const hostname = os.hostname();
  for (const entry of readXauthority(file)) {
    if (entry.name !== 'MIT-MAGIC-COOKIE-1') continue;
    if (entry.number !== '' && entry.number !== address.displayNumber) continue;
    const local = entry.family === FAMILY_LOCAL && entry.address.toString('latin1') === hostname;
    if (local || entry.family === FAMILY_WILD || (address.host && entry.family !== FAMILY_LOCAL)) {
      return { name: entry.name, data: entry.data };
    }
  }
  return undefined;
}

const pad4 = (n: number) => (4 - (n % 4)) % 4;

export class X11Error extends Error {}

interface Pending {
  resolve: (reply: Buffer) => void;
  reject: (error: Error) => void;
}

export interface PropertyValue {
  type: number;
  format: number;
  data: Buffer;
}

export class X11Connection {
  readonly root: number;
  private sequence = 0;
  private readonly pending = new Map<number, Pending>();
  private buffered: Buffer = Buffer.alloc(0);
  private closedError: Error | undefined;
  private readonly atoms = new Map<string, number>();
  private readonly extensions = new Map<string, number | null>();

  private constructor(
    private readonly socket: net.Socket,
    root: number,
    rest: Buffer,
  ) {
    this.root = root;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new X11Error('X connection closed')));
    if (rest.length) this.onData(rest);
  }

  /** Connects to DISPLAY and completes the setup handshake (with the MIT cookie from XAUTHORITY when there is one). */
  static async connect(env: Record<string, string | undefined> = process.env, timeoutMs = 3000): Promise<X11Connection> {
    const address = parseDisplay(env.DISPLAY);
    if (!address) throw new X11Error(`DISPLAY="${env.DISPLAY ?? ''}" is not an X display`);
    const socket = address.socketPath ? net.connect(address.socketPath) : net.connect(address.port!, address.host!);
    socket.setNoDelay(true);
    const cookie = findCookie(address, env);
    const name = Buffer.from(cookie?.name ?? '', 'latin1');
    const data = cookie?.data ?? Buffer.alloc(0);
    const header = Buffer.alloc(12);
    header.write('l', 0, 'latin1'); // little-endian
    header.writeUInt16LE(11, 2);
    header.writeUInt16LE(0, 4);
    header.writeUInt16LE(name.length, 6);
    header.writeUInt16LE(data.length, 8);
    const request = Buffer.concat([header, name, Buffer.alloc(pad4(name.length)), data, Buffer.alloc(pad4(data.length))]);

    return new Promise<X11Connection>((resolve, reject) => {
      let received = Buffer.alloc(0);
      const timer = setTimeout(() => finish(new X11Error(`no answer from X display ${env.DISPLAY} within ${timeoutMs} ms`)), timeoutMs);
      const finish = (error?: Error, connection?: X11Connection) => {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('error', onError);
        if (error) {
          socket.destroy();
          reject(error);
        } else resolve(connection!);
      };
      const onError = (error: Error) => finish(new X11Error(`cannot connect to X display ${env.DISPLAY}: ${error.message}`));
      const onData = (chunk: Buffer) => {
        received = Buffer.concat([received, chunk]);
        if (received.length < 8) return;
        const total = 8 + received.readUInt16LE(6) * 4;
        if (received.length < total) return;
        const status = received[0];
        if (status !== 1) {
          const reason = received
            .subarray(8, 8 + (received[1] ?? 0))
            .toString('latin1')
            .trim();
          finish(new X11Error(`X display ${env.DISPLAY} refused the connection${reason ? `: ${reason}` : ''}`));
          return;
        }
        const vendorLength = received.readUInt16LE(24);
        const formats = received[29] ?? 0;
        const screenOffset = 40 + vendorLength + pad4(vendorLength) + 8 * formats;
        const root = received.readUInt32LE(screenOffset);
        finish(undefined, new X11Connection(socket, root, received.subarray(total)));
      };
      socket.on('data', onData);
      socket.on('error', onError);
      socket.on('connect', () => socket.write(request));
    });
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  close(): void {
    this.fail(new X11Error('X connection closed'));
    this.socket.destroy();
  }

  /** Lets the process exit even if the connection stays open. */
  unref(): this {
    this.socket.unref();
    return this;
  }

  private fail(error: Error): void {
    if (!this.closedError) this.closedError = error;
    for (const [, p] of this.pending) p.reject(this.closedError);
    this.pending.clear();
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length ? Buffer.concat([this.buffered, chunk]) : chunk;
    while (this.buffered.length >= 32) {
      const kind = this.buffered[0]! & 0x7f;
      const length = kind === 1 || kind === 35 ? 32 + this.buffered.readUInt32LE(4) * 4 : 32;
      if (this.buffered.length < length) return;
      const message = this.buffered.subarray(0, length);
      this.buffered = this.buffered.subarray(length);
      if (kind !== 0 && kind !== 1) continue; // an event: none is selected, ignore
      const seq = message.readUInt16LE(2);
      const pending = this.pending.get(seq);
      if (!pending) continue;
      this.pending.delete(seq);
      if (kind === 1) pending.resolve(Buffer.from(message));
      else pending.reject(new X11Error(`X error ${message[1]} (request ${message[10]}.${message.readUInt16LE(8)})`));
    }
  }

  /** Sends one request that has a reply. `body` excludes the 4-byte header. */
  private request(opcode: number, data: number, body: Buffer): Promise<Buffer> {
    if (this.closedError) return Promise.reject(this.closedError);
    const header = Buffer.alloc(4);
    header[0] = opcode;
    header[1] = data;
    header.writeUInt16LE((4 + body.length) / 4, 2);
    this.sequence = (this.sequence + 1) & 0xffff;
    const seq = this.sequence;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.socket.write(Buffer.concat([header, body]));
    });
  }

  async atom(name: string, onlyIfExists = false): Promise<number> {
    const cached = this.atoms.get(name);
    if (cached !== undefined) return cached;
    const bytes = Buffer.from(name, 'latin1');
    const body = Buffer.alloc(4 + bytes.length + pad4(bytes.length));
    body.writeUInt16LE(bytes.length, 0);
    bytes.copy(body, 4);
    const reply = await this.request(16, onlyIfExists ? 1 : 0, body);
    const atom = reply.readUInt32LE(8);
    if (atom !== 0) this.atoms.set(name, atom);
    return atom;
  }

  /** GetProperty with AnyPropertyType; undefined when the property is not set. */
  async getProperty(window: number, property: string, maxBytes = 4096): Promise<PropertyValue | undefined> {
    const atom = await this.atom(property);
    const body = Buffer.alloc(20);
    body.writeUInt32LE(window, 0);
    body.writeUInt32LE(atom, 4);
    body.writeUInt32LE(0, 8); // AnyPropertyType
    body.writeUInt32LE(0, 12);
    body.writeUInt32LE(Math.ceil(maxBytes / 4), 16);
    const reply = await this.request(20, 0, body);
    const format = reply[1]!;
    const type = reply.readUInt32LE(8);
    if (type === 0) return undefined;
    const count = reply.readUInt32LE(16);
    const bytes = count * (format / 8);
    return { type, format, data: reply.subarray(32, 32 + bytes) };
  }

  async getInputFocus(): Promise<number> {
    const reply = await this.request(43, 0, Buffer.alloc(0));
    return reply.readUInt32LE(8);
  }

  /** The major opcode of an extension, or null when the server does not have it. */
  async extension(name: string): Promise<number | null> {
    if (this.extensions.has(name)) return this.extensions.get(name)!;
    const bytes = Buffer.from(name, 'latin1');
    const body = Buffer.alloc(4 + bytes.length + pad4(bytes.length));
    body.writeUInt16LE(bytes.length, 0);
    bytes.copy(body, 4);
    const reply = await this.request(98, 0, body);
    const major = reply[8] ? reply[9]! : null;
    this.extensions.set(name, major);
    return major;
  }

  /** MIT-SCREEN-SAVER QueryInfo: milliseconds since the last input, and whether the screen saver is on. */
  async screenSaverInfo(): Promise<{ idleMs: number; saverOn: boolean } | undefined> {
    const major = await this.extension('MIT-SCREEN-SAVER');
    if (major === null) return undefined;
    const body = Buffer.alloc(4);
    body.writeUInt32LE(this.root, 0);
    const reply = await this.request(major, 1, body);
    return { idleMs: reply.readUInt32LE(16), saverOn: reply[1] === 1 };
  }
}

/** An X11 connection opened on first use and reopened after the server closed it (shared by the X11 readers). */
export class LazyX11Connection {
  private connection: Promise<X11Connection> | undefined;

  constructor(private readonly env: Record<string, string | undefined>) {}

  async get(): Promise<X11Connection> {
    if (this.connection) {
      const existing = await this.connection.catch(() => undefined);
      if (existing && !existing.closed) return existing;
    }
    this.connection = X11Connection.connect(this.env);
    return this.connection;
  }

  close(): void {
    void this.connection?.then(
      (c) => c.close(),
      () => {},
    );
    this.connection = undefined;
  }
}
