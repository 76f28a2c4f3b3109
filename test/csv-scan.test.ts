/**
 * The CSV scanner's steps one at a time (src/load/csv-scan.ts). Each case changes one base
 * world — a fresh scan state of text chunks, at line 1, and a record sink that is a fake of plain
 * fields recording what it is told — calls one step at one index of one chunk, and looks at the
 * index it returns, the state after it, and what the sink heard. The parser as a whole:
 * csv.test.ts and csv-byte-string.test.ts.
 */
import { describe, expect, it } from "vitest";
import {
  afterQuote,
  afterSplitCrlf,
  endInput,
  fieldStart,
  lineBreak,
  quoted,
  type RecordSink,
  ScanState,
  State,
  stripBom,
  unquoted,
} from "../src/load/csv-scan.ts";

/** Everything the sink was told, in order. */
function fakeSink(nfields = 0) {
  const sink = {
    heard: [] as string[],
    nfields,
    field(value: string, line: number, column: number) {
      sink.nfields++;
      sink.heard.push(`field ${JSON.stringify(value)} @${line}:${column}`);
    },
    endRecord(nextLine: number) {
      sink.nfields = 0;
      sink.heard.push(`end, next @${nextLine}`);
    },
    skipBlank(line: number) {
      sink.heard.push(`blank, next @${line}`);
    },
    fail(line: number, column: number, reason: string) {
      sink.heard.push(`fail @${line}:${column} ${reason.slice(0, 30)}`);
    },
  } satisfies RecordSink & Record<string, unknown>;
  return sink;
}

interface Case {
  name: string;
  /** Changes to the base state (text chunks, line 1, nothing read) before the step. */
  state?: Partial<Omit<ScanState, "bytes">> & { bytes?: boolean };
  /** Fields of the current record already told to the sink. */
  nfields?: number;
  s: string;
  i?: number;
  returns: number | string | null;
  after?: Partial<ScanState>;
  heard?: string[];
}

function world(c: Case) {
  const { bytes = false, ...rest } = c.state ?? {};
  const st = Object.assign(new ScanState(bytes), rest);
  return { st, sink: fakeSink(c.nfields ?? 0) };
}

function check(c: Case, step: (st: ScanState, sink: ReturnType<typeof fakeSink>) => number | string | null) {
  const { st, sink } = world(c);
  expect(step(st, sink)).toBe(c.returns);
  expect(st).toMatchObject(c.after ?? {});
  expect(sink.heard).toEqual(c.heard ?? []);
}

describe("stripBom", () => {
  it.each<Case>([
    { name: "text: a BOM before the first record is dropped", s: "\ufeffa,b", returns: "a,b", after: { first: false } },
    { name: "text: no BOM, unchanged", s: "a,b", returns: "a,b", after: { first: false } },
    { name: "text: an empty first chunk leaves the BOM still to come", s: "", returns: null, after: { first: true } },
    { name: "text: a BOM after the first chunk is content", state: { first: false }, s: "\ufeffa", returns: "\ufeffa" },
    { name: "bytes: the BOM's bytes are dropped", state: { bytes: true }, s: "\xef\xbb\xbfa", returns: "a", after: { first: false, head: "" } },
    { name: "bytes: a chunk that may still become a BOM is held", state: { bytes: true }, s: "\xef\xbb", returns: null, after: { first: true, head: "\xef\xbb" } },
    { name: "bytes: held bytes that became a BOM", state: { bytes: true, head: "\xef" }, s: "\xbb\xbfa", returns: "a", after: { first: false, head: "" } },
    { name: "bytes: held bytes that did not become one are content", state: { bytes: true, head: "\xef\xbb" }, s: "x", returns: "\xef\xbbx", after: { first: false } },
  ])("$name", (c) => check(c, (st) => stripBom(st, c.s)));
});

