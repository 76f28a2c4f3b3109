/**
 * Checks of a recipient list and loading of the suppression list
 * (docs/design.md, "Checks before sending": the lists). Pure: the caller hands in the
 * file's bytes as an async iterable (fs.createReadStream on disk, an array in
 * tests) and gets counts, the normalised address set the leakage checks look
 * content up in, and findings. Every message masks addresses (`mask()`).
 *
 * Built for million-row lists: one streaming pass (hash, strict UTF-8
 * decode, CSV parse, row checks), per-rule caps on findings, and the costly
 * hidden-address extraction only behind a cheap precheck.
 */
import { mask } from "../address/mask.ts";
import { normaliseAddress } from "../address/normalise.ts";
import { ADDRESS_PROBLEM_TEXT, addressProblem, isNormalValidAddress, type AddressProblem } from "../address/validate.ts";
import { CsvParser, Utf8DecodeError, Utf8StreamDecoder, type FieldPositions } from "../load/csv.ts";
import { CanonicalHasher } from "../digest/digest.ts";
import { AddressIndex } from "./address-index.ts";
import { ColumnInspector, type ColumnReport } from "./list-fields.ts";
import { finding, type Finding, type Severity } from "../findings/finding.ts";
import { RULES, type RuleId } from "../findings/rules.ts";

/** Findings per rule and file before the rest are summed up in one line. */
export const DEFAULT_MAX_FINDINGS_PER_RULE = 50;

export interface ListCheckOptions {
  /** Repository-relative path of the list, for findings. */
  file: string;
  /** Normalised addresses never to be mailed (see `loadSuppressions`). */
  suppressions?: ReadonlySet<string>;
  /**
   * Normalised addresses found in a text, however obfuscated. Injected so the
   * list check and the content checks share one extractor (e.g.
   * `extractAddresses` from detect/extract.ts). Called only for fields
   * that pass a cheap precheck.
   */
  findAddresses: (text: string) => string[];
  maxFindingsPerRule?: number;
}

export interface ListReport {
  file: string;
  /** Column names as written, trimmed. Empty when the file has no header row. */
  header: string[];
  /** Index of the `email` column in `header`, or -1. */
  emailColumn: number;
  /** Data rows (records after the header, blank lines not counted, malformed ones counted). */
  rows: number;
  /** Rows with a valid address seen for the first time: distinct recipients before suppression. */
  valid: number;
  /** Of `valid`, how many are on the suppression list. */
  suppressed: number;
  /** `valid − suppressed`: how many messages a send would make. */
  sendCount: number;
  /** Normalised addresses of all valid rows, suppressed ones included, in order of first appearance. */
  addresses: AddressIndex;
  /** Names of columns that are empty (or blank) in at least one row. */
  emptyFields: Set<string>;
  /** Per such column: how many rows, and the first few (line, masked address) to name them. */
  emptyRows: Map<string, EmptyRows>;
  /**
   * Per column of `header` (the email column's entry is empty): unclean
   * values, lax-reading candidates and statistics (list-fields.ts), for the
   * columns a newsletter's placeholders use.
   */
  columns: ColumnReport[];
  /** sha256 (hex) of the canonical bytes: BOM stripped, CRLF → LF (digest/digest.ts). */
  sha256: string;
  findings: Finding[];
}

export interface EmptyRows {
  count: number;
  first: Array<{ line: number; masked: string | null }>;
}

/** Rows named per empty column, for the placeholder-empty message. */
const EMPTY_ROWS_NAMED = 3;

export interface SuppressionList {
  file: string;
  rows: number;
  /** Normalised addresses; invalid but normalisable entries are kept (suppressing more is safe). */
  addresses: Set<string>;
  sha256: string;
  findings: Finding[];
}

/**
 * Could this field hold an address in some spelling the extractor decodes?
 * A superset of the extractor's triggers (`@` in any width, entities and
 * percent-encoding, backslash escapes, `[at]`/`(at)`/`{at}`, ` at `,
 * アットマーク, あっと) that costs one regex test per field.
 */
