import { ApiError } from '../errors.js';

const ISO_8601 = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:\.\d{1,9})?)?)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * MyRecall's time rule (its client sends `datetime.isoformat()`; its server reads them so): ISO-8601 with a date,
 * an optional time and an optional offset, which is honoured ("+08:00", "Z"); without an offset, UTC. Unlike
 * the rest of this API (time.ts), never the server's local time: the client's clock and zone are not the server's.
 * Returns Unix seconds; anything else is a 400 naming the field.
 */
export function parseIsoTime(value: string, field: string): number {
  const match = ISO_8601.exec(value.trim());
  let seconds = Number.NaN;
  if (match) {
    const [, date, hoursMinutes = '00:00', secondsPart = ':00', zone = 'Z'] = match;
    const fraction = secondsPart.includes('.') ? `.${secondsPart.split('.')[1]!.padEnd(3, '0').slice(0, 3)}` : '';
    const offset = zone === 'Z' || zone === 'z' ? 'Z' : zone.includes(':') ? zone : `${zone.slice(0, 3)}:${zone.slice(3)}`;
    seconds = Date.parse(`${date}T${hoursMinutes}${secondsPart.slice(0, 3)}${fraction}${offset}`) / 1000;
  }
  if (!Number.isFinite(seconds)) {
    throw new ApiError(400, `invalid field '${field}': "${value.slice(0, 64)}" is not an ISO-8601 time (e.g. 2026-03-06T09:30:00+08:00)`, 'INVALID_FIELD');
  }
  return seconds;
}

/** Unix seconds as MyRecall writes times: ISO-8601 UTC with milliseconds and "Z". */
export const isoTime = (seconds: number): string => new Date(seconds * 1000).toISOString();
