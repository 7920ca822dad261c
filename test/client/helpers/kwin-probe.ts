// Run as the desktop's user (KWin reads the script file as that user): prints the active window from
// KWinWindowInfo as one JSON line every 200 ms, until killed.
import { KWinWindowInfo } from '../../../src/client/capture/kwin-window.js';

const kwin = new KWinWindowInfo(process.env);
process.on('SIGTERM', () => {
  kwin.close();
  setTimeout(() => process.exit(0), 200);
});
for (;;) {
  try {
    console.log(JSON.stringify(await kwin.active()));
  } catch (error) {
    console.log(JSON.stringify({ error: (error as Error).message }));
  }
  await new Promise((r) => setTimeout(r, 200));
}