const MAY_HOLD_ADDRESS = /[@＠﹫&＆%％\\]|アット|あっと|(?:^|[\s(（[［{｛])(?:at|ａｔ)(?:[\s)）\]］}｝]|$)/i;

/** An at sign in some spelling: a header name holding one is data, shown masked. */
const AT_SIGN = /[@＠﹫]|[[(（［]\s*(?:at|ａｔ)\s*[\])）］]|アットマーク/i;

/** Column names that mean "email" but are not spelled `email`, for a hint. */
const EMAIL_LIKE_NAME = /^(?:e[-_ ]?mail(?:[-_ ]?addr(?:ess)?)?|mail(?:[-_ ]?addr(?:ess)?)?|メール(?:アドレス)?)$/i;

export async function checkRecipientList(input: AsyncIterable<Uint8Array>, opts: ListCheckOptions): Promise<ListReport> {
  const { file, suppressions, findAddresses } = opts;
  const sink = new FindingSink(file, opts.maxFindingsPerRule ?? DEFAULT_MAX_FINDINGS_PER_RULE);
  let header: Header | null = null;
  let rows = 0;
  // Every valid row's address is appended; duplicates are found at the end
  // (address-index.ts: sorting beats probing a table here), and their
  // findings put where they would have been had they been found in the row.
  const addresses = new AddressIndex();
  const rowsAt = new RowPositions();
  /** Append numbers of valid rows whose address is suppressed, duplicates included. */
  const suppressedRows: number[] = [];
  const maySuppress = lengthFilter(suppressions);
  let empty: boolean[] = [];
  let emptyRows: EmptyRows[] = [];
  let inspector: ColumnInspector | null = null;

  const onRecord = (fields: string[], line: number, pos: FieldPositions): void => {
    if (header === null) {
      header = readHeader(fields, pos, line, sink);
      empty = header.names.map(() => false);
      emptyRows = header.names.map(() => ({ count: 0, first: [] }));
      inspector = new ColumnInspector(header.names);
      return;
    }
    rows++;
    const h = header;
    if (h.broken) return; // a malformed header was reported; its rows cannot be matched to columns
    const ncols = h.names.length;
    if (fields.length !== ncols) {
      sink.add("list-field-count", line, 1, `row has ${fields.length} field${fields.length === 1 ? "" : "s"}; the header has ${ncols}`);
    }
    let named: Array<{ line: number; masked: string | null }> | null = null;
    for (let k = 0; k < ncols; k++) {
      const v = fields[k];
      if (v === undefined || isBlank(v)) {
        empty[k] = true;
        const e = emptyRows[k]!;
        if (e.count++ < EMPTY_ROWS_NAMED) {
          const entry: { line: number; masked: string | null } = { line, masked: null };
          e.first.push(entry);
          (named ??= []).push(entry); // masked once the row's address is read
        }
      }
    }
    const emailCol = h.email;
    if (emailCol < 0) return; // no `email` column: reported once at the header
    const raw = fields[emailCol];
    let own: string | null = null;
    if (raw !== undefined) {
      const fieldLine = pos.lines[emailCol] ?? line;
      const column = pos.columns[emailCol] ?? 1;
      // Most rows hold an address that is valid and already normal: one pass instead of the regexes.
      let problem: string | null = null;
      if (isNormalValidAddress(raw)) own = raw;
      else {
        own = normaliseAddress(raw);
        problem = addressIssue(raw, own);
      }
      if (problem !== null) {
        sink.add("list-invalid-address", fieldLine, column, problem);
      } else {
        const addr = own!;
        if (named !== null) for (const n of named) n.masked = mask(addr);
        const i = addresses.append(addr);
        rowsAt.record(i, fieldLine, column, sink.position);
        if (suppressions !== undefined && maySuppress(addr) && suppressions.has(addr)) suppressedRows.push(i);
      }
    }
    // Fields are rendered into messages: another person's address in one
    // would leak (the incident this project exists for). The row's own
    // address in another column (a `login` column, say) is harmless.
    for (let k = 0; k < fields.length; k++) {
      if (k === emailCol) continue;
      const v = fields[k]!;
      if (inspector !== null && v.length > 0) inspector.inspect(k, v, rows, pos, line, own);
      if (v.length < 2 || !MAY_HOLD_ADDRESS.test(v)) continue;
      const foreign = findAddresses(v).filter((a) => a !== own);
      if (foreign.length === 0) continue;
      const at = fieldAt(pos, k, line);
      const more = foreign.length > 1 ? ` and ${foreign.length - 1} more` : "";
      sink.add(
        "list-address-in-field",
        at.line,
        at.column,
        `${columnLabel(h, k)} holds an address that is not this row's own: ${mask(foreign[0]!)}${more}`,
      );
    }
  };

  const scan = await scanCsv(input, sink, onRecord, () => {
    if (header === null) header = { names: [], email: -1, broken: true };
    else rows++;
  });

  // Assigned in the callbacks, which flow analysis does not follow.
  const h = header as Header | null;
  const duplicates = addresses.seal();
  for (const d of duplicates) {
    const at = rowsAt.at(d.index);
    const f = sink.addAt(at.position, "list-duplicate", at.line, at.column, "");
    // The message (and its mask()) only for findings that are kept.
    if (f !== null) {
      f.message = `address ${mask(addresses.at(d.index))} is already on line ${rowsAt.at(d.first).line} (compared after NFKC normalisation and lowercasing)`;
    }
  }
  // Distinct suppressed addresses: the suppressed rows that are not a later occurrence.
  let suppressed = 0;
  for (let k = 0, d = 0; k < suppressedRows.length; k++) {
    const i = suppressedRows[k]!;
    while (d < duplicates.length && duplicates[d]!.index < i) d++;
    if (d >= duplicates.length || duplicates[d]!.index !== i) suppressed++;
  }
  const valid = addresses.size;
  const sendCount = valid - suppressed;
  if (!scan.encodingError) {
    if (h === null) {
      sink.add("list-empty", 1, 1, "the file is empty: it needs a header row with an `email` column and one row per recipient");
    } else if (!h.broken && rows === 0) {
      sink.add("list-empty", 1, 1, "the file has a header row but no recipients");
    } else if (valid > 0 && sendCount === 0) {
      sink.add("list-empty", 1, 1, `all ${valid} recipients are on the suppression list: nobody would be mailed`);
    }
  }

  const names = h?.names ?? [];
  const emptyFields = new Set<string>();
  const emptyByName = new Map<string, EmptyRows>();
  names.forEach((n, k) => {
    if (empty[k]) {
      emptyFields.add(n);
      emptyByName.set(n, emptyRows[k]!);
    }
  });
  return {
    file,
    header: names,
    emailColumn: h?.email ?? -1,
    rows,
    valid,
    suppressed,
    sendCount,
    addresses,
    emptyFields,
    emptyRows: emptyByName,
    columns: (inspector as ColumnInspector | null)?.finish() ?? [],
    sha256: scan.sha256,
    findings: sink.finish(),
  };
}

