/**
 * A push-based streaming CSV parser (RFC 4180) and a strict streaming UTF-8
 * decoder, for recipient lists of millions of rows. No dependency: the
 * parser is one state machine over `charCodeAt` (its steps: csv-scan.ts) that
 * slices field ranges out of each chunk, so a field costs one `slice` and a
 * row one array.
 *
 * Where RFC 4180 is silent or stricter than real files, we accept:
 * - a UTF-8 byte order mark before the first record (Excel writes one);
 * - LF, CRLF and a lone CR as record terminators (RFC 4180 §2 rule 1 names
 *   CRLF only; Unix tools write LF and old Mac tools CR), with or without a
 *   terminator after the last record (§2 rule 2);
 * - blank lines, which are skipped (they are never a record of one empty
 *   field: that is what a trailing newline in an editor looks like).
 * We refuse, as syntax errors: a quote inside an unquoted field (§2 rule 5),
 * anything but a separator or terminator after a closing quote (§2 rule 7),
 * and a quoted field still open at the end of the input.
 *
 * Positions: `line` is the 1-based physical line (a line break inside a
 * quoted field counts), `column` is 1-based in UTF-16 code units from the
 * start of that physical line, not counting the BOM — the unit SARIF uses by
 * default (SARIF 2.1.0 §3.14.17 `columnKind`: utf16CodeUnits).
 *
 * Byte strings: for a million-row list, decoding every chunk to UTF-16 was a
 * large share of the check (bench/README.md, "Figures behind the code"), and most of it is ASCII. So the decoder can instead
 * validate a chunk (`isUtf8`, a SIMD scan) and hand it over as a byte string
 * (one char per byte, `latin1`: no conversion), and the parser, told so,
 * splits that — the separators are ASCII and never part of a multi-byte
 * sequence, so the fields are the same — decodes only the fields that hold
 * a byte above 0x7F, and counts columns in UTF-16 code units all the same.
 * Fields and positions are exactly those of parsing the decoded text.
 */

import { Buffer, isUtf8 } from "node:buffer";
import { BOM, BOM_BYTES, endInput, LF, scanChunk, stripBom, type RecordSink, ScanState } from "./csv-scan.ts";

export { decodeByteString } from "./csv-scan.ts";

export interface CsvError {
  /** 1-based physical line of the problem. */
  line: number;
  /** 1-based column (UTF-16 code units) of the problem. */
  column: number;
  /** 1-based physical line where the broken record starts. */
  recordLine: number;
  /** What is wrong, in words; never quotes the data. */
  reason: string;
}

/**
 * Where each field of the row being delivered starts. The arrays are reused
 * for the next row and only entries below `fields.length` belong to this
 * row: read them inside `onRow`, copy what you keep.
 */
export interface FieldPositions {
  readonly lines: readonly number[];
  readonly columns: readonly number[];
}

export interface CsvHandlers {
  /**
   * One well-formed record. `fields` is a fresh array the handler may keep;
   * `line` is the physical line where the record starts.
   */
  onRow(fields: string[], line: number, positions: FieldPositions): void;
  /**
   * A malformed record: reported once, at its first problem, and not passed
   * to `onRow`. Parsing resumes at the next record.
   */
  onError(error: CsvError): void;
}

export interface CsvParserOptions {
  /**
   * The chunks are byte strings of UTF-8 (`Utf8StreamDecoder` with
   * `byteString: true`): fields are decoded, columns counted in UTF-16 code
   * units. The bytes must be valid UTF-8; chunks may split a sequence.
   */
  byteString?: boolean;
}

/** Feeds chunks to the scanner's steps (csv-scan.ts), which hand each record to `handlers`. */
export class CsvParser {
  private readonly scan: ScanState;
  private readonly records: Records;
  private ended = false;

  constructor(handlers: CsvHandlers, options: CsvParserOptions = {}) {
    this.scan = new ScanState(options.byteString === true);
    this.records = new Records(handlers);
  }

