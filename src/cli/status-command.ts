import type { CompactionStatus, StorageStatus } from '../api/index.js';
import { ApiClient } from '../api-client/client.js';

export async function statusCommand(args: string[]): Promise<number> {
  const client = ApiClient.fromEnv();
  const base = client.baseUrl;
  const status = await client.queueStatus(5000);
  if (args.includes('--json')) {
    console.log(JSON.stringify(status, null, 2));
    return 0;
  }
  const { queue, config, throughput } = status;
  const age = status.oldest_pending_age_seconds;
  console.log(
    [
      `OpenRecall ${status.system.version} at ${base} (up ${status.system.uptime_seconds} s, ${status.system.rss_mb} MB)`,
      `  pending     ${queue.pending}${age === null ? '' : `  (oldest waiting ${age} s)`}`,
      `  processing  ${queue.processing}`,
      `  completed   ${queue.completed}`,
      `  failed      ${queue.failed}`,
      `  mode        ${config.current_mode} (LIFO when pending > ${config.lifo_threshold})`,
      `  throughput  ${throughput.completed_last_minute} frame(s) in the last minute, ${throughput.frames_per_minute}/min over 5 min`,
      `  OCR         ${config.ocr_engine} x${config.workers}`,
      ...(status.storage ? [`  storage     ${storageLine(status.storage)}`] : []),
      ...(status.compaction ? [`  compaction  ${compactionLine(status.compaction)}`] : []),
    ].join('\n'),
  );
  return 0;
}

function storageLine(s: StorageStatus): string {
  const gb = (bytes: number) => (bytes < 1024 ** 3 ? `${(bytes / 1024 ** 2).toFixed(1)} MB` : `${(bytes / 1024 ** 3).toFixed(2)} GB`);
  const parts = [
    `${gb(s.used_bytes)} used${s.budget_bytes !== null ? ` of ${gb(s.budget_bytes)}` : ''} (images ${gb(s.images_bytes)}, thumbnails ${gb(s.thumbnails_bytes)}, database ${gb(s.database_bytes)})`,
  ];
  parts.push(s.retention_days !== null ? `keeping ${s.retention_days} day(s)` : 'kept forever');
  if (s.oldest_frame_timestamp !== null)
    parts.push(`oldest frame ${new Date(s.oldest_frame_timestamp * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
  if (s.deleted_frames > 0) parts.push(`${s.deleted_frames} frame(s) deleted since start`);
  return parts.join(', ');
}

function compactionLine(c: CompactionStatus): string {
  const mb = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MB`;
  const done =
    c.compacted_frames > 0
      ? `${c.compacted_frames} frame(s) in ${mb(c.stored_bytes)} instead of ${mb(c.original_bytes)} (ratio ${c.ratio})`
      : 'nothing compacted yet';
  return `${done}; ${c.uncompacted_frames} frame(s) not compacted (compacting after ${c.after_minutes} min)`;
}
