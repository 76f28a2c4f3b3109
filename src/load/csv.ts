/**
 * A push-based streaming CSV parser (RFC 4180) and a strict streaming UTF-8
 * decoder, for recipient lists of millions of rows. No dependency: the
 * parser is one state machine over `charCodeAt` that slices field ranges out
 * of each chunk, so a field costs one `slice` and a row one array.
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
 */

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

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

// Parser states. Plain numbers, not a `const enum`, so that every
// transpiler (tsx, vitest) treats this file the same.
const State = {
  /** Before the first character of a field. */
  FieldStart: 0,
  /** Inside an unquoted field. */
  Unquoted: 1,
  /** Inside a quoted field. */
  Quoted: 2,
  /** Just after a quote inside a quoted field: closing or first of a doubled pair. */
  QuoteSeen: 3,
} as const;
type State = (typeof State)[keyof typeof State];

export class CsvParser {
  private state: State = State.FieldStart;
  private first = true;
  private ended = false;
  /** Absolute offset (code units, BOM excluded) of index 0 of the current chunk. */
  private base = 0;
  private line = 1;
  /** Absolute offset where the current physical line starts. */
  private lineStart = 0;
  /** The previous chunk ended in a CR, already counted as a line break. */
  private crPending = false;
  private recordLine = 1;
  /** The current record has had an error: drop it at its end. */
  private bad = false;
  /** Text of the current field gathered from earlier chunks or quoted parts. */
  private partial = "";
  private fieldLine = 1;
  private fieldColumn = 1;
  /** Where an open quote was, for "unterminated quote" at the end. */
  private quoteLine = 1;
  private quoteColumn = 1;
  private fields: string[] = [];
  private readonly positions = { lines: [] as number[], columns: [] as number[] };

  constructor(private readonly handlers: CsvHandlers) {}

  /** Feed the next piece of text; a chunk may end anywhere, even inside a CRLF pair or a doubled quote. */
  push(chunk: string): void {
    if (this.ended) throw new Error("CsvParser: push() after end()");
    let s = chunk;
    if (this.first) {
      if (s.length === 0) return;
      this.first = false;
      if (s.charCodeAt(0) === BOM) s = s.slice(1);
    }
    const n = s.length;
    let i = 0;
    if (this.crPending && n > 0) {
      this.crPending = false;
      if (s.charCodeAt(0) === LF) {
        // Second half of a CRLF split across chunks: the line was already
        // counted at the CR. Inside quotes the LF is content; elsewhere it
        // is the rest of a record terminator.
        if (this.state === State.Quoted) this.partial += "\n";
        i = 1;
        this.lineStart = this.base + 1;
      }
    }
    const base = this.base;
    let state: State = this.state;
    let line = this.line;
    let lineStart = this.lineStart;
    // A field continued from the last chunk goes on at `i`.
    let segStart = i;

    while (i < n) {
      if (state === State.FieldStart) {
        const c = s.charCodeAt(i);
        if ((c === LF || c === CR) && this.fields.length === 0) {
          // Blank line: skip it, but count it.
          if (c === CR) {
            if (i + 1 < n) {
              if (s.charCodeAt(i + 1) === LF) i++;
            } else this.crPending = true;
          }
          i++;
          line++;
          lineStart = base + i;
          this.recordLine = line;
          continue;
        }
        this.fieldLine = line;
        this.fieldColumn = base + i - lineStart + 1;
        this.partial = "";
        if (c === QUOTE) {
          this.quoteLine = line;
          this.quoteColumn = this.fieldColumn;
          state = State.Quoted;
          i++;
          segStart = i;
          continue;
        }
        state = State.Unquoted;
        segStart = i;
        // fall through to the unquoted scan
      }

      if (state === State.Unquoted) {
        let j = i;
        let c = 0;
        for (; j < n; j++) {
          c = s.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR || c === QUOTE) break;
        }
        if (j === n) {
          this.partial += s.slice(segStart, n);
          i = n;
          break;
        }
        if (c === QUOTE) {
          // RFC 4180 §2 rule 5: quotes may appear only in quoted fields.
          this.fail(line, base + j - lineStart + 1, "a quote inside a field that does not start with a quote (quote the whole field and double the quote)");
          i = j + 1;
          continue;
        }
        const tail = s.slice(segStart, j);
        this.addField(this.partial.length > 0 ? this.partial + tail : tail);
        if (c === COMMA) {
          state = State.FieldStart;
          i = j + 1;
          continue;
        }
        // Record terminator.
        i = j + 1;
        if (c === CR) {
          if (i < n) {
            if (s.charCodeAt(i) === LF) i++;
          } else this.crPending = true;
        }
        line++;
        lineStart = base + i;
        this.endRecord(line);
        state = State.FieldStart;
        continue;
      }

      if (state === State.Quoted) {
        let j = i;
        for (; j < n; j++) {
          const c = s.charCodeAt(j);
          if (c === QUOTE) break;
          if (c === LF) {
            line++;
            lineStart = base + j + 1;
          } else if (c === CR) {
            if (j + 1 < n) {
              // A CR of a CRLF pair is counted at its LF.
              if (s.charCodeAt(j + 1) !== LF) {
                line++;
                lineStart = base + j + 1;
              }
            } else {
              line++;
              lineStart = base + j + 1;
              this.crPending = true;
            }
          }
        }
        if (j === n) {
          this.partial += s.slice(segStart, n);
          i = n;
          break;
        }
        this.partial += s.slice(segStart, j);
        state = State.QuoteSeen;
        i = j + 1;
        continue;
      }

      // State.QuoteSeen
      const c = s.charCodeAt(i);
      if (c === QUOTE) {
        // RFC 4180 §2 rule 7: a doubled quote is one quote of content.
        this.partial += '"';
        state = State.Quoted;
        i++;
        segStart = i;
        continue;
      }
      if (c === COMMA) {
        this.addField(this.partial);
        state = State.FieldStart;
        i++;
        continue;
      }
      if (c === LF || c === CR) {
        this.addField(this.partial);
        i++;
        if (c === CR) {
          if (i < n) {
            if (s.charCodeAt(i) === LF) i++;
          } else this.crPending = true;
        }
        line++;
        lineStart = base + i;
        this.endRecord(line);
        state = State.FieldStart;
        continue;
      }
      this.fail(line, base + i - lineStart + 1, "text after the closing quote of a field (a quote inside a quoted field must be doubled)");
      // Recover: keep the rest of the field as unquoted text up to the next separator.
      state = State.Unquoted;
      segStart = i;
    }