  /** Feed the next piece of text; a chunk may end anywhere, even inside a CRLF pair or a doubled quote. */
  push(chunk: string): void {
    if (this.ended) throw new Error("CsvParser: push() after end()");
    const s = stripBom(this.scan, chunk);
    if (s !== null) scanChunk(this.scan, this.records, s);
  }

  /** The input is complete: deliver the last record, report an open quote. */
  end(): void {
    if (this.ended) return;
    const st = this.scan;
    if (st.head.length > 0) {
      // One or two bytes that began like a BOM and were all there was: content.
      const h = st.head;
      st.head = "";
      st.first = false;
      this.push(h);
    }
    this.ended = true;
    endInput(st, this.records);
  }
}

/** Assembles the scanner's fields into records for `CsvHandlers`, dropping a record that had an error. */
class Records implements RecordSink {
  /**
   * Fields of the current record: the first `nfields` entries of a reused
   * array, copied out at its end. A fresh `[]` per record grew to 17 slots
   * on its first push: twice the garbage per row of an exact copy.
   */
  private readonly fields: string[] = [];
  nfields = 0;
  private readonly positions = { lines: [] as number[], columns: [] as number[] };
  /** 1-based physical line where the current record starts. */
  private recordLine = 1;
  /** The current record has had an error: drop it at its end. */
  private bad = false;

  constructor(private readonly handlers: CsvHandlers) {}

  field(value: string, line: number, column: number): void {
    // Overwrite by index instead of clearing the position arrays per row:
    // `length = 0` is a runtime call, and this runs for every field.
    const k = this.nfields++;
    this.fields[k] = value;
    this.positions.lines[k] = line;
    this.positions.columns[k] = column;
  }

  endRecord(nextLine: number): void {
    const n = this.nfields;
    const line = this.recordLine;
    this.nfields = 0;
    this.recordLine = nextLine;
    if (this.bad) {
      this.bad = false;
    } else {
      this.handlers.onRow(this.fields.slice(0, n), line, this.positions);
    }
  }

  skipBlank(line: number): void {
    this.recordLine = line;
  }

  fail(line: number, column: number, reason: string): void {
    if (this.bad) return;
    this.bad = true;
    this.handlers.onError({ line, column, recordLine: this.recordLine, reason });
  }
}

/** Parse a whole string; for tests and small files. */
export function parseCsv(text: string): { rows: Array<{ fields: string[]; line: number }>; errors: CsvError[] } {
  const rows: Array<{ fields: string[]; line: number }> = [];
  const errors: CsvError[] = [];
  const p = new CsvParser({ onRow: (fields, line) => rows.push({ fields, line }), onError: (e) => errors.push(e) });
  p.push(text);
  p.end();
  return { rows, errors };
}

// ---------------------------------------------------------------------------
// Strict UTF-8

/** The input is not UTF-8 (RFC 3629). Positions are in the decoded text, as above. */
export class Utf8DecodeError extends Error {
  constructor(
    /** 1-based line of the first invalid byte. */
    readonly line: number,
    /** 1-based column (UTF-16 code units) where the invalid byte would be. */
    readonly column: number,
    /** 0-based offset of the first invalid byte in the raw input. */
    readonly byteOffset: number,
    /** Up to 4 raw bytes from the invalid one, in hex: the bytes, never the text around them. */
    readonly bytesHex: string,
    readonly truncated: boolean,
  ) {
    super(
      truncated
        ? `input ends in the middle of a UTF-8 sequence (line ${line}, column ${column}, byte ${byteOffset})`
        : `invalid UTF-8 at line ${line}, column ${column} (byte ${byteOffset}: ${bytesHex})`,
    );
    this.name = "Utf8DecodeError";
  }
}

/**
 * Streaming, fatal UTF-8 decoding: a Shift_JIS or Latin-1 file is reported
 * with the line it breaks on, never turned into U+FFFD replacement characters
 * (WHATWG Encoding §4.1 `fatal`).
 *
 * Each chunk is cut before a multi-byte sequence left incomplete at its end;
 * the complete part goes through a fatal TextDecoder in one shot and the tail
 * is carried to the next chunk. That is `{ stream: true }` done by hand:
 * Node 20's streaming decode of a large list was several times slower than
 * the one-shot decode of the same bytes (bench/README.md, "Figures behind the code").
 * `ignoreBOM: true` passes U+FEFF through, so that a chunk that happens to
 * start with one keeps it and `CsvParser` strips exactly the leading BOM.
 */
