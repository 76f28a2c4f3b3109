/**
 * Byte strings (load/csv.ts): the list check validates UTF-8 and parses the
 * bytes as one char per byte, decoding only non-ASCII fields. Whatever the
 * chunking, fields, lines, columns (UTF-16 code units) and errors must be
 * exactly those of parsing the decoded text.
 */
import { describe, expect, it } from "vitest";
import {
  CsvParser,
  decodeByteString,
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

function parse(chunks: readonly string[], byteString: boolean): { rows: Row[]; errors: CsvError[] } {
  const rows: Row[] = [];
  const errors: CsvError[] = [];
  const p = new CsvParser(
    {
      onRow: (fields, line, pos) =>
        rows.push({ fields, line, lines: pos.lines.slice(0, fields.length), columns: pos.columns.slice(0, fields.length) }),
      onError: (e) => errors.push(e),
    },
    { byteString },
  );
  for (const c of chunks) p.push(c);
  p.end();
  return { rows, errors };
}

const enc = (s: string) => new TextEncoder().encode(s);
const latin1 = (b: Uint8Array) => Buffer.from(b).toString("latin1");

/** Deterministic PRNG (mulberry32) so a failure is reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("CsvParser on byte strings", () => {
  const inputs = [
    'email,名前\r\n"a,b@example.com","山""田"\r\n\r\nｔａｒｏ＠example.com,"multi\r\n行🎌"\r\nd@example.com,\r\n',
    '\ufeffemail,note\n"é""""y",""\n"q\r\n山"\r🎌last,"\r"',
    'a,b\n"unterminated 山\r\nrow,x\n',
    '山,"b"c,d\r\ne🎌,f"g\r\n名,i\r',
    '"🎌🎌",",",\n\n\r\n"\n"\n',
    "\ufeff\ufeffemail\né\n",
  ];

  for (const [n, text] of inputs.entries()) {
    it(`gives the fields, positions and errors of the decoded text at every split (input ${n + 1})`, () => {
      const want = parse([text], false);
      const b = latin1(enc(text));
      expect(parse([b], true)).toEqual(want);
      for (let a = 0; a <= b.length; a++) {
        expect(parse([b.slice(0, a), b.slice(a)], true), `cut at ${a}`).toEqual(want);
        for (let c = a; c <= b.length; c += 3) {
          expect(parse([b.slice(0, a), b.slice(a, c), b.slice(c)], true), `cuts at ${a},${c}`).toEqual(want);
        }
      }
      expect(parse(Array.from(b), true), "one byte per chunk").toEqual(want);
    });
  }

  it("reads back random records of mixed scripts, in random chunks", () => {
    const rand = prng(7);
    const alphabet = ["a", "Z", " ", ",", '"', "\n", "\r", "\r\n", "é", "山", "🎌", "@", "ｔ", "\u00a0"];
    const field = () => Array.from({ length: Math.floor(rand() * 6) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
    const quote = (f: string) => (/[",\r\n]/.test(f) || f === "" || rand() < 0.2 ? `"${f.replace(/"/g, '""')}"` : f);
    for (let round = 0; round < 300; round++) {
      const records = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => Array.from({ length: 1 + Math.floor(rand() * 4) }, field));
      const eol = rand() < 0.5 ? "\n" : "\r\n";
      const text = records.map((r) => r.map(quote).join(",")).join(eol) + (rand() < 0.5 ? eol : "");
      const b = latin1(enc(text));
      const chunks: string[] = [];
      for (let i = 0; i < b.length; ) {
        const n = 1 + Math.floor(rand() * 8);
        chunks.push(b.slice(i, i + n));
        i += n;
      }
      expect(parse(chunks, true), JSON.stringify(text)).toEqual(parse([text], false));
    }
  });

  it("decodes byte strings of any code point", () => {
    const rand = prng(11);
    for (let round = 0; round < 2000; round++) {
      const cps = Array.from({ length: Math.floor(rand() * 80) }, () => {
        const r = rand();
        const cp = r < 0.3 ? Math.floor(rand() * 0x80) : r < 0.5 ? 0x80 + Math.floor(rand() * 0x780) : r < 0.8 ? 0x800 + Math.floor(rand() * 0xf800) : 0x10000 + Math.floor(rand() * 0x100000);
        return cp >= 0xd800 && cp <= 0xdfff ? 0x41 : cp;
      });
      const s = String.fromCodePoint(...cps);
      expect(decodeByteString(latin1(enc(s)))).toBe(s);
    }
  });
});

describe("Utf8StreamDecoder with byteString", () => {
  function run(chunks: readonly Uint8Array[], byteString: boolean, piece = Infinity): { text: string; pieces: number; error: Utf8DecodeError | null } {
    const d = new Utf8StreamDecoder({ byteString });
    let text = "";
    let pieces = 0;
    try {
      for (const c of chunks) {
        d.pushEach(c, piece, (t) => {
          expect(t.length).toBeGreaterThan(0);
          expect(t.length).toBeLessThanOrEqual(Math.max(4, piece));
          text += t;
          pieces++;
        });
      }
      d.end();
      return { text, pieces, error: null };
    } catch (e) {
      if (!(e instanceof Utf8DecodeError)) throw e;
      return { text, pieces, error: e };
    }
  }

  const bytes = (...parts: Array<string | number[]>) =>
    Uint8Array.from(parts.flatMap((p) => (typeof p === "string" ? Array.from(enc(p)) : p)));
  const bad = [
    bytes("email,name\r\nx@example.com,A\r\ny@example.com,caf", [0xe9], "\r\n"),
    bytes("\ufeffemail,名前\nx@example.com,山田\n\ny@example.com,", [0x8e, 0x52, 0x93, 0x63], "\n"),
    bytes("名前\r山田\r\n".repeat(50), "ok,🎌", [0xff]),
    bytes("a\nb🎌", [0xe5, 0xb1]),
    bytes("a\r", [0xed, 0xa0, 0x80]),
    bytes("x,", [0xf4, 0x90, 0x80, 0x80]),
  ];

  it("hands over the bytes as they are, in pieces, at every split", () => {
    const b = enc("\ufeffemail,名前\r\nｔａｒｏ＠example.com,山田 🎌\n".repeat(3));
    for (let cut = 0; cut <= b.length; cut++) {
      for (const piece of [Infinity, 5, 16]) {
        expect(run([b.subarray(0, cut), b.subarray(cut)], true, piece).text).toBe(latin1(b));
      }
    }
  });

  it("reports invalid input exactly as the decoding mode does, at every split", () => {
    const fields = (e: Utf8DecodeError | null) =>
      e && { line: e.line, column: e.column, byteOffset: e.byteOffset, bytesHex: e.bytesHex, truncated: e.truncated, message: e.message };
    for (const input of bad) {
      const whole = run([input], false).error;
      expect(whole).not.toBeNull();
      for (let cut = 0; cut <= input.length; cut++) {
        const chunks = [input.subarray(0, cut), input.subarray(cut)];
        const want = run(chunks, false).error;
        // Position and offset never depend on the split (the bytes shown are those of the chunk at hand).
        expect({ ...fields(want), bytesHex: "", message: "" }, `cut at ${cut}`).toEqual({ ...fields(whole), bytesHex: "", message: "" });
        expect(fields(run(chunks, true, 7).error), `cut at ${cut}`).toEqual(fields(want));
      }
    }
  });

  it("emits nothing of a chunk that holds an invalid byte, however late in it", () => {
    const good = enc("a,b\n".repeat(100));
    const r = run([good, bytes("c,d\n".repeat(100), [0xff])], true, 16);
    expect(r.error).not.toBeNull();
    expect(r.text).toBe(latin1(good));
  });
});
