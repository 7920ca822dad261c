import os from 'node:os';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

export interface HostPolicyOptions {
  /** OPENRECALL_HOST (the bind address). */
  bindHost: string;
  /** OPENRECALL_ALLOWED_HOSTS, lower case: `name` or `name:port`. */
  allowedHosts: readonly string[];
}

/** How a name or address is written in a Host header (IPv6 in brackets). */
function hostForm(name: string): string {
  const lower = name.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
}

/**
 * Which `Host` values (and so which origins) the server answers to. A DNS-rebinding page reaches the server
 * under its own name: only names the user configured are accepted, plus loopback and (bound to every interface)
 * the machine's own addresses, which no attacker's DNS can hand out under another name.
 */
export class HostPolicy {
  private readonly names: string[];
  private readonly exact: string[];
  private readonly cache = new Map<number, Set<string>>();

  constructor(options: HostPolicyOptions) {
    const names = new Set(LOOPBACK_NAMES);
    if (WILDCARDS.has(options.bindHost)) {
      for (const addresses of Object.values(os.networkInterfaces())) for (const a of addresses ?? []) names.add(hostForm(a.address));
    } else names.add(hostForm(options.bindHost));
    const exact: string[] = [];
    for (const entry of options.allowedHosts) {
      if (/:\d+$/.test(entry)) exact.push(entry);
      else names.add(hostForm(entry));
    }
    this.names = [...names];
    this.exact = exact;
  }

  /** Every accepted Host value for a server listening on `port`: each name bare (a default port) or with the port. */
  hosts(port: number | undefined): Set<string> {
    const key = port ?? -1;
    let hosts = this.cache.get(key);
    if (!hosts) {
      hosts = new Set([...this.exact, ...this.names, ...(port === undefined ? [] : this.names.map((n) => `${n}:${port}`))]);
      this.cache.set(key, hosts);
    }
    return hosts;
  }

  /** Every accepted Origin for that port: an accepted host over http or https. */
  origins(port: number | undefined): string[] {
    return [...this.hosts(port)].flatMap((h) => [`http://${h}`, `https://${h}`]);
  }

  allowsHost(host: string | undefined, port: number | undefined): boolean {
    return host !== undefined && this.hosts(port).has(host.toLowerCase());
  }

  /** An Origin header is `scheme://host[:port]` exactly; `null` (a sandboxed page, a file) is never accepted. */
  allowsOrigin(origin: string, port: number | undefined): boolean {
    const match = /^(https?):\/\/([^/]+)$/i.exec(origin);
    return match !== null && this.allowsHost(match[2], port);
  }
}
