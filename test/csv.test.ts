import { describe, expect, it } from "vitest";
import {
  CsvParser,
  decodeUtf8,
  firstInvalidUtf8,
  parseCsv,
  Utf8DecodeError,
  Utf8StreamDecoder,
  type CsvError,
} from "../src/load/csv.ts";

interface Row {
  fields: string[];
  line: number;
  lines: number[];
  columns: number[];
}

/** Parse `chunks` in order, recording rows with their field positions. */
function parseChunks(chunks: readonly string[]): { rows: Row[]; errors: CsvError[] } {
  const rows: Row[] = [];
  const errors: CsvError[] = [];
  const p = new CsvParser({
    onRow: (fields, line, pos) =>
      rows.push({ fields, line, lines: pos.lines.slice(0, fields.length), columns: pos.columns.slice(0, fields.length) }),
    onError: (e) => errors.push(e),
  });
  for (const c of chunks) p.push(c);
  p.end();
  return { rows, errors };
}

const fieldsOf = (text: string) => parseCsv(text).rows.map((r) => r.fields);

describe("CsvParser: RFC 4180 records", () => {
  it("reads LF, CRLF and lone CR, with or without a final newline", () => {
    const want = [
      ["email", "name"],
      ["a@example.com", "A"],
    ];
    expect(fieldsOf("email,name\na@example.com,A\n")).toEqual(want);
    expect(fieldsOf("email,name\na@example.com,A")).toEqual(want);
    expect(fieldsOf("email,name\r\na@example.com,A\r\n")).toEqual(want);
    expect(fieldsOf("email,name\r\na@example.com,A")).toEqual(want);
    expect(fieldsOf("email,name\ra@example.com,A\r")).toEqual(want);
  });

  it("strips one UTF-8 BOM at the start only", () => {
    expect(fieldsOf("\ufeffemail,name\nx,y\n")).toEqual([
      ["email", "name"],
      ["x", "y"],
    ]);
    expect(fieldsOf("\ufeff\ufeffemail\n")).toEqual([["\ufeffemail"]]);
    expect(fieldsOf("a\n\ufeffb\n")).toEqual([["a"], ["\ufeffb"]]);
    const { rows } = parseChunks(["\ufeff", "email,name\n"]);
    expect(rows[0]?.fields).toEqual(["email", "name"]);
    expect(rows[0]?.columns).toEqual([1, 7]); // the BOM is not a column
  });

  it("reads quoted fields with commas, newlines and doubled quotes", () => {
    expect(fieldsOf('a,"b,c","d\ne","f""g",""\n')).toEqual([["a", "b,c", "d\ne", 'f"g', ""]]);
    expect(fieldsOf('"x\r\ny"\n')).toEqual([["x\r\ny"]]);
    expect(fieldsOf('""""\n')).toEqual([['"']]);
    expect(fieldsOf('"a""""b"')).toEqual([['a""b']]);
  });

  it("keeps empty fields, including a trailing one", () => {
    expect(fieldsOf("a,,b\n,\n,,\n")).toEqual([["a", "", "b"], ["", ""], ["", "", ""]]);
    expect(fieldsOf("a,b,")).toEqual([["a", "b", ""]]);
    expect(fieldsOf('a,""')).toEqual([["a", ""]]);
  });

  it("skips blank lines but counts them", () => {
    const { rows } = parseChunks(["\n\nemail\r\n\r\nx\n\n\ny\n\n"]);
    expect(rows.map((r) => [r.fields, r.line])).toEqual([
      [["email"], 3],
      [["x"], 5],
      [["y"], 8],
    ]);
    expect(parseCsv("").rows).toEqual([]);
    expect(parseCsv("\n\r\n\r").rows).toEqual([]);
    // A line of spaces is not blank: it is a record of one field.
    expect(fieldsOf("a\n  \n")).toEqual([["a"], ["  "]]);
  });

  it("numbers lines physically and positions every field", () => {
    const { rows } = parseChunks(['email,note\nx@example.com,"two\r\nlines"\ny@example.com,"a\rb\nc",z\n']);
    expect(rows.map((r) => r.line)).toEqual([1, 2, 4]);
    expect(rows[1]).toMatchObject({ lines: [2, 2], columns: [1, 15] });
    expect(rows[2]).toMatchObject({ lines: [4, 4, 6], columns: [1, 15, 4] });
    // A field after a multi-line field starts on a later line than its record.
    const r = parseChunks(['"a\nb",c\n']).rows[0]!;
    expect(r).toMatchObject({ line: 1, lines: [1, 2], columns: [1, 4] });
  });
});

