import type { ClientSelfReport, HeartbeatBody } from '../api/index.js';

/**
 * MyRecall v3's heartbeat: no client id, but its permission state, its trigger queue and its own switches
 * (`config`), which it owns: it reports them and never takes a pause from the server.
 */
export function isMyRecallV3(body: HeartbeatBody): boolean {
  return body.config !== undefined || body.capture_permission_status !== undefined || body.queue_depth !== undefined;
}

/**
 * Its id: host (as it names itself, else its address) and the devices it captures, so two clients on one machine
 * capturing different screens are two clients, not one `python@127.0.0.1`.
 */
export function myRecallV3Id(body: HeartbeatBody, address: string): string {
  const devices = [...(body.capture_runtime?.active_monitors ?? [])].sort();
  return `myrecall@${body.host ?? address}${devices.length ? `/${devices.join(',')}` : ''}`.slice(0, 128);
}

/** One word for the Settings page, in the order a user acts on it: a missing permission first, then its own pauses. */
export function myRecallV3State(body: HeartbeatBody): string {
  const permission = body.capture_permission_status;
  if (permission && permission !== 'granted') return `permission ${permission}`;
  if (body.config?.recording_enabled === false) return 'paused by the client';
  if (body.config?.upload_enabled === false) return 'upload paused by the client';
  return 'capturing';
}

export function selfReport(body: HeartbeatBody): ClientSelfReport {
  return {
    recording_enabled: body.config?.recording_enabled ?? null,
    upload_enabled: body.config?.upload_enabled ?? null,
    permission_status: body.capture_permission_status ?? null,
    permission_reason: body.capture_permission_reason ?? null,
    queue_depth: body.queue_depth ?? null,
    queue_capacity: body.queue_capacity ?? null,
    dropped: body.overflow_drop_count ?? null,
    collapsed: body.collapse_trigger_count ?? null,
    devices: [...(body.capture_runtime?.active_monitors ?? [])],
  };
}

/** The stored report back (a row written by an older server, or by another kind of client, has none). */
export function parseSelfReport(json: string | null | undefined): ClientSelfReport | null {
  if (!json) return null;
  try {
    return JSON.parse(json) as ClientSelfReport;
  } catch {
    return null;
  }
}
