// The processing queue at a glance, live: counts, mode, throughput, the failed frames and a way to retry them.
import { api, type EntryList, type QueueStatus, type RetriedCount } from '../api.js';
import { every, formatBytes, formatDuration, formatFull, h, ICONS, icon, isoTime, liveIndicator, pageTitle, thumbnail, toast } from '../dom.js';
import type { Route } from '../router.js';

const LIVE_MS = 1500;

export function queuePage(root: HTMLElement, _route: Route): () => void {
  document.title = 'Queue · OpenRecall';
  let stopped = false;

  const tile = (name: string, key: string) => {
    const value = h('span', { class: 'tile__value', id: `queue-${key}` }, '–');
    return { el: h('div', { class: `tile tile--${key}` }, h('span', { class: 'tile__label' }, name), value), value };
  };
  const pending = tile('Pending', 'pending');
  const processing = tile('Processing', 'processing');
  const completed = tile('Completed', 'completed');
  const failed = tile('Failed', 'failed');

  const facts = h('dl', { class: 'facts facts--wide' });
  const system = h('dl', { class: 'facts facts--wide' });
  const retryAll = h('button', { type: 'button', class: 'button button--primary', id: 'retry-failed', disabled: true }, icon(ICONS.retry), 'Retry failed');
  const failedList = h('ul', { class: 'failed', 'aria-label': 'Failed frames' });
  const failedEmpty = h('p', { class: 'muted', hidden: true }, 'No failed frames. Everything that was captured has been processed or is on its way.');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });

  root.append(
    h(
      'div',
      { class: 'page' },
      h('div', { class: 'page__head' }, pageTitle('Processing queue'), liveIndicator()),
      error,
      h('section', { class: 'tiles', 'aria-label': 'Frames by status' }, pending.el, processing.el, completed.el, failed.el),
      h(
        'div',
        { class: 'columns' },
        h('section', { class: 'panel' }, h('h2', { class: 'panel__title' }, 'Processing'), facts),
        h('section', { class: 'panel' }, h('h2', { class: 'panel__title' }, 'Server'), system),
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'failed-title' },
        h('div', { class: 'panel__head' }, h('h2', { class: 'panel__title', id: 'failed-title' }, 'Failed frames'), retryAll),
        failedEmpty,
        failedList,
      ),
    ),
  );

  const fill = (dl: HTMLElement, rows: [string, string | Node][]) =>
    dl.replaceChildren(...rows.flatMap(([name, value]) => [h('dt', null, name), h('dd', null, value)]));

  let failedKey = '';
  async function refresh(): Promise<void> {
    const [status, failures] = await Promise.all([api<QueueStatus>('/api/queue/status'), api<EntryList>('/api/entries?status=FAILED&limit=100')]).catch(
      (e: unknown) => {
        error.textContent = `Could not reach the server: ${(e as Error).message}`;
        error.hidden = false;
        throw e;
      },
    );
    if (stopped) return;
    error.hidden = true;
    const { queue, config, throughput, storage } = status;
    pending.value.textContent = queue.pending.toLocaleString();
    processing.value.textContent = queue.processing.toLocaleString();
    completed.value.textContent = queue.completed.toLocaleString();
    failed.value.textContent = queue.failed.toLocaleString();
    failed.el.classList.toggle('tile--alert', queue.failed > 0);
    retryAll.disabled = queue.failed === 0;
    retryAll.lastChild!.textContent = queue.failed > 0 ? `Retry ${queue.failed.toLocaleString()} failed` : 'Retry failed';

    const modeText = config.current_mode === 'LIFO' ? 'LIFO · newest first' : 'FIFO · oldest first';
    fill(facts, [
      ['Mode', h('span', { id: 'queue-mode' }, modeText)],
      ['LIFO threshold', `newest first above ${config.lifo_threshold.toLocaleString()} pending`],
      [
        'Oldest pending',
        h(
          'span',
          { id: 'queue-oldest' },
          status.oldest_pending_age_seconds === null ? 'none waiting' : `${formatDuration(status.oldest_pending_age_seconds)} ago`,
        ),
      ],
      ['Last minute', `${throughput.completed_last_minute.toLocaleString()} frames`],
      ['Last 5 minutes', `${throughput.completed_last_5_minutes.toLocaleString()} frames`],
      ['Throughput', `${throughput.frames_per_minute.toLocaleString(undefined, { maximumFractionDigits: 1 })} frames/min`],
      ['Workers', `${config.workers} · OCR ${config.ocr_engine}`],
      ['Attempts', `up to ${config.max_attempts} per frame`],
      // The contract makes storage optional (a server without retention wiring has none).
      ...(storage
        ? ([
            [
              'Storage',
              h(
                'span',
                { id: 'queue-storage' },
                `${formatBytes(storage.used_bytes)}${storage.budget_bytes === null ? '' : ` of ${formatBytes(storage.budget_bytes)}`}`,
              ),
            ],
            ['Retention', storage.retention_days === null ? 'keep forever' : `${storage.retention_days.toLocaleString()} days`],
            [
              'Oldest kept',
              h('span', { id: 'queue-oldest-kept' }, storage.oldest_frame_timestamp === null ? 'none' : formatFull(storage.oldest_frame_timestamp)),
            ],
            ...(storage.deleted_frames > 0 ? [['Pruned', `${storage.deleted_frames.toLocaleString()} frames since start`] as [string, string]] : []),
          ] as Array<[string, string | HTMLElement]>)
        : []),
      ...(status.compaction ? [['Compaction', h('span', { id: 'queue-compaction' }, compactionText(status.compaction))] as [string, HTMLElement]] : []),
    ]);
    fill(system, [
      ['Version', status.system.version],
      ['Uptime', formatDuration(status.system.uptime_seconds)],
      ['Memory', `${status.system.rss_mb.toLocaleString(undefined, { maximumFractionDigits: 0 })} MB`],
      ['Runtime', `Node ${status.system.node} · ${status.system.platform} · ${status.system.cpus} CPUs`],
    ]);

    // Rebuild the list only when it changed, so a focused button keeps its focus.
    const key = failures.entries.map((e) => `${e.id}:${e.last_error}:${e.attempts}`).join('|');
    if (key !== failedKey) {
      failedKey = key;
      failedList.replaceChildren(...failures.entries.map(failedItem));
    }
    failedEmpty.hidden = failures.entries.length > 0;
  }

  function failedItem(entry: EntryList['entries'][number]): HTMLElement {
    const retry = h('button', { type: 'button', class: 'button button--small', 'aria-label': `Retry frame ${entry.id}` }, icon(ICONS.retry), 'Retry');
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      try {
        await api(`/api/entries/${entry.id}/retry`, { method: 'POST' });
        toast(`Frame ${entry.id} is queued again`);
      } catch (e) {
        toast(`Could not retry frame ${entry.id}: ${(e as Error).message}`, 'error');
      }
      await refresh().catch(() => {});
    });
    return h(
      'li',
      { class: 'failed__item', 'data-id': entry.id },
      h('a', { class: 'failed__thumb', href: `/entry/${entry.id}`, tabindex: -1, 'aria-hidden': 'true' }, thumbnail(entry.thumbnail_url)),
      h(
        'div',
        { class: 'failed__body' },
        h('p', { class: 'failed__title' }, h('a', { href: `/entry/${entry.id}` }, `${entry.app ?? 'Unknown app'} · ${entry.title || 'Untitled window'}`)),
        h(
          'p',
          { class: 'muted small' },
          h('time', { datetime: isoTime(entry.timestamp) }, formatFull(entry.timestamp)),
          ` · ${entry.attempts} attempt${entry.attempts === 1 ? '' : 's'}`,
        ),
        h('p', { class: 'failed__error' }, entry.last_error ?? 'unknown error'),
      ),
      retry,
    );
  }

  retryAll.addEventListener('click', async () => {
    retryAll.disabled = true;
    try {
      const { retried } = await api<RetriedCount>('/api/queue/retry_failed', { method: 'POST' });
      toast(`${retried} failed frame${retried === 1 ? ' is' : 's are'} queued again`);
    } catch (e) {
      toast(`Could not retry: ${(e as Error).message}`, 'error');
    }
    await refresh().catch(() => {});
  });

  const stop = every(LIVE_MS, refresh);
  return () => {
    stopped = true;
    stop();
  };
}

/** "1,234 frames in 12 MB, 0.08 of their size before · 5 waiting" */
function compactionText(c: NonNullable<QueueStatus['compaction']>): string {
  const done =
    c.compacted_frames > 0
      ? `${c.compacted_frames.toLocaleString()} frames in ${formatBytes(c.stored_bytes)}, ${c.ratio?.toFixed(2)} of their size before`
      : 'nothing compacted yet';
  return `${done}${c.uncompacted_frames > 0 ? ` · ${c.uncompacted_frames.toLocaleString()} not yet (after ${c.after_minutes} min)` : ''}`;
}
