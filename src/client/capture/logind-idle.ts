import type { MessageBus } from 'dbus-next';
import { callMethod, connectBus, unwrapVariants } from './dbus.js';
import type { IdleSource, IdleState } from './idle.js';

const LOGIND = 'org.freedesktop.login1';

/**
 * Idle and lock from logind (Wayland has no X screen-saver counter): the session's IdleHint/IdleSinceHint and
 * LockedHint over the system bus. The session is XDG_SESSION_ID's, else the one this process belongs to.
 */
export class LogindIdle implements IdleSource {
  private bus: MessageBus | undefined;
  private sessionPath: string | undefined;

  constructor(private readonly env: Record<string, string | undefined> = process.env) {}

  private async session(): Promise<{ bus: MessageBus; path: string }> {
    if (this.bus && this.sessionPath) return { bus: this.bus, path: this.sessionPath };
    this.bus ??= await connectBus('system', this.env);
    const manager = { destination: LOGIND, path: '/org/freedesktop/login1', interface: 'org.freedesktop.login1.Manager' };
    const [path] = this.env.XDG_SESSION_ID
      ? await callMethod(this.bus, { ...manager, member: 'GetSession', signature: 's', body: [this.env.XDG_SESSION_ID] })
      : await callMethod(this.bus, { ...manager, member: 'GetSessionByPID', signature: 'u', body: [process.pid] });
    this.sessionPath = String(path);
    return { bus: this.bus, path: this.sessionPath };
  }

  async read(): Promise<IdleState> {
    const { bus, path } = await this.session().catch((error: Error) => {
      this.close(); // try afresh next time (logind or the bus may come back)
      throw new Error(`logind: ${error.message}`);
    });
    let props: Record<string, unknown>;
    try {
      const [dict] = await callMethod(bus, {
        destination: LOGIND,
        path,
        interface: 'org.freedesktop.DBus.Properties',
        member: 'GetAll',
        signature: 's',
        body: ['org.freedesktop.login1.Session'],
      });
      props = unwrapVariants(dict as Record<string, { value: unknown }>);
    } catch (error) {
      this.close();
      throw new Error(`logind: ${(error as Error).message}`);
    }
    const idleSinceUs = Number(props.IdleSinceHint ?? 0);
    const idleMs = props.IdleHint === true && idleSinceUs > 0 ? Math.max(0, Date.now() - idleSinceUs / 1000) : 0;
    return { idleMs, locked: props.LockedHint === true };
  }

  close(): void {
    this.bus?.disconnect();
    this.bus = undefined;
    this.sessionPath = undefined;
  }
}
