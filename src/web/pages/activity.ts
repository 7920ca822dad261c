// One day of activity: a bar per app, hour by hour, from the same summary as the MCP `activity` tool. Each
// stretch of use is a link into the timeline at its first frame.
import { type ActivityResponse, api } from '../api.js';
import { dayLabel, formatDuration, formatTime, h, pageTitle } from '../dom.js';
import { navigate, type Route } from '../router.js';

const DAY = 86_400;
/** A stretch narrower than this share of the day would vanish: drawn at least this wide. */
const MIN_WIDTH_PERCENT = 0.25;

function dayStart(value: string | null): Date {
  const m = value ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(value) : null;
  const today = new Date();
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : new Date(today.getFullYear(), today.getMonth(), today.getDate());
}

const dayParam = (date: Date) => `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, '0')}-${String(date.getDate()).padStart(2, '0')}`;
/** Positions through the CSSOM: the Content-Security-Policy forbids style attributes. */
function placed<T extends HTMLElement>(el: T, left: number, width?: number): T {
  el.style.left = `${left}%`;
  if (width !== undefined) el.style.width = `${width}%`;
  return el;
}

const shift = (date: Date, days: number) => new Date(date.getFullYear(), date.getMonth(), date.getDate() + days);

export function activityPage(root: HTMLElement, route: Route): () => void {
  document.title = 'Activity · OpenRecall';
  let stopped = false;
  const day = dayStart(route.query.get('day'));
  const start = day.getTime() / 1000;
  const end = shift(day, 1).getTime() / 1000;

  const dateInput = h('input', { type: 'date', id: 'activity-day', value: dayParam(day), 'aria-label': 'Day' });
  dateInput.addEventListener('change', () => {
    if (dateInput.value) navigate(`/activity?day=${dateInput.value}`);
  });
  const summary = h('p', { class: 'muted', id: 'activity-summary' }, 'Loading…');
  const chart = h('div', { class: 'activity', id: 'activity-chart' });
  const error = h('p', { class: 'error', role: 'alert', hidden: true });

  root.append(
    h(
      'div',
      { class: 'page' },
      h('div', { class: 'page__head' }, pageTitle('Activity'), h('span', { class: 'muted' }, dayLabel(start))),
      h(
        'div',
        { class: 'actions' },
        h('a', { class: 'button', href: `/activity?day=${dayParam(shift(day, -1))}`, id: 'activity-prev' }, '← Previous day'),
        dateInput,
        h('a', { class: 'button', href: `/activity?day=${dayParam(shift(day, 1))}`, id: 'activity-next' }, 'Next day →'),
      ),
      error,
      summary,
      chart,
    ),
  );

  const hours = h(
    'div',
    { class: 'activity__row activity__axis', 'aria-hidden': 'true' },
    h('span', { class: 'activity__label' }),
    h(
      'div',
      { class: 'activity__bar activity__bar--axis' },
      ...Array.from({ length: 8 }, (_, i) => placed(h('span', null, `${String(i * 3).padStart(2, '0')}:00`), (i * 3 * 100) / 24)),
    ),
  );

  void api<ActivityResponse>(`/api/activity?start=${start}&end=${end}`)
    .then((activity) => {
      if (stopped) return;
      if (activity.apps.length === 0) {
        summary.textContent = 'Nothing was captured on this day.';
        return;
      }
      summary.textContent = `${formatDuration(activity.total_seconds)} of activity in ${activity.apps.length} app(s), ${activity.frames.toLocaleString()} frames.${activity.truncated ? ' (Too many frames: the day is cut short.)' : ''}`;
      chart.replaceChildren(
        hours,
        ...activity.apps.map((app) =>
          h(
            'div',
            { class: 'activity__row', 'data-app': app.app },
            h(
              'span',
              {
                class: 'activity__label',
                title: app.windows
                  .slice(0, 5)
                  .map((w) => `${w.title} (${formatDuration(w.seconds)})`)
                  .join('\n'),
              },
              h('strong', null, app.app),
              h('span', { class: 'muted' }, formatDuration(app.seconds)),
            ),
            h(
              'div',
              { class: 'activity__bar', role: 'list', 'aria-label': `${app.app}: ${formatDuration(app.seconds)}` },
              ...app.stretches.map((s) => {
                const left = ((s.start - start) / DAY) * 100;
                const width = Math.max(MIN_WIDTH_PERCENT, ((Math.min(s.end, end) - s.start) / DAY) * 100);
                const label = `${app.app} ${formatTime(s.start)}–${formatTime(s.end)} (${formatDuration(s.seconds)})`;
                const link = h('a', {
                  class: 'activity__stretch',
                  role: 'listitem',
                  href: `/timeline?id=${s.first_frame_id}`,
                  title: label,
                  'aria-label': label,
                  'data-first-frame': s.first_frame_id,
                });
                return placed(link, left, width);
              }),
            ),
          ),
        ),
      );
    })
    .catch((e: unknown) => {
      error.textContent = `Could not load the activity: ${(e as Error).message}`;
      error.hidden = false;
      summary.textContent = '';
    });

  return () => {
    stopped = true;
  };
}
