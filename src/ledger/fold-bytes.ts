/**
 * The two records that make up nearly all of a big ledger, read in place
 * from its UTF-8 bytes when they are exactly as Ledger writes them
 * (JSON.stringify, keys in order, printable ASCII without escapes), for
 * LedgerFold.pushBytes: strings without `"`, `\\` or control characters
 * decode to themselves (RFC 8259 §7), so the result is what JSON.parse
 * would give. Anything else returns null and takes JSON.parse.
 */
import type { ClaimRecord } from "./records.ts";

const SENT_PREFIX = [...'{"t":"sent","fp":"'].map((c) => c.charCodeAt(0));
const MID_KEY = [...'","mid":"'].map((c) => c.charCodeAt(0));
const AT_KEY = [...'","at":"'].map((c) => c.charCodeAt(0));

function matches(buf: Uint8Array, at: number, bytes: readonly number[]): boolean {
  for (let k = 0; k < bytes.length; k++) if (buf[at + k] !== bytes[k]) return false;
  return true;
}

/** Past a JSON string's printable-ASCII characters without `"` or `\\` (nothing to unescape). */
function skipPlain(buf: Uint8Array, i: number, end: number): number {
  while (i < end) {
    const b = buf[i]!;
    if (b < 0x20 || b > 0x7e || b === 0x22 || b === 0x5c) break;
    i++;
  }
  return i;
}

/**
 * The fingerprint of `{"t":"sent","fp":"…","mid":"…","at":"…"}` (exactly as
 * JSON.stringify writes a SentRecord, printable ASCII, no escapes) between
 * `start` and the newline at `nl`; null for any other line. What JSON.parse
 * would give for such a line, since its strings decode to themselves (RFC
 * 8259 §7).
 */
export function sentFingerprint(buf: Buffer, start: number, nl: number): string | null {
  if (buf[start + 6] !== 0x73 || !matches(buf, start, SENT_PREFIX)) return null;
  const fpStart = start + SENT_PREFIX.length;
  let i = skipPlain(buf, fpStart, nl);
  const fpEnd = i;
  if (!matches(buf, i, MID_KEY)) return null;
  i = skipPlain(buf, i + MID_KEY.length, nl);
  if (!matches(buf, i, AT_KEY)) return null;
  i = skipPlain(buf, i + AT_KEY.length, nl);
  if (buf[i] !== 0x22 || buf[i + 1] !== 0x7d || i + 2 !== nl) return null;
  return buf.toString("latin1", fpStart, fpEnd);
}

const CLAIM_PREFIX = [...'{"t":"claim","fps":['].map((c) => c.charCodeAt(0));
const CLAIM_AT_KEY = [...'],"at":"'].map((c) => c.charCodeAt(0));

/** `{"t":"claim","fps":["…",…],"at":"…"}` as JSON.stringify writes a ClaimRecord (printable ASCII, no escapes), else null. */
export function claimRecordAt(buf: Buffer, start: number, nl: number): ClaimRecord | null {
  if (buf[start + 6] !== 0x63 || !matches(buf, start, CLAIM_PREFIX)) return null;
  const fps: string[] = [];
  let i = start + CLAIM_PREFIX.length;
  while (buf[i] === 0x22) {
    const end = skipPlain(buf, i + 1, nl);
    if (buf[end] !== 0x22) return null;
    fps.push(buf.toString("latin1", i + 1, end));
    i = end + 1;
    if (buf[i] === 0x2c) {
      i++;
      if (buf[i] !== 0x22) return null;
    }
  }
  if (!matches(buf, i, CLAIM_AT_KEY)) return null;
  const atStart = i + CLAIM_AT_KEY.length;
  const atEnd = skipPlain(buf, atStart, nl);
  if (buf[atEnd] !== 0x22 || buf[atEnd + 1] !== 0x7d || atEnd + 2 !== nl) return null;
  return { t: "claim", fps, at: buf.toString("latin1", atStart, atEnd) };
}
