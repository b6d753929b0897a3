/**
 * Sending windows as pure functions: "is this instant inside the window, and if not, when
 * does the window next open", in an IANA timezone, using only Intl (so DST transitions come
 * from the platform's tz database).
 */

export interface SendWindow {
  timezone: string;
  /** local opening time, "HH:MM" or "HH:MM:SS" */
  start: string;
  /** local closing time (exclusive); "24:00" means end of day */
  end: string;
  /** ISO weekdays on which the window opens (1 = Monday … 7 = Sunday) */
  days: number[];
}

export const DEFAULT_SEND_WINDOW: Omit<SendWindow, 'timezone'> = { start: '09:00', end: '20:00', days: [1, 2, 3, 4, 5, 6] };

const DAY_MS = 86_400_000;
const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

// Keyed by the zone name as stored, and Intl takes any casing of a name: bounded (beyond the
// ~600 IANA zones), or a million leads with a million spellings would hold a formatter each.
const MAX_CACHED_ZONES = 1_000;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Sets `key` in a per-zone cache, emptied first when full. */
function cache<T>(map: Map<string, T>, key: string, value: T): T {
  if (map.size >= MAX_CACHED_ZONES && !map.has(key)) map.clear();
  map.set(key, value);
  return value;
}

function formatter(timezone: string): Intl.DateTimeFormat {
  let format = formatters.get(timezone);
  if (!format) {
    format = cache(formatters, timezone, new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    }));
  }
  return format;
}

export function isValidTimezone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

interface LocalTime {
  year: number;
  month: number;
  day: number;
  weekday: number;
  /** seconds since local midnight */
  seconds: number;
}

// The dispatcher asks the same instant of every lead in a batch: the last answer per
// timezone is kept, as Intl formatting is most of a due touch's planning cost.
const lastLocalTime = new Map<string, { at: number; local: LocalTime }>();

function localTime(at: Date, timezone: string): LocalTime {
  const last = lastLocalTime.get(timezone);
  if (last?.at === at.getTime()) return last.local;
  return cache(lastLocalTime, timezone, { at: at.getTime(), local: formatLocalTime(at, timezone) }).local;
}

function formatLocalTime(at: Date, timezone: string): LocalTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(timezone).formatToParts(at)) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    weekday: WEEKDAYS[parts.weekday],
    seconds: Number(parts.hour) * 3600 + Number(parts.minute) * 60 + Number(parts.second),
  };
}

/** The timezone's offset from UTC at `at`, in milliseconds (positive east of Greenwich). */
function offsetAt(at: Date, timezone: string): number {
  const local = localTime(at, timezone);
  const asUtc = Date.UTC(local.year, local.month - 1, local.day) + local.seconds * 1000;
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/**
 * The instant of a local wall-clock time: the offset is looked up twice so a time on a DST
 * day uses the offset in force at that time, not at midnight. A time a spring-forward
 * transition skips is read as the clock would have shown it without the jump, the gap's
 * length later (02:30 on New York's spring-forward day is 03:30 EDT): an opening inside the
 * gap must not resolve to an instant before the gap, when the window is still closed.
 */
export function zonedInstant(year: number, month: number, day: number, secondsOfDay: number, timezone: string): Date {
  const wall = Date.UTC(year, month - 1, day) + secondsOfDay * 1000;
  const firstOffset = offsetAt(new Date(wall), timezone);
  const offset = offsetAt(new Date(wall - firstOffset), timezone);
  const instant = wall - offset;
  if (offsetAt(new Date(instant), timezone) === offset) return new Date(instant);
  // skipped: of the offsets on either side of the gap, the earlier (smaller) one
  return new Date(wall - Math.min(firstOffset, offset));
}

function secondsOf(time: string): number {
  const [hours, minutes, seconds] = time.split(':').map(Number);
  return hours * 3600 + (minutes || 0) * 60 + (seconds || 0);
}

export function isInsideWindow(at: Date, window: SendWindow): boolean {
  const local = localTime(at, window.timezone);
  return window.days.includes(local.weekday) && local.seconds >= secondsOf(window.start) && local.seconds < secondsOf(window.end);
}

/**
 * `at` itself when it is inside the window, else the window's next opening. A window that
 * never opens (no days, or start not before end) does not hold anything back.
 */
export function nextOpening(at: Date, window: SendWindow): Date {
  const start = secondsOf(window.start);
  if (window.days.length === 0 || start >= secondsOf(window.end) || isInsideWindow(at, window)) return at;
  const local = localTime(at, window.timezone);
  for (let offsetDays = 0; offsetDays <= 7; offsetDays++) {
    // noon of the candidate day, so the calendar step never lands on a DST edge
    const day = localTime(new Date(Date.UTC(local.year, local.month - 1, local.day, 12) + offsetDays * DAY_MS), 'UTC');
    const weekday = ((local.weekday - 1 + offsetDays) % 7) + 1;
    if (!window.days.includes(weekday)) continue;
    const opening = zonedInstant(day.year, day.month, day.day, start, window.timezone);
    if (opening.getTime() > at.getTime()) return opening;
  }
  return at;
}
