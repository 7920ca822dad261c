import type { MessageBus } from 'dbus-next';

type Env = Record<string, string | undefined>;

const SYSTEM_BUS = 'unix:path=/var/run/dbus/system_bus_socket';

/** A connection to the system bus (DBUS_SYSTEM_BUS_ADDRESS, else the standard socket) or the session bus. */
export async function connectBus(which: 'system' | 'session', env: Env): Promise<MessageBus> {
  const dbus = (await import('dbus-next')).default;
  const address =
    which === 'system'
      ? env.DBUS_SYSTEM_BUS_ADDRESS || SYSTEM_BUS
      : env.DBUS_SESSION_BUS_ADDRESS || (env.XDG_RUNTIME_DIR ? `unix:path=${env.XDG_RUNTIME_DIR}/bus` : undefined);
  if (!address) throw new Error('no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set');
  const bus = dbus.sessionBus({ busAddress: address });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`D-Bus ${which} bus (${address}) did not answer`)), 5000);
    bus.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    bus.once('error', (error: Error) => {
      clearTimeout(timer);
      reject(new Error(`cannot connect to the D-Bus ${which} bus (${address}): ${error.message}`));
    });
  });
  // Later errors (the bus went away) surface as failed calls; without a listener they would end the process.
  bus.on('error', () => {});
  return bus;
}

/** One method call; resolves with the reply's body. */
export async function callMethod(
  bus: MessageBus,
  call: { destination: string; path: string; interface: string; member: string; signature?: string; body?: unknown[] },
): Promise<unknown[]> {
  const { Message } = (await import('dbus-next')).default;
  const reply = await bus.call(new Message({ ...call, ...(call.signature ? {} : { signature: '' }), body: call.body ?? [] }));
  return reply?.body ?? [];
}

/** Variant values unwrapped: { name: Variant } → { name: value }. */
export function unwrapVariants(dict: Record<string, { value: unknown }>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(dict).map(([k, v]) => [k, v.value]));
}
