// logind's wire protocol on a private D-Bus system bus: the client reads IdleHint/LockedHint from it exactly as
// from systemd-logind (which cannot run in a container without systemd as PID 1).
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import dbus, { type Message as DbusMessage, type MessageBus } from 'dbus-next';
import { tempDir } from '../../helpers/temp-dir.js';

const SESSION_PATH = '/org/freedesktop/login1/session/_31';

export interface FakeLogind {
  /** For the client: DBUS_SYSTEM_BUS_ADDRESS. */
  address: string;
  setLocked(locked: boolean): void;
  close(): Promise<void>;
}

export async function startFakeLogind(): Promise<FakeLogind> {
  const dir = tempDir('openrecall-logind-');
  const socket = path.join(dir, 'system_bus_socket');
  const config = path.join(dir, 'bus.conf');
  fs.writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>system</type><listen>unix:path=${socket}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>`,
  );
  const daemon: ChildProcess = spawn('dbus-daemon', ['--config-file', config, '--nofork', '--nopidfile', '--print-address'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  daemon.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('\n')) resolve(out.trim());
    });
    daemon.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code}): ${stderr}`)));
  });
  let locked = false;
  let bus: MessageBus | undefined;
  try {
    bus = dbus.sessionBus({ busAddress: address });
    await bus.requestName('org.freedesktop.login1', 0);
  } catch (error) {
    daemon.kill('SIGKILL');
    throw error;
  }
  const { Message, Variant } = dbus;
  bus.addMethodHandler((msg: DbusMessage) => {
    const reply = (signature: string, body: unknown[]) => {
      bus!.send(Message.newMethodReturn(msg, signature, body));
      return true;
    };
    if (msg.interface === 'org.freedesktop.login1.Manager' && (msg.member === 'GetSession' || msg.member === 'GetSessionByPID')) {
      return reply('o', [SESSION_PATH]);
    }
    if (msg.path === SESSION_PATH && msg.interface === 'org.freedesktop.DBus.Properties' && msg.member === 'GetAll') {
      return reply('a{sv}', [
        {
          IdleHint: new Variant('b', false),
          IdleSinceHint: new Variant('t', 0n),
          LockedHint: new Variant('b', locked),
          Type: new Variant('s', 'wayland'),
        },
      ]);
    }
    return false;
  });
  return {
    address,
    setLocked: (value) => {
      locked = value;
    },
    close: async () => {
      bus?.disconnect();
      if (daemon.exitCode === null) {
        const exited = new Promise((r) => daemon.once('exit', r));
        daemon.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
