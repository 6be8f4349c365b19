import type { QuietHours } from './campaign.js';

/**
 * Quiet hours: no message between start and end on the person's own clock.
 * Wall time comes from Intl (the platform's tz database), so DST is the
 * database's, not ours; the one thing computed here is the instant a wall
 * time falls on, which a DST change can make twice (autumn) or never (spring).
 */

export interface QuietHoursIssue {
  field: string;
  message: string;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$/;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

// One formatter per zone: building one costs far more than formatting with it, and the sender asks per person.
const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterFor(zone: string): Intl.DateTimeFormat | null {
  let f = formatters.get(zone);
  if (f !== undefined) return f;
  try {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    f = null;
  }
  // Traits are free text: a bounded cache keeps a flood of junk zone names from growing it without end.
  if (formatters.size > 2_000) formatters.clear();
  formatters.set(zone, f);
  return f;
}

/** An IANA zone name this runtime knows (`Asia/Shanghai`, `UTC`); offsets like `+08:00` and abbreviations like `CST` are not. */
export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.length > 64) return false;
  // CST means three different zones; only Region/City names (and UTC) say which.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(zone)) return false;
  if (!zone.includes('/') && zone !== 'UTC' && zone !== 'Etc/UTC') return false;
  return formatterFor(zone) !== null;
}

interface Wall {
  year: number;
  month: number;
  day: number;
  /** minutes since local midnight, with seconds as a fraction */
  minutes: number;
}

function wallOf(instant: number, f: Intl.DateTimeFormat): Wall {
  const wall: Wall = { year: 0, month: 0, day: 0, minutes: 0 };
  for (const part of f.formatToParts(instant)) {
    const n = Number(part.value);
    switch (part.type) {
      case 'year':
        wall.year = n;
        break;
      case 'month':
        wall.month = n;
        break;
      case 'day':
        wall.day = n;
        break;
      case 'hour':
        wall.minutes += n * 60;
        break;
      case 'minute':
        wall.minutes += n;
        break;
      case 'second':
        wall.minutes += n / 60;
        break;
    }
  }
  return wall;
}

/** The wall time read as if it were UTC: local minus UTC is then the zone's offset at that instant. */
function wallAsUtc(w: Wall): number {
  return Date.UTC(w.year, w.month - 1, w.day) + Math.round(w.minutes * MINUTE);
}

function offsetAt(instant: number, f: Intl.DateTimeFormat): number {
  return wallAsUtc(wallOf(instant, f)) - Math.floor(instant / 1000) * 1000;
}

/**
 * The instants at which the zone's clock reads `wall` (a local time written as
 * UTC milliseconds), earliest first: one normally, two in an autumn overlap,
 * and in a spring gap none, when the moment the clocks jump is returned.
 */
function instantsOf(wall: number, f: Intl.DateTimeFormat): number[] {
  // No zone shifts more than once within a day either side, so the offsets half a day away are the only candidates.
  const before = offsetAt(wall - 12 * HOUR, f);
  const after = offsetAt(wall + 12 * HOUR, f);
  const found = new Set<number>();
  for (const offset of [before, after]) {
    const candidate = wall - offset;
    if (wallAsUtc(wallOf(candidate, f)) === wall) found.add(candidate);
  }
  if (found.size > 0) return [...found].sort((a, b) => a - b);
  // A spring gap: the wall time is skipped. Its first instant past is the jump itself, found by bisection.
  let lo = wall - after;
  let hi = wall - before;
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (offsetAt(mid, f) === after) hi = mid;
    else lo = mid;
  }
  return [hi];
}

function minutesOf(hhmm: string): number | null {
  const m = HH_MM.exec(hhmm);
  return m ? Number(m[1]) * 60 + Number(m[2]) : null;
}

/**
 * Null when a message may go now; otherwise the first instant after `now`
 * when quiet hours end on the person's clock: in their `timezone` trait when
 * that is a valid IANA zone, else in `quiet.timezone`. start == end means
 * no quiet hours. Throws only for quiet hours validateQuietHours refuses.
 */
export function quietUntil(now: Date, quiet: QuietHours, profileTimezone?: unknown): Date | null {
  const start = minutesOf(quiet.start);
  const end = minutesOf(quiet.end);
  if (start === null || end === null) throw new Error(`quiet hours ${quiet.start}–${quiet.end} are not HH:MM`);
  if (start === end) return null;
  const zone = isTimeZone(profileTimezone) ? profileTimezone : quiet.timezone;
  const f = formatterFor(zone);
  if (!f) throw new Error(`quiet hours time zone ${quiet.timezone} is unknown`);
  const instant = now.getTime();
  const wall = wallOf(instant, f);
  const m = wall.minutes;
  const overnight = start > end;
  const quietNow = overnight ? m >= start || m < end : m >= start && m < end;
  if (!quietNow) return null;
  // Ends today, unless it began this evening and runs past midnight.
  const endsTomorrow = overnight && m >= start;
  const endWall = Date.UTC(wall.year, wall.month - 1, wall.day) + (endsTomorrow ? DAY : 0) + end * MINUTE;
  const candidates = instantsOf(endWall, f);
  // In an autumn overlap the end's first occurrence may already be behind us (we are in the repeated hour).
  const next = candidates.find((c) => c > instant) ?? candidates[candidates.length - 1]!;
  return new Date(next);
}

/** Issues naming `quietHours.start`, `quietHours.end`, `quietHours.timezone`; empty when the quiet hours are usable. */
export function validateQuietHours(q: unknown): QuietHoursIssue[] {
  if (q === null || typeof q !== 'object' || Array.isArray(q)) return [{ field: 'quietHours', message: 'quietHours must be an object with start, end (HH:MM) and timezone' }];
  const { start, end, timezone } = q as Record<string, unknown>;
  const issues: QuietHoursIssue[] = [];
  for (const [field, value] of [['start', start], ['end', end]] as const) {
    if (typeof value !== 'string' || !HH_MM.test(value)) issues.push({ field: `quietHours.${field}`, message: `quietHours.${field} must be a time of day as HH:MM, 00:00 to 23:59 (got ${JSON.stringify(value) ?? 'nothing'})` });
  }
  if (!isTimeZone(timezone)) issues.push({ field: 'quietHours.timezone', message: `quietHours.timezone must be an IANA time zone such as Asia/Shanghai or Europe/Berlin (got ${JSON.stringify(timezone) ?? 'nothing'})` });
  return issues;
}