export interface Utf8StreamDecoderOptions {
  /**
   * Return each chunk's bytes as a byte string (one char per byte) once they
   * are known to be valid UTF-8, for `CsvParser` with `byteString: true`:
   * validating is a fast scan, converting to UTF-16 was not. Errors are the
   * same as when decoding.
   */
  byteString?: boolean;
}

export class Utf8StreamDecoder {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private readonly byteString: boolean;
  private line = 1;
  /** Code units since the last line break. */
  private lineChars = 0;
  private crPending = false;
  private started = false;
  /** Raw bytes before `carry`. */
  private bytes = 0;
  /** Bytes of a sequence left incomplete at the end of the last chunk (at most 3). */
  private carry: Uint8Array = new Uint8Array(0);

  constructor(options: Utf8StreamDecoderOptions = {}) {
    this.byteString = options.byteString === true;
  }

  /** Decode the next chunk; throws Utf8DecodeError at the first invalid byte. */
  push(chunk: Uint8Array): string {
    let text = "";
    this.pushEach(chunk, Infinity, (t) => {
      text = t;
    });
    return text;
  }

  /**
   * `push` for big chunks: hands the text to `emit` in pieces of at most
   * `maxPiece` bytes (byte strings; decoded text comes in one piece), none
   * empty. The whole chunk is checked first: nothing of a chunk that holds
   * an invalid byte is emitted, whatever `maxPiece`.
   *
   * Why pieces: V8 puts a string over 128 KiB in its large-object space,
   * fresh pages from the OS for each one (page faults are slow), while
   * smaller ones live and die in the young generation's reused pages: 64 KiB
   * pieces of 1 MiB chunks took faults and peak RSS off the check of a large
   * list (bench/README.md, "Figures behind the code").
   */
  pushEach(chunk: Uint8Array, maxPiece: number, emit: (text: string) => void): void {
    const buf = concat(this.carry, chunk);
    const cut = buf.length - incompleteTailLength(buf);
    const piece = Math.max(4, maxPiece);
    const texts: string[] = [];
    if (this.byteString) {
      if (!isUtf8(buf.subarray(0, cut))) throw this.locate(buf, false);
      // A piece may end inside a sequence: the parser decodes whole fields.
      for (let at = 0; at < cut; at += piece) texts.push(byteStringOf(buf.subarray(at, Math.min(cut, at + piece))));
    } else if (cut > 0) {
      try {
        texts.push(this.decoder.decode(buf.subarray(0, cut)));
      } catch {
        throw this.locate(buf, false);
      }
    }
    this.carry = cut === buf.length ? EMPTY : buf.slice(cut);
    this.bytes += cut;
    for (const t of texts) {
      this.count(t);
      if (t.length > 0) emit(t);
    }
  }

  /** The input is complete; throws when it ended inside a multi-byte sequence. */
  end(): string {
    if (this.carry.length > 0) throw this.locate(this.carry, true);
    return "";
  }

