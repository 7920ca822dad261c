import { upload } from '../helpers/api.js';
import { renderTextImage } from '../helpers/images.js';
import { localTime } from './helpers.js';

export interface SeedFrame {
  app: string;
  title: string;
  lines: string[];
  timestamp: number;
}

/** Screens of a plausible day, each with one rare word that a test can search for. */
export function seedFrames(): SeedFrame[] {
  return [
    {
      app: 'Firefox',
      title: 'Quarterly budget review - Mozilla Firefox',
      timestamp: localTime(2, 9, 12),
      lines: [
        'Quarterly budget review',
        'Marketing spend rose in the autumn campaign',
        'The falcon project needs another engineer',
        'Approved by the finance committee',
      ],
    },
    {
      app: 'Terminal',
      title: 'ssh build-server',
      timestamp: localTime(2, 10, 40),
      lines: [
        'Last login from the office network',
        'Updating the kernel on the build server',
        'Reading package lists done',
        'Restart required for the new kernel',
      ],
    },
    {
      app: 'Code',
      title: 'timeline.ts - openrecall',
      timestamp: localTime(1, 14, 5),
      lines: [
        'export function scrub through history',
        'The slider moves one frame per key press',
        'Thumbnails are loaded lazily',
        'Remember the walrus in the parking lot',
      ],
    },
    {
      app: 'Slack',
      title: 'general - Team chat',
      timestamp: localTime(1, 16, 30),
      lines: ['Lunch at the harbor restaurant tomorrow', 'Who is bringing the lantern for the garden party', 'Meeting moved to Thursday afternoon'],
    },
    {
      app: 'Firefox',
      title: 'Recipes: ginger soup - Mozilla Firefox',
      timestamp: localTime(0, 8, 45),
      lines: ['Ginger and pumpkin soup', 'Peel the ginger and chop the onions', 'Simmer for twenty minutes with coconut milk', 'Serves four people'],
    },
    {
      app: 'Thunderbird',
      title: 'Inbox - Invoice from the printer company',
      timestamp: localTime(0, 9, 20),
      lines: ['Invoice number seven for the office printer', 'Payment due at the end of the month', 'Contact the accountant with questions'],
    },
  ];
}

export async function uploadSeed(api: string, frames = seedFrames()): Promise<number[]> {
  const ids: number[] = [];
  let seed = 1;
  for (const frame of frames) {
    const response = await upload(api, {
      image: await renderTextImage(frame.lines, { seed: seed++ }),
      app: frame.app,
      title: frame.title,
      timestamp: frame.timestamp,
    });
    ids.push(response.body.task_id as number);
  }
  return ids;
}

// `node --import tsx test/web/seed.ts http://127.0.0.1:8083/api` fills a running server for a look around.
if (import.meta.url === `file://${process.argv[1]}`) {
  const api = process.argv[2] ?? 'http://127.0.0.1:8083/api';
  console.log(await uploadSeed(api));
}
