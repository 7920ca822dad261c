import crypto from 'node:crypto';
import type { Message, MessageBus } from 'dbus-next';
import { callMethod } from './dbus.js';

const PORTAL = { destination: 'org.freedesktop.portal.Desktop', path: '/org/freedesktop/portal/desktop' };
const SCREENCAST = 'org.freedesktop.portal.ScreenCast';

/** The portal's answer codes (org.freedesktop.portal.Request::Response). */
const CANCELLED = 1;

export class PortalRefusedError extends Error {}

export interface PortalStream {
  nodeId: number;
  width?: number;
  height?: number;
  x?: number;
  y?: number;
}

export interface ScreenCastGrant {
  streams: PortalStream[];
  /** Hand this back next time: the portal then restores the selection without asking. */
  restoreToken?: string;
}

type Variant = InstanceType<typeof import('dbus-next').Variant>;

async function variants() {
  return (await import('dbus-next')).default;
}

/**
 * One portal request: the call returns a Request object path at once; the answer comes as its Response
 * signal (0 = granted, 1 = cancelled by the user, 2 = failed).
 */
async function portalRequest(
  bus: MessageBus,
  member: string,
  signature: string,
  args: unknown[],
  options: Record<string, Variant>,
  portalInterface = SCREENCAST,
): Promise<Record<string, unknown>> {
  const { Variant } = await variants();
  const token = `openrecall_${crypto.randomBytes(6).toString('hex')}`;
  const sender = ((bus as MessageBus & { name?: string }).name ?? '').replace(/^:/, '').replace(/\./g, '_');
  const expected = `/org/freedesktop/portal/desktop/request/${sender}/${token}`;
  const rule = `type='signal',interface='org.freedesktop.portal.Request',member='Response',path='${expected}'`;
  await callMethod(bus, {
    destination: 'org.freedesktop.DBus',
    path: '/org/freedesktop/DBus',
    interface: 'org.freedesktop.DBus',
    member: 'AddMatch',
    signature: 's',
    body: [rule],
  });
  let onMessage: ((msg: Message) => void) | undefined;
  try {
    const answer = new Promise<[number, Record<string, { value: unknown }>]>((resolve) => {
      onMessage = (msg: Message) => {
        if (msg.member === 'Response' && msg.path === expected) resolve(msg.body as [number, Record<string, { value: unknown }>]);
      };
      bus.on('message', onMessage);
    });
    await callMethod(bus, { ...PORTAL, interface: portalInterface, member, signature, body: [...args, { ...options, handle_token: new Variant('s', token) }] });
    const [code, results] = await answer;
    if (code === CANCELLED) throw new PortalRefusedError(`${member} was refused`);
    if (code !== 0) throw new Error(`the ${portalInterface === SCREENCAST ? 'screen-cast' : 'screenshot'} portal failed (${member}, response ${code})`);
    return Object.fromEntries(Object.entries(results ?? {}).map(([k, v]) => [k, v.value]));
  } finally {
    if (onMessage) bus.off('message', onMessage);
    await callMethod(bus, {
      destination: 'org.freedesktop.DBus',
      path: '/org/freedesktop/DBus',
      interface: 'org.freedesktop.DBus',
      member: 'RemoveMatch',
      signature: 's',
      body: [rule],
    }).catch(() => []);
  }
}

/**
 * A ScreenCast session: monitors only, persisted (persist_mode 2: until revoked) and restored from the last
 * token, so the user is asked once. The session lives as long as the bus connection.
 */
export async function startScreenCast(bus: MessageBus, options: { multiple: boolean; restoreToken?: string }): Promise<ScreenCastGrant> {
  const { Variant } = await variants();
  const created = await portalRequest(bus, 'CreateSession', 'a{sv}', [], {
    session_handle_token: new Variant('s', `openrecall_${crypto.randomBytes(6).toString('hex')}`),
  });
  const session = String(created.session_handle);
  await portalRequest(bus, 'SelectSources', 'oa{sv}', [session], {
    types: new Variant('u', 1), // MONITOR
    multiple: new Variant('b', options.multiple),
    persist_mode: new Variant('u', 2),
    ...(options.restoreToken ? { restore_token: new Variant('s', options.restoreToken) } : {}),
  });
  const started = await portalRequest(bus, 'Start', 'osa{sv}', [session, ''], {});
  const streams = ((started.streams ?? []) as Array<[number, Record<string, { value: unknown }>]>).map(([nodeId, props]) => {
    const size = props.size?.value as [number, number] | undefined;
    const position = props.position?.value as [number, number] | undefined;
    return { nodeId, ...(size ? { width: size[0], height: size[1] } : {}), ...(position ? { x: position[0], y: position[1] } : {}) };
  });
  if (streams.length === 0) throw new Error('the screen-cast portal granted no screen');
  return { streams, ...(typeof started.restore_token === 'string' ? { restoreToken: started.restore_token } : {}) };
}

/** One still image through the Screenshot portal (non-interactive): the file it wrote, as a path. */
export async function portalScreenshot(bus: MessageBus): Promise<string> {
  const { Variant } = await variants();
  const result = await portalRequest(bus, 'Screenshot', 'sa{sv}', [''], { interactive: new Variant('b', false) }, 'org.freedesktop.portal.Screenshot');
  const uri = String(result.uri ?? '');
  if (!uri.startsWith('file://')) throw new Error(`the screenshot portal returned no file (${uri || 'nothing'})`);
  return decodeURIComponent(new URL(uri).pathname);
}

/** The ScreenCast portal's version, or 0 when there is none on this desktop. */
export async function screenCastVersion(bus: MessageBus): Promise<number> {
  try {
    const [value] = await callMethod(bus, {
      ...PORTAL,
      interface: 'org.freedesktop.DBus.Properties',
      member: 'Get',
      signature: 'ss',
      body: [SCREENCAST, 'version'],
    });
    return Number((value as { value: unknown }).value);
  } catch {
    return 0;
  }
}
