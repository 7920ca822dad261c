import net from 'node:net';

const MAGIC = Buffer.from('i3-ipc', 'ascii');
const HEADER = MAGIC.length + 8;

export const SwayMessage = { GET_OUTPUTS: 3, GET_TREE: 4 } as const;

/**
 * One request over sway's IPC socket (the i3-ipc framing: "i3-ipc", payload length and message type as
 * native-endian uint32, then the JSON payload); resolves with the parsed JSON reply.
 */
export function swayRequest(socketPath: string, type: number, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let received = Buffer.alloc(0);
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(timeoutMs, () => fail(new Error(`sway IPC did not answer within ${timeoutMs} ms`)));
    socket.on('error', (error) => fail(new Error(`sway IPC ${socketPath}: ${error.message}`)));
    socket.on('connect', () => {
      const header = Buffer.alloc(HEADER);
      MAGIC.copy(header);
      header.writeUInt32LE(0, MAGIC.length);
      header.writeUInt32LE(type, MAGIC.length + 4);
      socket.write(header);
    });
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < HEADER) return;
      if (!received.subarray(0, MAGIC.length).equals(MAGIC)) return fail(new Error('sway IPC: not an i3-ipc reply'));
      const length = received.readUInt32LE(MAGIC.length);
      if (received.length < HEADER + length) return;
      socket.end();
      try {
        resolve(JSON.parse(received.subarray(HEADER, HEADER + length).toString('utf8')));
      } catch (error) {
        reject(new Error(`sway IPC: bad JSON reply (${(error as Error).message})`));
      }
    });
  });
}

export interface SwayNode {
  type?: string;
  name?: string | null;
  focused?: boolean;
  pid?: number;
  app_id?: string | null;
  window_properties?: { class?: string; instance?: string; title?: string };
  nodes?: SwayNode[];
  floating_nodes?: SwayNode[];
}

/** The focused node of a get_tree reply (a window, or a workspace/output when no window has the focus). */
export function focusedNode(tree: SwayNode): SwayNode | undefined {
  const stack = [tree];
  while (stack.length) {
    const node = stack.pop()!;
    if (node.focused) return node;
    stack.push(...(node.nodes ?? []), ...(node.floating_nodes ?? []));
  }
  return undefined;
}

export interface SwayOutput {
  name: string;
  active: boolean;
  primary?: boolean;
  rect: { x: number; y: number; width: number; height: number };
}
