// Capture control: every capture client that has called in, with a pause/resume switch each and for all, and
// the server's effective settings (read-only; the server never sends secrets).
import {
  api,
  type CaptureClient,
  type ClientList,
  type EncryptionStatus,
  type LockResult,
  type PauseBody,
  type RuntimeConfig,
  type ServerSettings,
} from '../api.js';
import { every, formatBytes, formatFull, h, liveIndicator, pageTitle, toast } from '../dom.js';
import type { Route } from '../router.js';

const LIVE_MS = 2000;
/** The body of a pause or resume (POST /api/clients/paused, /api/clients/:id/paused). */
const json = (body: PauseBody) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) as const;

export function settingsPage(root: HTMLElement, _route: Route): () => void {
  document.title = 'Settings · OpenRecall';
  let stopped = false;
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const rows = h('tbody', { id: 'clients-rows' });
  const empty = h(
    'p',
    { class: 'muted', id: 'clients-empty', hidden: true },
    'No capture client has called in yet. Start one with ',
    h('code', null, 'openrecall client'),
    '.',
  );
  const allState = h('span', { id: 'all-state', class: 'muted' });
  const pauseAll = h('button', { type: 'button', class: 'button', id: 'pause-all' }, 'Pause all');
  const resumeAll = h('button', { type: 'button', class: 'button', id: 'resume-all' }, 'Resume all');
  const serverSettings = h('dl', { class: 'facts facts--wide', id: 'server-settings' });
  const lockButton = h('button', { type: 'button', class: 'button', id: 'lock' }, 'Lock');
  const lockPanel = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'lock-title', id: 'lock-panel', hidden: true },
    h('div', { class: 'panel__head' }, h('h2', { class: 'panel__title', id: 'lock-title' }, 'Encryption'), h('div', { class: 'actions' }, lockButton)),
    h(
      'p',
      { class: 'muted', id: 'lock-source' },
      'The memory is encrypted. Lock closes it and wipes the keys from the server’s memory; capture clients keep their frames until it is unlocked.',
    ),
  );

  root.append(
    h(
      'div',
      { class: 'page' },
      h('div', { class: 'page__head' }, pageTitle('Settings'), liveIndicator()),
      error,
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'clients-title' },
        h(
          'div',
          { class: 'panel__head' },
          h('h2', { class: 'panel__title', id: 'clients-title' }, 'Capture clients'),
          h('div', { class: 'actions' }, allState, pauseAll, resumeAll),
        ),
        empty,
        h(
          'div',
          { class: 'table-wrap' },
          h(
            'table',
            { class: 'table', id: 'clients' },
            h(
              'thead',
              null,
              h('tr', null, ...['Host', 'Version', 'Last seen', 'Online', 'Capture', 'Buffer', ''].map((name) => h('th', { scope: 'col' }, name))),
            ),
            rows,
          ),
        ),
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'server-title' },
        h('h2', { class: 'panel__title', id: 'server-title' }, 'Server settings'),
        h('p', { class: 'muted' }, 'Set with OPENRECALL_* environment variables when the server starts; read-only here.'),
        serverSettings,
      ),
      lockPanel,
    ),
  );

  const act = async (what: string, run: () => Promise<unknown>) => {
    try {
      await run();
      toast(what);
      await refresh();
    } catch (e) {
      toast(`Could not change it: ${(e as Error).message}`, 'error');
    }
  };
  pauseAll.addEventListener('click', () => act('Every client pauses at its next heartbeat', () => api('/api/clients/paused', json({ paused: true }))));
  resumeAll.addEventListener('click', () => act('Every client resumes at its next heartbeat', () => api('/api/clients/paused', json({ paused: false }))));

  function row(client: CaptureClient): HTMLTableRowElement {
    const report = client.self_report;
    const devices = report?.devices.length ? ` · ${report.devices.join(', ')}` : '';
    const label = (client.host ?? client.address ?? client.id) + devices;
    const capture = client.paused ? (client.obeys_server_pause ? 'Paused' : 'Paused by the client') : 'Recording';
    const pending = !client.obeys_server_pause ? '' : client.pause_requested !== client.paused ? (client.pause_requested ? ' · pausing…' : ' · resuming…') : '';
    const own = client.obeys_server_pause ? '' : selfReported(client);
    const button = h(
      'button',
      {
        type: 'button',
        class: 'button button--small',
        'aria-pressed': String(client.pause_requested),
        'aria-label': `${client.pause_requested ? 'Resume' : 'Pause'} ${label}`,
      },
      client.pause_requested ? 'Resume' : 'Pause',
    );
    if (!client.obeys_server_pause) button.title = 'This client owns its switches: pause it in its own app';
    button.addEventListener('click', () =>
      act(`${label} ${client.pause_requested ? 'resumes' : 'pauses'} at its next heartbeat`, () =>
        api(`/api/clients/${encodeURIComponent(client.id)}/paused`, json({ paused: !client.pause_requested })),
      ),
    );
    const buffer =
      report && report.queue_depth !== null
        ? `queue ${report.queue_depth}${report.queue_capacity === null ? '' : `/${report.queue_capacity}`}${report.dropped ? ` · ${report.dropped} dropped` : ''}`
        : client.buffer_bytes === null
          ? '–'
          : `${formatBytes(client.buffer_bytes)}${client.buffer_items === null ? '' : ` · ${client.buffer_items} frame(s)`}`;
    return h(
      'tr',
      { 'data-client': client.id, 'data-paused': String(client.paused), 'data-online': String(client.online) },
      h(
        'td',
        null,
        h('span', { class: 'client__host' }, label),
        client.kind === 'python' ? h('span', { class: 'muted' }, ' (Python client)') : null,
        client.kind === 'myrecall-v3' ? h('span', { class: 'muted' }, ' (MyRecall v3)') : null,
      ),
      h('td', null, client.version ?? '–'),
      h('td', null, h('time', { datetime: new Date(client.last_seen * 1000).toISOString() }, formatFull(client.last_seen))),
      h(
        'td',
        { class: 'client__online' },
        h('span', { class: `badge ${client.online ? 'badge--completed' : 'badge--failed'}` }, client.online ? 'online' : 'offline'),
      ),
      h('td', { class: 'client__capture' }, capture + pending, own ? h('span', { class: 'client__self muted' }, own) : null),
      h('td', { class: 'client__buffer' }, buffer),
      h('td', null, button),
    );
  }

  async function refresh(): Promise<void> {
    const [{ clients }, config] = await Promise.all([api<ClientList>('/api/clients'), api<RuntimeConfig>('/api/config')]).catch((e: unknown) => {
      error.textContent = `Could not reach the server: ${(e as Error).message}`;
      error.hidden = false;
      throw e;
    });
    if (stopped) return;
    error.hidden = true;
    empty.hidden = clients.length > 0;
    // Keep the focused switch focused across a refresh.
    const focused = (document.activeElement as HTMLElement | null)?.closest('tr')?.dataset.client;
    rows.replaceChildren(...clients.map(row));
    if (focused) rows.querySelector<HTMLElement>(`tr[data-client="${CSS.escape(focused)}"] button`)?.focus();
    allState.textContent = config.recording_enabled ? 'Recording allowed' : 'All paused';
    pauseAll.disabled = !config.recording_enabled && clients.every((c) => c.pause_requested);
    resumeAll.disabled = config.recording_enabled && clients.every((c) => !c.pause_requested);
  }

  // Shown only on an encrypted memory whose server can be locked.
  void api<EncryptionStatus>('/api/encryption')
    .then((status) => {
      if (!stopped) lockPanel.hidden = !status.lockable;
    })
    .catch(() => {});
  lockButton.addEventListener('click', async () => {
    if (!window.confirm('Lock OpenRecall? Its pages show nothing until it is unlocked again (passphrase, or `openrecall unlock`).')) return;
    lockButton.disabled = true;
    try {
      await api<LockResult>('/api/lock', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      toast('Locked: the keys are wiped from the server’s memory');
      // The unlock page takes the port over in a moment.
      setTimeout(() => location.assign('/'), 1500);
    } catch (e) {
      lockButton.disabled = false;
      toast(`Could not lock: ${(e as Error).message}`, 'error');
    }
  });

  void api<ServerSettings>('/api/settings').then(({ settings }) => {
    if (!stopped) serverSettings.replaceChildren(...settings.flatMap((s) => [h('dt', null, h('code', null, s.name)), h('dd', null, s.value)]));
  });
  const stop = every(LIVE_MS, () => refresh().catch(() => {}));
  return () => {
    stopped = true;
    stop();
  };
}

/**
 * What a client that owns its switches (MyRecall v3) reported about itself, and that a pause set here does not
 * reach it: it never takes one from the server.
 */
function selfReported(client: CaptureClient): string {
  const report = client.self_report;
  const parts: string[] = [];
  if (report?.upload_enabled === false) parts.push('upload paused by the client');
  if (report?.permission_status && report.permission_status !== 'granted') {
    parts.push(`permission ${report.permission_status}${report.permission_reason ? ` (${report.permission_reason})` : ''}`);
  }
  parts.push(client.pause_requested ? 'does not obey the pause set here: pause it in MyRecall' : 'does not obey server-side pause');
  return ` · ${parts.join(' · ')}`;
}
