import { ApiError } from '../errors.js';

const UNIX_SECONDS = /^-?\d+(\.\d+)?$/;
const ISO_DATE_START = /^\d{4}-\d{2}-\d{2}/;

/**
 * The one rule for a time in a query parameter (search and activity `start`/`end`, timeline `t`):
 * - Unix seconds: digits with an optional fraction and sign ("1700000000", "1700000000.5");
 * - or ISO 8601 starting with a full date ("2024-05-01", "2024-05-01T09:30:00Z"); without a zone, a date-time
 *   is the server's local time and a date alone is UTC midnight (as in JavaScript's Date.parse).
 * Surrounding spaces are ignored; empty means "not given" (undefined); anything else is a 400 naming the field.
 */
export function parseTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  let seconds = Number.NaN;
  if (UNIX_SECONDS.test(trimmed)) seconds = Number(trimmed);
  else if (ISO_DATE_START.test(trimmed)) seconds = Date.parse(trimmed) / 1000;
  if (!Number.isFinite(seconds)) {
    throw new ApiError(400, `invalid field '${field}': "${value.slice(0, 64)}" is neither Unix seconds nor an ISO 8601 date`, 'INVALID_FIELD');
  }
  return seconds;
}