/**
 * Read `recipients/suppressions.csv` (unsubscribed, bounced). Same format as
 * a list: header with an `email` column. Entries that are not valid
 * addresses are warnings (they suppress nobody we could mail) but are still
 * kept in normalised form; a malformed row is an error, because a
 * suppression that silently fails to apply mails someone who said no.
 */
export async function loadSuppressions(
  input: AsyncIterable<Uint8Array>,
  opts: { file: string; maxFindingsPerRule?: number },
): Promise<SuppressionList> {
  const sink = new FindingSink(opts.file, opts.maxFindingsPerRule ?? DEFAULT_MAX_FINDINGS_PER_RULE);
  const addresses = new Set<string>();
  let header: Header | null = null;
  let rows = 0;
  const scan = await scanCsv(
    input,
    sink,
    (fields, line, pos) => {
      if (header === null) {
        header = readHeader(fields, pos, line, sink);
        return;
      }
      rows++;
      if (header.broken) return;
      const ncols = header.names.length;
      if (fields.length !== ncols) {
        sink.add("list-field-count", line, 1, `row has ${fields.length} field${fields.length === 1 ? "" : "s"}; the header has ${ncols}`);
      }
      if (header.email < 0) return;
      const raw = fields[header.email];
      if (raw === undefined) return;
      const at = fieldAt(pos, header.email, line);
      const addr = normaliseAddress(raw);
      const problem = addressIssue(raw, addr);
      if (addr !== null) addresses.add(addr);
      if (problem !== null) sink.add("list-invalid-address", at.line, at.column, `${problem}; this entry suppresses nobody`, "warning");
    },
    () => {
      if (header === null) header = { names: [], email: -1, broken: true };
      else rows++;
    },
  );
  return { file: opts.file, rows, addresses, sha256: scan.sha256, findings: sink.finish() };
}