    this.state = state;
    this.line = line;
    this.lineStart = lineStart;
    this.base = base + n;
  }

  /** The input is complete: deliver the last record, report an open quote. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    switch (this.state) {
      case State.FieldStart:
        // `a,b,` at the very end: the record's last field is empty.
        if (this.fields.length > 0) {
          this.addField("");
          this.endRecord(this.line);
        }
        break;
      case State.Unquoted:
      case State.QuoteSeen:
        this.addField(this.partial);
        this.endRecord(this.line);
        break;
      case State.Quoted:
        this.fail(this.quoteLine, this.quoteColumn, "a quoted field is never closed (missing closing quote)");
        this.endRecord(this.line);
        break;
    }
    this.partial = "";
  }

  private addField(value: string): void {
    // Overwrite by index instead of clearing the position arrays per row:
    // `length = 0` is a runtime call, and this runs for every field.
    const k = this.fields.length;
    this.fields.push(value);
    this.positions.lines[k] = this.fieldLine;
    this.positions.columns[k] = this.fieldColumn;
  }

  /** Deliver or drop the current record; `nextLine` is where the next one starts. */
  private endRecord(nextLine: number): void {
    const fields = this.fields;
    const line = this.recordLine;
    this.fields = [];
    this.partial = "";
    this.recordLine = nextLine;
    if (this.bad) {
      this.bad = false;
    } else {
      this.handlers.onRow(fields, line, this.positions);
    }
  }

  private fail(line: number, column: number, reason: string): void {
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
 * Node 20's streaming decode of a 40 MB list took 250–600 ms on our 2-core
 * machines, the one-shot decode of the same bytes about 150 ms.
 * `ignoreBOM: true` passes U+FEFF through, so that a chunk that happens to
 * start with one keeps it and `CsvParser` strips exactly the leading BOM.
 */
export class Utf8StreamDecoder {
  private readonly decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  private line = 1;
  /** Code units since the last line break. */
  private lineChars = 0;
  private crPending = false;
  private started = false;
  /** Raw bytes before `carry`. */
  private bytes = 0;
  /** Bytes of a sequence left incomplete at the end of the last chunk (at most 3). */
  private carry: Uint8Array = new Uint8Array(0);

  /** Decode the next chunk; throws Utf8DecodeError at the first invalid byte. */
  push(chunk: Uint8Array): string {
    const buf = concat(this.carry, chunk);
    const cut = buf.length - incompleteTailLength(buf);
    let text: string;
    try {
      text = cut === 0 ? "" : this.decoder.decode(buf.subarray(0, cut));
    } catch {
      throw this.locate(buf, false);
    }
    this.carry = cut === buf.length ? EMPTY : buf.slice(cut);
    this.bytes += cut;
    this.count(text);
    return text;
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
    this.count(new TextDecoder("utf-8", { ignoreBOM: true }).decode(buf.subarray(0, bad)));
    const hex = Array.from(buf.subarray(bad, bad + 4), (b) => b.toString(16).padStart(2, "0")).join(" ");
    return new Utf8DecodeError(this.line, this.lineChars + 1, this.bytes + bad, hex, atEnd && scan.truncated);
  }

  /** Count line breaks as CsvParser does: LF, CRLF and a lone CR are one each. */
  private count(text: string): void {
    let start = 0;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === BOM) start = 1;
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
    this.lineChars = last >= 0 ? text.length - last - 1 : this.lineChars + text.length - start;
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