  private locate(buf: Uint8Array, atEnd: boolean): Utf8DecodeError {
    const scan = firstInvalidUtf8(buf);
    const bad = Math.min(scan.index, buf.length);
    // Everything before `bad` is valid: decode it for line and column.
    const valid = buf.subarray(0, bad);
    this.count(this.byteString ? byteStringOf(valid) : new TextDecoder("utf-8", { ignoreBOM: true }).decode(valid));
    const hex = Array.from(buf.subarray(bad, bad + 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    return new Utf8DecodeError(this.line, this.lineChars + 1, this.bytes + bad, hex, atEnd && scan.truncated);
  }

  /** Count line breaks as CsvParser does: LF, CRLF and a lone CR are one each. */
  private count(text: string): void {
    let start = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      // Incomplete sequences are carried, and pieces are longer: a BOM's bytes come together.
      if (this.byteString) {
        if (text.startsWith(BOM_BYTES)) start = BOM_BYTES.length;
      } else if (text.charCodeAt(0) === BOM) start = 1;
    }
    if (start >= text.length) return;
    if (this.crPending) {
      this.crPending = false;
      if (text.charCodeAt(start) === LF) start++;
    }
    let last = -1;
    for (let k = text.indexOf("\n", start); k >= 0; k = text.indexOf("\n", k + 1)) {
      this.line++;
      last = k;
    }
    for (let k = text.indexOf("\r", start); k >= 0; k = text.indexOf("\r", k + 1)) {
      if (k + 1 === text.length) {
        this.line++;
        this.crPending = true;
        last = Math.max(last, k);
      } else if (text.charCodeAt(k + 1) !== LF) {
        this.line++;
        last = Math.max(last, k);
      }
    }
    const from = last >= 0 ? last + 1 : start;
    const chars = this.byteString ? utf16Length(text, from) : text.length - from;
    this.lineChars = last >= 0 ? chars : this.lineChars + chars;
  }
}

/** Decode an async byte stream as strict UTF-8, yielding text chunks. */
export async function* decodeUtf8(input: AsyncIterable<Uint8Array>): AsyncGenerator<string, void, undefined> {
  const d = new Utf8StreamDecoder();
  for await (const chunk of input) {
    const t = d.push(chunk);
    if (t.length > 0) yield t;
  }
  const t = d.end();
  if (t.length > 0) yield t;
}

function byteStringOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

/** UTF-16 code units of the valid UTF-8 in byte string `s` from `from` on. */
function utf16Length(s: string, from: number): number {
  let n = s.length - from;
  for (let k = from; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c >= 0x80) {
      if (c < 0xc0) n--; // continuation byte
      else if (c >= 0xf0) n++; // 4 bytes, a surrogate pair
    }
  }
  return n;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/** Length of the sequence a lead byte starts, or 0 when it cannot start one (RFC 3629 §4). */
function sequenceLength(b: number): number {
  if (b < 0x80) return 1;
  if (b >= 0xc2 && b <= 0xdf) return 2;
  if (b >= 0xe0 && b <= 0xef) return 3;
  if (b >= 0xf0 && b <= 0xf4) return 4;
  return 0;
}

const EMPTY = new Uint8Array(0);

/**
 * How many bytes at the end of `buf` start a multi-byte sequence that is not
 * complete yet (0–3). An invalid lead byte is not held back: the decoder
 * reports it.
 */
function incompleteTailLength(buf: Uint8Array): number {
  const n = buf.length;
  for (let k = n - 1; k >= 0 && k >= n - 3; k--) {
    const b = buf[k]!;
    if ((b & 0xc0) === 0x80) continue; // continuation byte
    const len = sequenceLength(b);
    return len > 0 && k + len > n ? n - k : 0;
  }
  return 0;
}

/**
 * Index of the first byte that is not part of a well-formed UTF-8 sequence
 * (RFC 3629 §4, Unicode Table 3-7: no overlongs, no surrogates, ≤ U+10FFFF).
 * `truncated` when the input ends inside an otherwise valid sequence.
 */
export function firstInvalidUtf8(buf: Uint8Array): { index: number; truncated: boolean } {
  const n = buf.length;
  let i = 0;
  while (i < n) {
    const b = buf[i]!;
    const len = sequenceLength(b);
    if (len === 1) {
      i++;
      continue;
    }
    if (len === 0) return { index: i, truncated: false };
    // Allowed range of the second byte (Unicode Table 3-7).
    let lo = 0x80;
    let hi = 0xbf;
    if (b === 0xe0) lo = 0xa0;
    else if (b === 0xed) hi = 0x9f;
    else if (b === 0xf0) lo = 0x90;
    else if (b === 0xf4) hi = 0x8f;
    for (let k = 1; k < len; k++) {
      if (i + k >= n) return { index: i, truncated: true };
      const c = buf[i + k]!;
      if (k === 1 ? c < lo || c > hi : (c & 0xc0) !== 0x80) return { index: i, truncated: false };
    }
    i += len;
  }
  return { index: n, truncated: false };
}