export interface RowChangeInput {
  /** Valid rows of this list at its last send, or undefined when it was never sent. */
  previous?: number;
  current: number;
  /** `expected_change` from newsletter.yml. */
  expectedChange?: number;
  /** Where to point the finding: newsletter.yml and the line of `recipients:` (or `expected_change:`). */
  file: string;
  line: number;
  column?: number;
}

/**
 * A list that suddenly grew or shrank is the wrong list more often than not
 * (the incident: a test send bound to the customer list). A change of more
 * than 10 % of the last send, or any change of a list that had fewer than 20
 * rows, needs `expected_change` equal to the exact row delta; a stated
 * `expected_change` that does not match is an error as well.
 */
export function checkRowChange(input: RowChangeInput): Finding | null {
  const { previous, current, expectedChange } = input;
  if (previous === undefined) return null; // never sent: nothing to compare with
  const delta = current - previous;
  const counts = `the list has ${current} recipients; its last send had ${previous} (change ${signed(delta)}${
    previous > 0 ? `, ${signed(Math.round((delta / previous) * 1000) / 10)} %` : ""
  })`;
  const at = { line: input.line, column: input.column ?? 1 };
  if (expectedChange !== undefined) {
    if (expectedChange === delta) return null;
    return finding(
      "list-row-change",
      input.file,
      at,
      `expected_change is ${expectedChange} but ${counts}; check that this is the intended list, then set \`expected_change: ${delta}\` in newsletter.yml`,
    );
  }
  const large = previous < 20 ? delta !== 0 : Math.abs(delta) > previous * 0.1;
  if (!large) return null;
  return finding("list-row-change", input.file, at, `${counts}; check that this is the intended list, then add \`expected_change: ${delta}\` to newsletter.yml`);
}

// ---------------------------------------------------------------------------

interface Header {
  names: string[];
  /** Index of the `email` column, -1 when absent. */
  email: number;
  /** The header record itself was malformed: rows are counted, not checked. */
  broken: boolean;
}

/**
 * Header rules: names are trimmed; one of them is `email` (any case); no
 * name is empty or repeated (compared case-insensitively: `Name` and `name`
 * would be one placeholder to a reader and two to the program).
 */
function readHeader(fields: string[], pos: FieldPositions, line: number, sink: FindingSink): Header {
  const names = fields.map((f) => f.trim());
  const seen = new Map<string, number>();
  let email = -1;
  names.forEach((name, k) => {
    const at = fieldAt(pos, k, line);
    if (name === "") {
      sink.add("list-header", at.line, at.column, `column ${k + 1} of the header has no name`);
      return;
    }
    const key = name.toLowerCase();
    const first = seen.get(key);
    if (first !== undefined) {
      sink.add("list-header", at.line, at.column, `column name ${showName(name)} appears twice (columns ${first + 1} and ${k + 1})`);
      return;
    }
    seen.set(key, k);
    if (key === "email" && email < 0) email = k;
  });
  if (email < 0) {
    const shown = names.length > 0 ? names.slice(0, 20).map(showName).join(", ") + (names.length > 20 ? ", …" : "") : "none";
    let hint = "";
    const looksLikeData = names.some((n) => AT_SIGN.test(n));
    const similar = names.find((n) => EMAIL_LIKE_NAME.test(n));
    if (/^sep=.?$/i.test(names[0] ?? "")) {
      hint = `; the first line \`${names[0]}\` is Excel's separator hint, not a header: delete that line`;
    } else if (names.length === 1 && /[;\t]/.test(fields[0] ?? "")) {
      const sep = (fields[0] ?? "").includes(";") ? "`;`" : "tabs";
      hint = `; the columns are separated by ${sep}, not commas: save the file as "CSV UTF-8 (comma delimited)"`;
    } else if (names.some((n) => n.includes("\u0000"))) {
      hint = "; the file looks like UTF-16 (Excel's \"Unicode text\"): save it as \"CSV UTF-8 (comma delimited)\"";
    } else if (looksLikeData) hint = "; the first row looks like a recipient, not a header: add a header row such as `email,name`";
    else if (similar !== undefined) hint = `; rename ${showName(similar)} to \`email\``;
    sink.add("list-header", line, 1, `no \`email\` column (the header has: ${shown})${hint}`);
  }
  return { names, email, broken: false };
}