describe("afterSplitCrlf: a chunk after one that ended in a CR", () => {
  it.each<Case>([
    { name: "an LF first is the rest of the CRLF: skipped, the line starts after it", state: { crPending: true, base: 10 }, s: "\nb", returns: 1, after: { crPending: false, lineStart: 11 } },
    { name: "inside quotes that LF is content", state: { crPending: true, state: State.Quoted, partial: "a\r" }, s: "\nb", returns: 1, after: { partial: "a\r\n" } },
    { name: "anything else: the CR stood alone, nothing to skip", state: { crPending: true, lineStart: 4 }, s: "b", returns: 0, after: { crPending: false, lineStart: 4 } },
  ])("$name", (c) => check(c, (st) => afterSplitCrlf(st, c.s)));
});

describe("lineBreak", () => {
  it.each<Case>([
    { name: "LF", state: { base: 100, adjust: 3 }, s: "a\nb", i: 1, returns: 2, after: { line: 2, lineStart: 102, adjust: 0, crPending: false } },
    { name: "CRLF is one line break", s: "a\r\nb", i: 1, returns: 3, after: { line: 2, lineStart: 3 } },
    { name: "a lone CR", s: "a\rb", i: 1, returns: 2, after: { line: 2, lineStart: 2 } },
    { name: "a CR at the chunk's end: counted now, its LF may come next", s: "a\r", i: 1, returns: 2, after: { line: 2, crPending: true } },
  ])("$name", (c) => check(c, (st) => lineBreak(st, c.s, c.i ?? 0)));
});

describe("fieldStart", () => {
  it.each<Case>([
    { name: "a blank line is skipped and counted", s: "\nx", returns: 1, after: { line: 2, state: State.FieldStart }, heard: ["blank, next @2"] },
    { name: "a blank CRLF line", s: "\r\nx", returns: 2, after: { line: 2 }, heard: ["blank, next @2"] },
    { name: "a line break after a separator is not a blank line: an empty last field starts", nfields: 1, s: "\n", returns: 0, after: { state: State.Unquoted } },
    { name: "a quote opens a quoted field, remembered for an unclosed quote", state: { line: 3, lineStart: 40, base: 40 }, s: 'a,"b', i: 2, returns: 3,
      after: { state: State.Quoted, segStart: 3, fieldLine: 3, fieldColumn: 3, quoteLine: 3, quoteColumn: 3 } },
    { name: "anything else starts an unquoted field; its column counts from the line's start, in UTF-16 units", state: { base: 100, lineStart: 95, adjust: 2, partial: "old", high: true }, s: "xyz", i: 1, returns: 1,
      after: { state: State.Unquoted, segStart: 1, fieldLine: 1, fieldColumn: 5, partial: "", high: false } },
  ])("$name", (c) => check(c, (st, sink) => fieldStart(st, sink, c.s, c.i ?? 0)));
});

describe("unquoted", () => {
  const at = { state: State.Unquoted, fieldLine: 1, fieldColumn: 1 };
  it.each<Case>([
    { name: "a separator ends the field", state: at, s: "abc,def", returns: 4, after: { state: State.FieldStart }, heard: ['field "abc" @1:1'] },
    { name: "a terminator ends the field and the record", state: at, s: "abc\r\nx", returns: 5, after: { state: State.FieldStart, line: 2, lineStart: 5 },
      heard: ['field "abc" @1:1', "end, next @2"] },
    { name: "the chunk's end: the text so far is kept, nothing told", state: at, s: "abc", returns: 3, after: { partial: "abc", state: State.Unquoted } },
    { name: "a field continued from the last chunk", state: { ...at, partial: "ab" }, s: "c,", returns: 2, heard: ['field "abc" @1:1'] },
    { name: "a quote inside it is an error at the quote; the scan goes on", state: { ...at, base: 10, lineStart: 10 }, s: 'ab"c,', returns: 3, after: { state: State.Unquoted },
      heard: ["fail @1:3 a quote inside a field that do"] },
    { name: "bytes: a field with a byte above 0x7F is decoded; 2 bytes are 1 unit", state: { ...at, bytes: true }, s: "caf\xc3\xa9,", returns: 6, after: { adjust: 1, high: true },
      heard: ['field "café" @1:1'] },
    { name: "bytes: 4 bytes are 2 units (a surrogate pair)", state: { ...at, bytes: true }, s: "\xf0\x9f\x8e\x8c,", returns: 5, after: { adjust: 2 }, heard: ['field "🎌" @1:1'] },
    { name: "text: no byte arithmetic", state: at, s: "café,", returns: 5, after: { adjust: 0, high: false }, heard: ['field "café" @1:1'] },
  ])("$name", (c) => check(c, (st, sink) => unquoted(st, sink, c.s, c.i ?? 0)));
});

