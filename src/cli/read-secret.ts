import readline from 'node:readline';

let piped: AsyncIterator<string> | undefined;

/**
 * A passphrase from the user: typed at a terminal without echo, or the next line of stdin when it is not a
 * terminal (scripts: `printf 'old\nnew\n' | openrecall rekey --to passphrase`).
 */
export async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    piped ??= readline.createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
    const line = await piped.next();
    if (line.done) throw new Error(`${prompt.replace(/:\s*$/, '')}: stdin ended before it was given`);
    return line.value;
  }
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  try {
    return await new Promise<string>((resolve, reject) => {
      let typed = '';
      const onData = (data: Buffer) => {
        for (const char of data.toString('utf8')) {
          if (char === '\r' || char === '\n') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            resolve(typed);
            return;
          }
          if (char === '\u0003') {
            stdin.off('data', onData);
            process.stderr.write('\n');
            reject(new Error('cancelled'));
            return;
          }
          if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
          else typed += char;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
  }
}