/** A header name in a message: masked if address-like (a header-less file), cut, JSON-quoted. */
function showName(name: string): string {
  let n = AT_SIGN.test(name) ? mask(name) : name;
  if (n.length > 40) n = `${n.slice(0, 37)}...`;
  return `\`${JSON.stringify(n).slice(1, -1)}\``;
}

function columnLabel(h: Header, k: number): string {
  const name = h.names[k];
  return name !== undefined ? `column ${showName(name)}` : `field ${k + 1} (beyond the header's ${h.names.length} columns)`;
}

function fieldAt(pos: FieldPositions, k: number, line: number): { line: number; column: number } {
  return { line: pos.lines[k] ?? line, column: pos.columns[k] ?? 1 };
}

/**
 * Why a field is not an address we may send to, in ADDRESS_PROBLEM_TEXT
 * words with the value masked; null when it is one. `norm` is
 * `normaliseAddress(raw)`.
 */
function addressIssue(raw: string, norm: string | null): string | null {
  if (norm !== null) {
    const p = addressProblem(norm);
    return p === null ? null : `address ${mask(norm)} ${ADDRESS_PROBLEM_TEXT[p]}`;
  }
  // normaliseAddress gave up: say why in the same words.
  const t = raw.trim();
  if (t === "") return "the email field is empty";
  const at = t.lastIndexOf("@");
  const p: AddressProblem = at < 0 ? "no-at" : at === 0 ? "local-empty" : "domain-syntax";
  return `address ${mask(t)} ${ADDRESS_PROBLEM_TEXT[p]}`;
}

/** Blank = empty or only white space: it renders as nothing. */
function isBlank(v: string): boolean {
  if (v.length === 0) return true;
  const c = v.charCodeAt(0);
  // Only a field that starts with white space can be all white space.
  return (c <= 0x20 || c > 0x7e) && v.trim().length === 0;
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : `${n}`;
}

/**
 * One streaming pass shared by lists and suppressions: canonical hash of the
 * raw bytes, strict UTF-8 decoding, CSV parsing. On an encoding error
 * parsing stops (nothing after it can be trusted) but the hash still covers
 * the whole file.
 */
