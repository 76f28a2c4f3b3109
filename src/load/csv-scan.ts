/**
 * The CSV scanner's steps (RFC 4180; what is accepted and refused, and how positions are
 * counted: csv.ts). `CsvParser.push` runs `scanChunk` over each chunk; each step reads the
 * chunk `s` at `i`, moves the scan state on, tells the record sink of each field, record end
 * and syntax error, and returns where the next step starts.
 *
 * Speed: the character loops keep their counters in locals and write them back once per field,
 * so the state object is touched per field, not per character (the 1,000,000-row check,
 * bench/README.md).
 */
import { Buffer } from "node:buffer";

export const QUOTE = 0x22;
export const COMMA = 0x2c;
export const LF = 0x0a;
export const CR = 0x0d;
export const BOM = 0xfeff;
/** The UTF-8 BOM as a byte string. */
export const BOM_BYTES = "\xef\xbb\xbf";

// Scanner states. Plain numbers, not a `const enum`, so that every
// transpiler (tsx, vitest) treats this file the same.
export const State = {
  /** Before the first character of a field. */
  FieldStart: 0,
  /** Inside an unquoted field. */
  Unquoted: 1,
  /** Inside a quoted field. */
  Quoted: 2,
  /** Just after a quote inside a quoted field: closing or first of a doubled pair. */
  QuoteSeen: 3,
} as const;
export type State = (typeof State)[keyof typeof State];

/**
 * Where the scan is: one object the steps below read and change. A class, not an object
 * literal: its fields stay in fixed slots (an object literal measured ~10 % slower on the parse of a large list).
 */
export class ScanState {
  state: State = State.FieldStart;
  /** No content seen yet: a BOM may still come. */
  first = true;
  /** Byte strings: the first bytes, held while they may still become a BOM. */
  head = "";
  /** Absolute offset (code units, or bytes for byte strings; BOM excluded) of index 0 of the current chunk. */
  base = 0;
  line = 1;
  /** Absolute offset where the current physical line starts. */
  lineStart = 0;
  /**
   * Byte strings: bytes minus UTF-16 code units from `lineStart` to the scan
   * position, so that a column is `offset - lineStart + 1 - adjust`. Every
   * continuation byte adds one, every 4-byte lead takes one off (2 units).
   */
  adjust = 0;
  /** The field being read has a byte above 0x7F: decode it at its end. */
  high = false;
  /** The previous chunk ended in a CR, already counted as a line break. */
  crPending = false;
  /** Where the part of the current field not yet in `partial` starts, in the current chunk. */
  segStart = 0;
  /** Text of the current field gathered from earlier chunks or quoted parts. */
  partial = "";
  fieldLine = 1;
  fieldColumn = 1;
  /** Where an open quote was, for "unterminated quote" at the end. */
  quoteLine = 1;
  quoteColumn = 1;

  /** `bytes`: the chunks are byte strings of UTF-8 (csv.ts, `CsvParserOptions.byteString`). */
  constructor(readonly bytes: boolean) {}
}

/** What the scanner tells of the records it reads (csv.ts assembles them). */
export interface RecordSink {
  /** Fields of the current record so far: a line break when there are none is a blank line. */
  readonly nfields: number;
  /** One field of the current record, decoded, and where it starts. */
  field(value: string, line: number, column: number): void;
  /** The current record is complete; the next one starts on `nextLine`. */
  endRecord(nextLine: number): void;
  /** A blank line was skipped: the next record starts on `line`. */
  skipBlank(line: number): void;
  /** The current record is malformed at this place: it is reported once and dropped at its end. */
  fail(line: number, column: number, reason: string): void;
}

/**
 * The text of a chunk to scan, without the BOM before the first record (Excel writes one); null
 * when there is nothing to scan yet (byte strings: the first bytes may still become a BOM).
 */
export function stripBom(st: ScanState, chunk: string): string | null {
  if (!st.first) return chunk;
  if (st.bytes) {
    const s = st.head + chunk;
    if (s.length < BOM_BYTES.length && BOM_BYTES.startsWith(s)) {
      st.head = s;
      return null;
    }
    st.head = "";
    st.first = false;
    return s.startsWith(BOM_BYTES) ? s.slice(BOM_BYTES.length) : s;
  }
  if (chunk.length === 0) return null;
  st.first = false;
  return chunk.charCodeAt(0) === BOM ? chunk.slice(1) : chunk;
}

