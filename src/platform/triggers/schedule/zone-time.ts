/**
 * Wall-clock fields in an IANA time zone through Intl, and back. Node ships full ICU, so every
 * zone EventBridge Scheduler accepts is known here too.
 */
import { ScheduleConfigError } from './schedule-errors.js';

export interface WallTime {
  year: number;
  /** 1-12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const dayMs = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

/** True for UTC spellings, which take the arithmetic path (no Intl at all). */
export function isUtc(timeZone: string | undefined): boolean {
  return timeZone === undefined || timeZone === 'UTC' || timeZone === 'Etc/UTC';
}

/** Throws ScheduleConfigError (NIMBUS_SCHEDULE_BAD_CONFIG) for a name Intl does not know. */
export function assertTimeZone(timeZone: string): void {
  try {
    format(timeZone);
  } catch {
    throw new ScheduleConfigError(
      `timezone ${JSON.stringify(timeZone)} is not an IANA time zone name (e.g. Europe/Berlin)`,
    );
  }
}

export function wallTime(instantMs: number, timeZone: string | undefined): WallTime {
  const d = new Date(instantMs + (isUtc(timeZone) ? 0 : offsetMs(instantMs, timeZone!)));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
  };
}

/**
 * The instant a wall-clock minute names, following EventBridge Scheduler: a time that does not
 * exist (skipped by a spring-forward) gives undefined, so that slot is skipped; a time that
 * happens twice (fall-back) gives the first occurrence, so it fires once. Either way instants
 * rise with wall time, which lets next-fire.ts stop at the first candidate past `after`.
 */
export function instantOf(wall: WallTime, timeZone: string | undefined): number | undefined {
  const asUtc = Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute);
  if (isUtc(timeZone)) return asUtc;
  const zone = timeZone!;
  // The offsets a day either side cover both sides of any one transition near this time.
  const before = offsetMs(asUtc - dayMs, zone);
  const after = offsetMs(asUtc + dayMs, zone);
  let best: number | undefined;
  for (const offset of before === after ? [before] : [before, after]) {
    const instant = asUtc - offset;
    if (offsetMs(instant, zone) === offset && (best === undefined || instant < best)) {
      best = instant;
    }
  }
  return best;
}

/** Zone offset from UTC at an instant (positive east of Greenwich), whole seconds. */
function offsetMs(instantMs: number, timeZone: string): number {
  const at = Math.floor(instantMs / 1000) * 1000;
  const parts: Record<string, number> = {};
  for (const part of format(timeZone).formatToParts(at)) {
    if (part.type !== 'literal') parts[part.type] = Number(part.value);
  }
  const wallMs = Date.UTC(
    parts.year!,
    parts.month! - 1,
    parts.day!,
    parts.hour!,
    parts.minute!,
    parts.second!,
  );
  return wallMs - at;
}

function format(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(timeZone, f);
  }
  return f;
}
