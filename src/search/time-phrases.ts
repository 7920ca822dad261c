/**
 * Times as an AI assistant writes them: ISO 8601, Unix seconds, or phrases such as "yesterday 14:00",
 * "today 9:30", "2 hours ago", "this morning", "last monday", "last week". Phrases are read in the server's
 * local time zone. A phrase names a span ("yesterday" is a whole day): a range's start takes its beginning,
 * its end takes its end. For the MCP tools only: they turn phrases into Unix seconds before calling a service;
 * the HTTP API takes times by the one rule of src/api/time.ts.
 */

export interface TimeSpan {
  /** Unix seconds. */
  start: number;
  end: number;
}

const WEEKDAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const UNITS: Record<string, number> = { second: 1, sec: 1, minute: 60, min: 60, hour: 3600, hr: 3600, day: 86_400, week: 604_800 };
const PARTS_OF_DAY: Record<string, [number, number]> = { morning: [6, 12], afternoon: [12, 18], evening: [18, 24], night: [18, 24] };

const seconds = (date: Date) => date.getTime() / 1000;

function startOfDay(date: Date, offsetDays = 0): Date {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate() + offsetDays);
}

function atHour(day: Date, hour: number, minute = 0): Date {
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), hour, minute);
}

const daySpan = (day: Date): TimeSpan => ({ start: seconds(day), end: seconds(startOfDay(day, 1)) });
const point = (value: number): TimeSpan => ({ start: value, end: value });