async function scanCsv(
  input: AsyncIterable<Uint8Array>,
  sink: FindingSink,
  onRecord: (fields: string[], line: number, pos: FieldPositions) => void,
  onBadRecord: () => void,
): Promise<{ sha256: string; encodingError: boolean }> {
  const hasher = new CanonicalHasher();
  // Byte strings: validated, not converted; the parser decodes the few non-ASCII fields (load/csv.ts).
  const decoder = new Utf8StreamDecoder({ byteString: true });
  const parser = new CsvParser({
    onRow: onRecord,
    onError: (e) => {
      const where = e.recordLine === e.line ? "" : ` (in the record that starts on line ${e.recordLine})`;
      sink.add("list-csv", e.line, e.column, `${e.reason}${where}; the record is skipped`);
      onBadRecord();
    },
  }, { byteString: true });
  const push = (text: string): void => parser.push(text);
  let encodingError = false;
  const decodeFailed = (e: unknown): void => {
    if (!(e instanceof Utf8DecodeError)) throw e;
    encodingError = true;
    const what = e.truncated ? "the file ends in the middle of a multi-byte character" : `byte ${e.bytesHex.split(" ")[0]} at byte offset ${e.byteOffset} is not valid UTF-8`;
    // UTF-16 (Excel's "Unicode text") starts with its byte-order mark FF FE or FE FF, or has NUL bytes between ASCII letters.
    const utf16 = (first[0] === 0xff && first[1] === 0xfe) || (first[0] === 0xfe && first[1] === 0xff) || first.subarray(0, 64).includes(0);
    const probably = utf16
      ? `the file is UTF-16 (Excel's "Unicode text"): save it as UTF-8 (Excel: "CSV UTF-8 (comma delimited)")`
      : `the file is probably Shift_JIS, Latin-1 or Windows-1252: save it as UTF-8 (Excel: "CSV UTF-8")`;
    sink.add("input-encoding", e.line, e.column, `${what}; ${probably}. Nothing after this point was checked`);
  };
  // CanonicalHasher looks for the BOM in its first update only: hand it at
  // least 3 bytes first, whatever the chunking of the input.
  let head: Uint8Array | null = new Uint8Array(0);
  /** The first bytes of the file, to tell UTF-16 from Shift_JIS when it is not UTF-8. */
  let first: Uint8Array = new Uint8Array(0);
  for await (const chunk of input) {
    if (first.length < 64) first = concatBytes(first, chunk.subarray(0, 64));
    if (head === null) hasher.update(chunk);
    else {
      head = concatBytes(head, chunk);
      if (head.length >= 3) {
        hasher.update(head);
        head = null;
      }
    }
    if (encodingError) continue;
    try {
      // Strings of at most 64 KiB, for the young generation (see pushEach).
      decoder.pushEach(chunk, PIECE, push);
    } catch (e) {
      decodeFailed(e);
    }
  }
  if (head !== null && head.length > 0) hasher.update(head);
  if (!encodingError) {
    try {
      parser.push(decoder.end());
    } catch (e) {
      decodeFailed(e);
    }
    if (!encodingError) parser.end();
  }
  return { sha256: hasher.digest(), encodingError };
}

const PIECE = 64 * 1024;

/**
 * Where each appended address was (line and column of its field) and the
 * finding sink's position then, for the few that turn out to be
 * duplicates. Lines and positions are kept as runs (the next valid row's
 * address is usually on the next line, with no finding in between: a clean
 * list is one run), columns as 16 bits a row in pages that never move (they
 * vary from row to row when the email column is not the first: there, JS
 * arrays of a million numbers, grown by copying, cost tens of megabytes of
 * peak RSS: bench/README.md, "Figures behind the code").
 */
class RowPositions {
  private readonly first: number[] = [];
  private readonly lines: number[] = [];
  private readonly positions: number[] = [];
  private readonly columnPages: Uint16Array[] = [];
  /** Columns of 0xFFFF and more, by append number (the page holds 0xFFFF). */
  private readonly wideColumns = new Map<number, number>();

  /** Record append number `i`; called for 0, 1, 2, … in turn. */
  record(i: number, line: number, column: number, position: number): void {
    const slot = i & (COLUMN_PAGE - 1);
    if (slot === 0) this.columnPages.push(new Uint16Array(COLUMN_PAGE));
    const page = this.columnPages[this.columnPages.length - 1]!;
    if (column < 0xffff) page[slot] = column;
    else {
      page[slot] = 0xffff;
      this.wideColumns.set(i, column);
    }
    const k = this.first.length - 1;
    if (k >= 0 && this.lines[k]! + (i - this.first[k]!) === line && this.positions[k] === position) return;
    this.first.push(i);
    this.lines.push(line);
    this.positions.push(position);
  }

