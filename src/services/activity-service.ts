import type { ActivityResponse, AppActivity, Stretch } from '../api/index.js';
import type { ActivityFrame, ActivityRepository } from '../store/ports.js';

/**
 * Frames are taken only when the screen changes, so a frame stands for the time until the next one; a longer
 * silence (idle, locked, paused) ends the stretch and counts as this long at most.
 */
export const MAX_GAP_SECONDS = 300;
/** The last frame of a stretch (with nothing after it) counts this long. */
const LAST_FRAME_SECONDS = 10;
const MAX_FRAMES = 200_000;
const UNKNOWN_APP = '(unknown)';

/** Time spent per app and window title over a range: the MCP `activity` tool and the UI's activity view. */
export class ActivityService {
  constructor(private readonly repo: ActivityRepository) {}

  async summary(start: number, end: number, options: { app?: string } = {}): Promise<ActivityResponse> {
    const all = await this.repo.frames(start, end, MAX_FRAMES + 1);
    const truncated = all.length > MAX_FRAMES;
    const frames = truncated ? all.slice(0, MAX_FRAMES) : all;
    const wanted = options.app?.toLowerCase();
    const apps = new Map<string, AppActivity>();
    const windows = new Map<string, Map<string, number>>();
    let open: Stretch | undefined;
    const close = () => {
      if (!open) return;
      apps.get(open.app)!.stretches.push(open);
      open = undefined;
    };

    frames.forEach((frame: ActivityFrame, i) => {
      const app = frame.app?.trim() || UNKNOWN_APP;
      const next = frames[i + 1];
      const gap = next ? next.timestamp - frame.timestamp : Infinity;
      const seconds = Math.min(gap, next ? MAX_GAP_SECONDS : LAST_FRAME_SECONDS, Math.max(0, end - frame.timestamp));
      if (wanted !== undefined && app.toLowerCase() !== wanted) {
        close();
        return;
      }
      if (!apps.has(app)) {
        apps.set(app, { app, seconds: 0, frames: 0, windows: [], stretches: [] });
        windows.set(app, new Map());
      }
      const entry = apps.get(app)!;
      entry.seconds += seconds;
      entry.frames++;
      const title = frame.title?.trim() || '(no title)';
      const titles = windows.get(app)!;
      titles.set(title, (titles.get(title) ?? 0) + seconds);

      if (open && open.app !== app) close();
      if (!open) open = { app, start: frame.timestamp, end: frame.timestamp, seconds: 0, first_frame_id: frame.id, last_frame_id: frame.id, frames: 0 };
      open.end = frame.timestamp + seconds;
      open.seconds += seconds;
      open.last_frame_id = frame.id;
      open.frames++;
      if (gap > MAX_GAP_SECONDS) close();
    });
    close();

    const list = [...apps.values()]
      .map((a) => ({
        ...a,
        seconds: round(a.seconds),
        windows: [...windows.get(a.app)!.entries()].map(([title, s]) => ({ title, seconds: round(s) })).sort((x, y) => y.seconds - x.seconds),
        stretches: a.stretches.map((s) => ({ ...s, seconds: round(s.seconds) })),
      }))
      .sort((x, y) => y.seconds - x.seconds);
    return {
      start,
      end,
      total_seconds: round(list.reduce((sum, a) => sum + a.seconds, 0)),
      frames: frames.length,
      truncated,
      apps: list,
    };
  }
}

const round = (n: number) => Math.round(n * 10) / 10;
