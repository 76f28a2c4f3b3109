/**
 * When a newsletter may be sent (docs/design.md, "Scheduling and
 * continuation"). Pure: the caller passes the clock's reading.
 *
 * `send_after` is an RFC 3339 date-time with its zone (the schema refuses one
 * without: `2026-12-08T10:00:00+09:00` is 10:00 in Tokyo, 01:00 UTC); before
 * it, `send` sends nothing and exits EXIT_SCHEDULED. `cancelled: true` stops
 * a newsletter that has not begun: `send` refuses it and `due` skips it.
 */

/** `send` before `send_after`: nothing sent, nothing written; run it again at or after that time. */
export const EXIT_SCHEDULED = 5;

export type Schedule =
  | { state: "cancelled"; at: Date | null }
  | { state: "scheduled"; at: Date }
  | { state: "due"; at: Date | null };

export function scheduleOf(meta: { send_after?: string; cancelled?: boolean }, now: Date): Schedule {
  const at = meta.send_after === undefined ? null : new Date(meta.send_after);
  if (at !== null && Number.isNaN(at.getTime())) throw new Error(`send_after ${JSON.stringify(meta.send_after)} is not a time (the schema should have refused it)`);
  if (meta.cancelled === true) return { state: "cancelled", at };
  if (at !== null && now.getTime() < at.getTime()) return { state: "scheduled", at };
  return { state: "due", at };
}

/** "2026-12-08T01:00:00.000Z (in 2 h 5 min)": the time in UTC, and how far away it is. */
export function describeWhen(at: Date, now: Date): string {
  const min = Math.max(0, Math.ceil((at.getTime() - now.getTime()) / 60_000));
  const d = Math.floor(min / 1440);
  const h = Math.floor((min % 1440) / 60);
  const m = min % 60;
  const parts = [d ? `${d} d` : "", h ? `${h} h` : "", d || h ? (m ? `${m} min` : "") : `${m} min`].filter(Boolean);
  return `${at.toISOString()} (in ${parts.join(" ")})`;
}