/** "14:00", "9:30", "2pm", "2:15 pm", "14h" -> [hour, minute]; undefined when it is not a clock time. */
function clockTime(text: string): [number, number] | undefined {
  const m = /^(\d{1,2})(?:[:h.](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?$/.exec(text) ?? /^(\d{1,2})h$/.exec(text);
  if (!m) return undefined;
  let hour = Number(m[1]);
  const minute = m[2] ? Number(m[2]) : 0;
  const suffix = m[3]?.replaceAll('.', '');
  if (!m[2] && !suffix && !/h$/.test(text)) return undefined; // a bare number is not a time
  if (suffix) {
    if (hour < 1 || hour > 12) return undefined;
    hour = (hour % 12) + (suffix === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return undefined;
  return [hour, minute];
}

/** The day a word names: today, yesterday, a weekday (the latest one, today included), "last <weekday>" (before today). */
function namedDay(text: string, now: Date): Date | undefined {
  if (text === 'today') return startOfDay(now);
  if (text === 'yesterday') return startOfDay(now, -1);
  if (text === 'day before yesterday' || text === 'the day before yesterday') return startOfDay(now, -2);
  const m = /^(last |this |on )?(sunday|monday|tuesday|wednesday|thursday|friday|saturday)$/.exec(text);
  if (!m) return undefined;
  const back = (now.getDay() - WEEKDAYS.indexOf(m[2]!) + 7) % 7;
  return startOfDay(now, m[1] === 'last ' && back === 0 ? -7 : -back);
}

function relative(text: string, now: Date): TimeSpan | undefined {
  // "2 hours ago", "an hour ago", "30 min ago"
  let m = /^(\d+(?:\.\d+)?|an?|one) (second|sec|minute|min|hour|hr|day|week)s? ago$/.exec(text);
  if (m) {
    const count = /^\d/.test(m[1]!) ? Number(m[1]) : 1;
    return point(seconds(now) - count * UNITS[m[2]!]!);
  }
  // "last hour", "past 3 days", "last 30 minutes": from then until now
  m = /^(?:last|past|the last|the past) (?:(\d+(?:\.\d+)?) )?(second|sec|minute|min|hour|hr|day|week)s?$/.exec(text);
  if (m) {
    const count = m[1] ? Number(m[1]) : 1;
    return { start: seconds(now) - count * UNITS[m[2]!]!, end: seconds(now) };
  }
  return undefined;
}

function calendar(text: string, now: Date): TimeSpan | undefined {
  if (text === 'now') return point(seconds(now));
  if (text === 'this week' || text === 'last week') {
    const monday = startOfDay(now, -((now.getDay() + 6) % 7));
    const start = text === 'this week' ? monday : startOfDay(monday, -7);
    return { start: seconds(start), end: text === 'this week' ? seconds(now) : seconds(monday) };
  }
  if (text === 'last night' || text === 'tonight') {
    const day = startOfDay(now, text === 'last night' ? -1 : 0);
    return { start: seconds(atHour(day, 18)), end: seconds(startOfDay(day, 1)) };
  }
  // "this morning", "yesterday afternoon", "monday evening"
  let m = /^(this|today|yesterday|(?:last )?(?:sunday|monday|tuesday|wednesday|thursday|friday|saturday)) (morning|afternoon|evening|night)$/.exec(text);
  if (m) {
    const day = m[1] === 'this' ? startOfDay(now) : namedDay(m[1]!, now);
    if (!day) return undefined;
    const [from, to] = PARTS_OF_DAY[m[2]!]!;
    return { start: seconds(atHour(day, from)), end: seconds(to === 24 ? startOfDay(day, 1) : atHour(day, to)) };
  }
  const day = namedDay(text, now);
  if (day) return daySpan(day);
  // "yesterday 14:00", "today at 9:30", "monday 2pm", "14:00" (today)
  m = /^(?:(.+?) )?(?:at )?(\d{1,2}(?:[:h.]\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)?|\d{1,2}h)$/.exec(text);
  if (m) {
    const time = clockTime(m[2]!.trim());
    const base = m[1] === undefined ? startOfDay(now) : namedDay(m[1], now);
    if (time && base) return point(seconds(atHour(base, time[0], time[1])));
  }
  return undefined;
}

/** Reads a time or a phrase; undefined when it is neither (the caller says what is accepted). */
export function parseTimePhrase(input: string, now: Date = new Date()): TimeSpan | undefined {
  const text = input.trim().toLowerCase().replace(/\s+/g, ' ');
  if (!text) return undefined;
  if (/^\d{9,11}(\.\d+)?$/.test(text)) return point(Number(text));
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const [y, mo, d] = text.split('-').map(Number) as [number, number, number];
    const day = new Date(y, mo - 1, d);
    return Number.isNaN(day.getTime()) || day.getMonth() !== mo - 1 ? undefined : daySpan(day);
  }
  if (/^\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}/.test(text)) {
    const ms = Date.parse(input.trim().replace(' ', 'T'));
    return Number.isNaN(ms) ? undefined : point(ms / 1000);
  }
  // "last week" is the calendar week before this one; "past week" the last seven days.
  if (text === 'last week') return calendar(text, now);
  return relative(text, now) ?? calendar(text, now);
}

export const TIME_HELP =
  'ISO 8601 ("2026-03-14T15:00", "2026-03-14"), Unix seconds, or a phrase in the server\'s local time: "now", "today", "yesterday 14:00", "today 9:30", "2 hours ago", "last 30 minutes", "this morning", "yesterday afternoon", "last monday", "this week"';

/** The short form for schemas a model reads with every request. */
export const TIME_HINT = 'ISO 8601 or a phrase such as "yesterday 14:00", "2 hours ago", "this morning" (server local time)';

/** Resolves a start/end pair given as times or phrases; throws a message naming the field. */
export function timeRange(start: string, end: string | undefined, error: (message: string) => Error): { start: number; end: number } {
  const from = parseTimePhrase(start);
  if (!from) throw error(`invalid field 'start': cannot read "${start.slice(0, 64)}" as a time; use ${TIME_HELP}`);
  const to = end === undefined || end.trim() === '' ? { end: from.end > from.start ? from.end : Date.now() / 1000 } : parseTimePhrase(end);
  if (!to) throw error(`invalid field 'end': cannot read "${end!.slice(0, 64)}" as a time; use ${TIME_HELP}`);
  if (to.end <= from.start) throw error(`invalid time range: 'end' must be after 'start'`);
  return { start: from.start, end: to.end };
}