describe("CsvParser: syntax errors", () => {
  it("reports a quote inside an unquoted field and resumes at the next record", () => {
    const { rows, errors } = parseChunks(['email,name\nx@example.com,Ta"ro\ny@example.com,Hanako\n']);
    expect(errors).toEqual([{ line: 2, column: 17, recordLine: 2, reason: expect.stringContaining("quote") }]);
    expect(rows.map((r) => r.fields[0])).toEqual(["email", "y@example.com"]);
  });

  it("reports text after a closing quote", () => {
    const { rows, errors } = parseChunks(['a,"b"c,d\ne\n']);
    expect(errors).toEqual([{ line: 1, column: 6, recordLine: 1, reason: expect.stringContaining("closing quote") }]);
    expect(rows.map((r) => r.fields)).toEqual([["e"]]);
  });

  it("reports an unterminated quote at the opening quote, one error per record", () => {
    const { rows, errors } = parseChunks(['email\nx@example.com\n"y@example.com\nz@example.com\n']);
    expect(errors).toEqual([{ line: 3, column: 1, recordLine: 3, reason: expect.stringContaining("never closed") }]);
    expect(rows.map((r) => r.fields)).toEqual([["email"], ["x@example.com"]]);
    const two = parseChunks(['a"b"c\n']).errors;
    expect(two).toHaveLength(1);
  });

  it("reports the line of an error inside a multi-line record", () => {
    const { errors } = parseChunks(['h\n"a\nb"x\nc\n']);
    expect(errors).toEqual([{ line: 3, column: 3, recordLine: 2, reason: expect.any(String) }]);
  });

  it("refuses push after end", () => {
    const p = new CsvParser({ onRow: () => undefined, onError: () => undefined });
    p.end();
    expect(() => p.push("a")).toThrow();
  });
});

describe("CsvParser: chunk boundaries", () => {
  const inputs = [
    'email,name\r\n"a,b@example.com","Ta""ro"\r\n\r\nc@example.com,"multi\r\nline"\r\nd@example.com,\r\n',
    '\ufeffemail,note\n"x""""y",""\n"q\r\n"\rlast,"\r"',
    'a,b\n"unterminated\r\nrow,x\n',
    'a,"b"c,d\r\ne,f"g\r\nh,i\r',
    '"""",",",\n\n\r\n"\n"\n',
  ];

  for (const [n, text] of inputs.entries()) {
    it(`gives the same rows, positions and errors at every split (input ${n + 1})`, () => {
      const whole = parseChunks([text]);
      for (let cut = 0; cut <= text.length; cut++) {
        expect(parseChunks([text.slice(0, cut), text.slice(cut)]), `cut at ${cut}`).toEqual(whole);
      }
      for (let a = 0; a <= text.length; a++) {
        for (let b = a; b <= text.length; b++) {
          expect(parseChunks([text.slice(0, a), text.slice(a, b), text.slice(b)]), `cuts at ${a},${b}`).toEqual(whole);
        }
      }
      expect(parseChunks(Array.from(text)), "one character per chunk").toEqual(whole);
    });
  }
});

// ---------------------------------------------------------------------------

const enc = (s: string) => new TextEncoder().encode(s);
const bytes = (...parts: Array<string | number[]>) =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? Array.from(enc(p)) : p)));

function decodeAll(chunks: readonly Uint8Array[]): string {
  const d = new Utf8StreamDecoder();
  let out = "";
  for (const c of chunks) out += d.push(c);
  return out + d.end();
}

function decodeError(chunks: readonly Uint8Array[]): Utf8DecodeError {
  try {
    decodeAll(chunks);
  } catch (e) {
    if (e instanceof Utf8DecodeError) return e;
    throw e;
  }
  throw new Error("expected a Utf8DecodeError");
}