  at(i: number): { line: number; column: number; position: number } {
    // The last run starting at or before i.
    let lo = 0;
    let hi = this.first.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.first[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    const c = this.columnPages[i >>> COLUMN_BITS]![i & (COLUMN_PAGE - 1)]!;
    return {
      line: this.lines[lo]! + (i - this.first[lo]!),
      column: c === 0xffff ? this.wideColumns.get(i)! : c,
      position: this.positions[lo]!,
    };
  }
}

const COLUMN_BITS = 16;
const COLUMN_PAGE = 1 << COLUMN_BITS;

/**
 * A cheap "might be in the set" for suppressions, by length: most lists have
 * few suppressions, and `Set.has` makes V8 hash each row's fresh string.
 */
function lengthFilter(set: ReadonlySet<string> | undefined): (s: string) => boolean {
  if (set === undefined) return () => false;
  const lengths = new Uint8Array(256);
  for (const s of set) {
    if (s.length >= lengths.length) return () => true;
    lengths[s.length] = 1;
  }
  return (s) => s.length < lengths.length && lengths[s.length] === 1;
}

function concatBytes(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

/**
 * Findings of one file, capped per rule: a broken million-row list gives
 * `max` findings per rule and one line summing up the rest.
 *
 * A finding known only later (a duplicate, found once the whole list is
 * read) is added with `addAt` and the `position` of the moment it belongs
 * to; `finish` puts it there, so the list — which findings are kept, their
 * order, and the order of the summing-up lines — is the one streaming
 * would have given.
 */
class FindingSink {
  private readonly findings: Finding[] = [];
  /** Per kept finding: 2 × position + 1 for `add`, 2 × position for `addAt` (before the `add` made then). */
  private readonly keys: number[] = [];
  private late = false;
  private marks = 0;
  private readonly counts = new Map<RuleId, number>();
  private readonly overflow = new Map<RuleId, { n: number; line: number; column: number; severity: Severity; key: number }>();

  constructor(
    private readonly file: string,
    private readonly max: number,
  ) {}

  /**
   * How many `add` calls so far left a mark: a kept finding, or a rule's
   * first finding past the cap (where its summing-up line points). Only
   * those have an order to keep; the others are only counted, so a broken
   * list whose every row has a finding does not move the position per row.
   */
  get position(): number {
    return this.marks;
  }

  /** Returns the finding when it is kept (so a caller can complete its message), null when only counted. */
  add(rule: RuleId, line: number, column: number, message: string, severity: Severity = RULES[rule].severity): Finding | null {
    const before = this.findings.length + this.overflow.size;
    const f = this.put(2 * this.marks + 1, rule, line, column, message, severity);
    if (this.findings.length + this.overflow.size !== before) this.marks++;
    return f;
  }

  /**
   * Add a finding that belongs where `position` was `at`. Of one rule, all
   * or none must come this way, in the order they belong in (the cap counts
   * them as they come).
   */
  addAt(at: number, rule: RuleId, line: number, column: number, message: string, severity: Severity = RULES[rule].severity): Finding | null {
    this.late = true;
    return this.put(2 * at, rule, line, column, message, severity);
  }

  private put(key: number, rule: RuleId, line: number, column: number, message: string, severity: Severity): Finding | null {
    const n = (this.counts.get(rule) ?? 0) + 1;
    this.counts.set(rule, n);
    if (n <= this.max) {
      const f = finding(rule, this.file, { line, column }, message, severity);
      this.findings.push(f);
      this.keys.push(key);
      return f;
    }
    const o = this.overflow.get(rule);
    if (o) o.n++;
    else this.overflow.set(rule, { n: 1, line, column, severity, key });
    return null;
  }

  finish(): Finding[] {
    let overflow = [...this.overflow];
    if (this.late) {
      // Stable sorts: late findings of one position keep their order.
      const byKey = this.findings.map((f, k) => ({ f, key: this.keys[k]! })).sort((a, b) => a.key - b.key);
      this.findings.splice(0, this.findings.length, ...byKey.map((x) => x.f));
      overflow = overflow.sort((a, b) => a[1].key - b[1].key);
    }
    for (const [rule, o] of overflow) {
      const message = `…and ${o.n} more row${o.n === 1 ? "" : "s"} with the same problem (${RULES[rule].title.toLowerCase()}), the first of them here`;
      this.findings.push(finding(rule, this.file, o, message, o.severity));
    }
    this.overflow.clear();
    return this.findings;
  }
}