/** Scans one chunk to its end; a chunk may end anywhere, even inside a CRLF pair or a doubled quote. */
export function scanChunk(st: ScanState, sink: RecordSink, s: string): void {
  const n = s.length;
  let i = st.crPending && n > 0 ? afterSplitCrlf(st, s) : 0;
  // A field continued from the last chunk goes on at `i`.
  st.segStart = i;
  while (i < n) {
    const state = st.state;
    if (state === State.FieldStart) i = fieldStart(st, sink, s, i);
    else if (state === State.Unquoted) i = unquoted(st, sink, s, i);
    else if (state === State.Quoted) i = quoted(st, s, i);
    else i = afterQuote(st, sink, s, i);
  }
  st.base += n;
}

/**
 * The chunk after one that ended in a CR: an LF first is the second half of that CRLF, whose
 * line was already counted at the CR. Inside quotes the LF is content; elsewhere it is the rest
 * of a record terminator. Returns where the scan starts.
 */
export function afterSplitCrlf(st: ScanState, s: string): number {
  st.crPending = false;
  if (s.charCodeAt(0) !== LF) return 0;
  if (st.state === State.Quoted) st.partial += "\n";
  st.lineStart = st.base + 1;
  return 1;
}

/** Before a field: skips a blank line, opens a quoted field, or starts an unquoted one. */
export function fieldStart(st: ScanState, sink: RecordSink, s: string, i: number): number {
  const c = s.charCodeAt(i);
  if ((c === LF || c === CR) && sink.nfields === 0) {
    // Blank line: skip it, but count it.
    const next = lineBreak(st, s, i);
    sink.skipBlank(st.line);
    return next;
  }
  st.fieldLine = st.line;
  st.fieldColumn = st.base + i - st.lineStart + 1 - st.adjust;
  st.partial = "";
  st.high = false;
  if (c === QUOTE) {
    st.quoteLine = st.line;
    st.quoteColumn = st.fieldColumn;
    st.state = State.Quoted;
    st.segStart = i + 1;
    return i + 1;
  }
  st.state = State.Unquoted;
  st.segStart = i;
  return i;
}

/** Inside an unquoted field: reads to a separator, a terminator or the chunk's end. */
export function unquoted(st: ScanState, sink: RecordSink, s: string, i: number): number {
  const n = s.length;
  const bytes = st.bytes;
  let adjust = st.adjust;
  let high = st.high;
  let j = i;
  let c = 0;
  for (; j < n; j++) {
    c = s.charCodeAt(j);
    // The four stops are all ≤ ','; most characters of a field are above it.
    if (c <= COMMA) {
      if (c === COMMA || c === LF || c === CR || c === QUOTE) break;
    } else if (c >= 0x80 && bytes) {
      high = true;
      if (c < 0xc0) adjust++;
      else if (c >= 0xf0) adjust--;
    }
  }
  st.adjust = adjust;
  st.high = high;
  if (j === n) {
    st.partial += s.slice(st.segStart, n);
    return n;
  }
  if (c === QUOTE) {
    // RFC 4180 §2 rule 5: quotes may appear only in quoted fields.
    sink.fail(st.line, st.base + j - st.lineStart + 1 - adjust, "a quote inside a field that does not start with a quote (quote the whole field and double the quote)");
    return j + 1;
  }
  const tail = s.slice(st.segStart, j);
  emitField(st, sink, st.partial.length > 0 ? st.partial + tail : tail);
  if (c === COMMA) {
    st.state = State.FieldStart;
    return j + 1;
  }
  return endOfRecord(st, sink, s, j);
}

/** Inside a quoted field: reads to the next quote or the chunk's end; line breaks in it are content, and counted. */
export function quoted(st: ScanState, s: string, i: number): number {
  const n = s.length;
  const bytes = st.bytes;
  const base = st.base;
  let adjust = st.adjust;
  let high = st.high;
  let line = st.line;
  let lineStart = st.lineStart;
  let j = i;
  for (; j < n; j++) {
    const c = s.charCodeAt(j);
    if (c > QUOTE) {
      if (c >= 0x80 && bytes) {
        high = true;
        if (c < 0xc0) adjust++;
        else if (c >= 0xf0) adjust--;
      }
      continue;
    }
    if (c === QUOTE) break;
    if (c === LF) {
      line++;
      lineStart = base + j + 1;
      adjust = 0;
    } else if (c === CR) {
      if (j + 1 < n) {
        // A CR of a CRLF pair is counted at its LF.
        if (s.charCodeAt(j + 1) !== LF) {
          line++;
          lineStart = base + j + 1;
          adjust = 0;
        }
      } else {
        line++;
        lineStart = base + j + 1;
        adjust = 0;
        st.crPending = true;
      }
    }
  }
  st.adjust = adjust;
  st.high = high;
  st.line = line;
  st.lineStart = lineStart;
  if (j === n) {
    st.partial += s.slice(st.segStart, n);
    return n;
  }
  st.partial += s.slice(st.segStart, j);
  st.state = State.QuoteSeen;
  return j + 1;
}