describe("Utf8StreamDecoder", () => {
  it("decodes multi-byte text split at every byte, keeping the BOM for the parser", () => {
    const text = "\ufeffemail,名前\r\nｔａｒｏ＠example.com,山田 🎌\n";
    const b = enc(text);
    for (let cut = 0; cut <= b.length; cut++) {
      expect(decodeAll([b.subarray(0, cut), b.subarray(cut)])).toBe(text);
    }
    expect(decodeAll(Array.from(b, (x) => Uint8Array.of(x)))).toBe(text);
  });

  it("reports Latin-1 bytes with line and column, not replacement characters", () => {
    // "café" in ISO-8859-1: é is the single byte 0xE9.
    const latin1 = bytes("email,name\r\nx@example.com,A\r\ny@example.com,caf", [0xe9], "\r\n");
    const e = decodeError([latin1]);
    expect(e).toMatchObject({ line: 3, column: 18, bytesHex: "e9 0d 0a", truncated: false });
    expect(e.byteOffset).toBe(latin1.indexOf(0xe9));
    expect(e.message).toContain("line 3");
  });

  it("reports Shift_JIS bytes at the right line whatever the chunking", () => {
    // 山田 in Shift_JIS: 8E 52 93 63.
    const sjis = bytes("email,name\nx@example.com,A\n\ny@example.com,", [0x8e, 0x52, 0x93, 0x63], "\n");
    for (let cut = 0; cut <= sjis.length; cut++) {
      const e = decodeError([sjis.subarray(0, cut), sjis.subarray(cut)]);
      expect({ line: e.line, column: e.column, offset: e.byteOffset }, `cut at ${cut}`).toEqual({
        line: 4,
        column: 15,
        offset: sjis.indexOf(0x8e),
      });
    }
  });

  it("counts lines after multi-byte text and in a later chunk", () => {
    const good = enc("名前\n山田\r\n".repeat(1000));
    const e = decodeError([good, bytes("ok,", [0xff])]);
    expect(e).toMatchObject({ line: 2001, column: 4, byteOffset: good.length + 3 });
  });

  it("reports a file that ends inside a sequence", () => {
    const e = decodeError([bytes("a\nb", [0xe5, 0xb1])]);
    expect(e).toMatchObject({ line: 2, column: 2, truncated: true, byteOffset: 3 });
  });

  it("rejects overlongs, surrogates and code points above U+10FFFF (RFC 3629)", () => {
    for (const bad of [[0xc0, 0x80], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80]]) {
      expect(firstInvalidUtf8(Uint8Array.from([0x61, ...bad]))).toEqual({ index: 1, truncated: false });
      expect(() => decodeAll([Uint8Array.from([0x61, ...bad])])).toThrow(Utf8DecodeError);
    }
    expect(firstInvalidUtf8(enc("aé山🎌"))).toEqual({ index: enc("aé山🎌").length, truncated: false });
    expect(firstInvalidUtf8(Uint8Array.from([0x61, 0xf0, 0x9f]))).toEqual({ index: 1, truncated: true });
  });

  it("decodes an async byte stream", async () => {
    async function* src() {
      yield enc("a,b\n");
      yield Uint8Array.of(0xe5, 0xb1);
      yield Uint8Array.of(0xb1, 0x0a);
    }
    let out = "";
    for await (const t of decodeUtf8(src())) out += t;
    expect(out).toBe("a,b\n山\n");
  });
});

describe("CsvParser: round trip", () => {
  it("reads back what an RFC 4180 writer wrote, in random chunks", () => {
    // Deterministic PRNG (mulberry32) so a failure is reproducible.
    let seed = 42;
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const alphabet = ['a', 'Z', ' ', ',', '"', '\n', '\r', '\r\n', 'é', '山', '🎌', '@'];
    const field = () => Array.from({ length: Math.floor(rand() * 6) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
    const quote = (f: string) => (/[",\r\n]/.test(f) || f === "" || rand() < 0.2 ? `"${f.replace(/"/g, '""')}"` : f);
    for (let round = 0; round < 200; round++) {
      const records = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => Array.from({ length: 1 + Math.floor(rand() * 4) }, field));
      const eol = rand() < 0.5 ? "\n" : "\r\n";
      const text = records.map((r) => r.map(quote).join(",")).join(eol) + (rand() < 0.5 ? eol : "");
      const chunks: string[] = [];
      for (let i = 0; i < text.length; ) {
        const n = 1 + Math.floor(rand() * 8);
        chunks.push(text.slice(i, i + n));
        i += n;
      }
      const { rows, errors } = parseChunks(chunks);
      expect(errors, text).toEqual([]);
      expect(rows.map((r) => r.fields), JSON.stringify(text)).toEqual(records);
    }
  });
});