describe("quoted", () => {
  const at = { state: State.Quoted, segStart: 0 };
  it.each<Case>([
    { name: "a quote ends the quoted text", state: at, s: 'abc",', returns: 4, after: { partial: "abc", state: State.QuoteSeen } },
    { name: "line breaks inside are content, and counted", state: { ...at, base: 20 }, s: 'a\nb\r\nc\rd"', returns: 9, after: { partial: "a\nb\r\nc\rd", line: 4, lineStart: 27 } },
    { name: "a CR at the chunk's end: counted now", state: at, s: "ab\r", returns: 3, after: { partial: "ab\r", line: 2, crPending: true, state: State.Quoted } },
    { name: "the chunk's end without a quote: the text so far is kept", state: { ...at, partial: "x" }, s: "abc", returns: 3, after: { partial: "xabc" } },
  ])("$name", (c) => check(c, (st) => quoted(st, c.s, c.i ?? 0)));
});

describe("afterQuote", () => {
  const at = { state: State.QuoteSeen, partial: "ab", fieldLine: 1, fieldColumn: 1 };
  it.each<Case>([
    { name: "a second quote: one quote of content, still quoted", state: at, s: '"c', returns: 1, after: { partial: 'ab"', state: State.Quoted, segStart: 1 } },
    { name: "a separator ends the field", state: at, s: ",x", returns: 1, after: { state: State.FieldStart }, heard: ['field "ab" @1:1'] },
    { name: "a terminator ends the field and the record", state: at, s: "\nx", returns: 1, after: { line: 2 }, heard: ['field "ab" @1:1', "end, next @2"] },
    { name: "anything else is an error there; the rest is read as unquoted text", state: { ...at, base: 5, lineStart: 0 }, s: "x,", returns: 0, after: { state: State.Unquoted, segStart: 0 },
      heard: ["fail @1:6 text after the closing quote o"] },
  ])("$name", (c) => check(c, (st, sink) => afterQuote(st, sink, c.s, c.i ?? 0)));
});

describe("endInput: the last record without a terminator", () => {
  it.each<Case>([
    { name: "between records: nothing", s: "", returns: null },
    { name: "after a trailing separator: an empty last field", nfields: 1, state: { fieldLine: 2, fieldColumn: 1 }, s: "", returns: null, heard: ['field "" @2:1', "end, next @1"] },
    { name: "inside an unquoted field: it ends", state: { state: State.Unquoted, partial: "abc" }, s: "", returns: null, after: { partial: "" }, heard: ['field "abc" @1:1', "end, next @1"] },
    { name: "after a closing quote: it ends", state: { state: State.QuoteSeen, partial: "abc" }, s: "", returns: null, heard: ['field "abc" @1:1', "end, next @1"] },
    { name: "inside a quoted field: an error where the quote opened", state: { state: State.Quoted, quoteLine: 3, quoteColumn: 7, line: 9 }, s: "", returns: null,
      heard: ["fail @3:7 a quoted field is never closed", "end, next @9"] },
  ])("$name", (c) =>
    check(c, (st, sink) => {
      endInput(st, sink);
      return null;
    }));
});