/** After a quote inside a quoted field: a doubled quote, the field's end, or text that should not be there. */
export function afterQuote(st: ScanState, sink: RecordSink, s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === QUOTE) {
    // RFC 4180 §2 rule 7: a doubled quote is one quote of content.
    st.partial += '"';
    st.state = State.Quoted;
    st.segStart = i + 1;
    return i + 1;
  }
  if (c === COMMA) {
    emitField(st, sink, st.partial);
    st.state = State.FieldStart;
    return i + 1;
  }
  if (c === LF || c === CR) {
    emitField(st, sink, st.partial);
    return endOfRecord(st, sink, s, i);
  }
  sink.fail(st.line, st.base + i - st.lineStart + 1 - st.adjust, "text after the closing quote of a field (a quote inside a quoted field must be doubled)");
  // Recover: keep the rest of the field as unquoted text up to the next separator.
  st.state = State.Unquoted;
  st.segStart = i;
  return i;
}

/** The input is complete: the last record ends without a terminator; a quoted field still open is an error. */
export function endInput(st: ScanState, sink: RecordSink): void {
  switch (st.state) {
    case State.FieldStart:
      // `a,b,` at the very end: the record's last field is empty.
      if (sink.nfields > 0) {
        sink.field("", st.fieldLine, st.fieldColumn);
        sink.endRecord(st.line);
      }
      break;
    case State.Unquoted:
    case State.QuoteSeen:
      emitField(st, sink, st.partial);
      sink.endRecord(st.line);
      break;
    case State.Quoted:
      sink.fail(st.quoteLine, st.quoteColumn, "a quoted field is never closed (missing closing quote)");
      sink.endRecord(st.line);
      break;
  }
  st.partial = "";
}

/** The record terminator at `i` ends the record: returns where the next one starts. */
function endOfRecord(st: ScanState, sink: RecordSink, s: string, i: number): number {
  const next = lineBreak(st, s, i);
  sink.endRecord(st.line);
  st.partial = "";
  st.state = State.FieldStart;
  return next;
}

/**
 * Consumes the line break at `i` (LF, CR, or CRLF — whose LF may be the next chunk's first
 * character) and counts the line; returns the index after it.
 */
export function lineBreak(st: ScanState, s: string, i: number): number {
  const c = s.charCodeAt(i++);
  if (c === CR) {
    if (i < s.length) {
      if (s.charCodeAt(i) === LF) i++;
    } else st.crPending = true;
  }
  st.line++;
  st.lineStart = st.base + i;
  st.adjust = 0;
  return i;
}

/** Hands the current field to the sink, decoded when it is a byte string holding a byte above 0x7F. */
function emitField(st: ScanState, sink: RecordSink, value: string): void {
  sink.field(st.high && st.bytes ? decodeByteString(value) : value, st.fieldLine, st.fieldColumn);
}

/**
 * UTF-16 text of a byte string of valid UTF-8 (a field of a few characters,
 * in practice). Built in JS: for short values it beat `Buffer.from(s,
 * "latin1").toString()` (two native calls) several times over.
 */
export function decodeByteString(s: string): string {
  const n = s.length;
  if (n > 64) return Buffer.from(s, "latin1").toString("utf8");
  const units: number[] = [];
  for (let k = 0; k < n; ) {
    const b = s.charCodeAt(k);
    if (b < 0x80) {
      units.push(b);
      k += 1;
    } else if (b < 0xe0) {
      units.push(((b & 0x1f) << 6) | (s.charCodeAt(k + 1) & 0x3f));
      k += 2;
    } else if (b < 0xf0) {
      units.push(((b & 0x0f) << 12) | ((s.charCodeAt(k + 1) & 0x3f) << 6) | (s.charCodeAt(k + 2) & 0x3f));
      k += 3;
    } else {
      const cp =
        (((b & 0x07) << 18) | ((s.charCodeAt(k + 1) & 0x3f) << 12) | ((s.charCodeAt(k + 2) & 0x3f) << 6) | (s.charCodeAt(k + 3) & 0x3f)) - 0x10000;
      units.push(0xd800 | (cp >> 10), 0xdc00 | (cp & 0x3ff));
      k += 4;
    }
  }
  return String.fromCharCode(...units);
}
