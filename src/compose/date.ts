/**
 * RFC 5322 §3.3 date-time in UTC: `Thu, 01 Jan 2026 09:00:00 +0000`.
 * The caller passes the send's start time, so the bytes are reproducible.
 */
import { composeFail } from "./syntax.ts";

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function formatDate(date: Date): string {
  const t = date.getTime();
  const year = date.getUTCFullYear();
  // §3.3: a year is at least 1900; four digits keep the format fixed-width.
  if (!Number.isFinite(t) || year < 1900 || year > 9999) composeFail("Date is not a valid time between 1900 and 9999");
  return (
    `${DAYS[date.getUTCDay()]!}, ${two(date.getUTCDate())} ${MONTHS[date.getUTCMonth()]!} ${year} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}
