/**
 * The guard's unit-wise scan of quoted-printable parts (src/guard/qp-units.ts)
 * remembers what it found per distinct unit of octets. These tests hold it
 * to the whole-part scan (decodeLeaf + Scanner.add) on generated and hostile
 * parts, and show that with every cache warm an address put into any field
 * of any recipient's row, in any spelling, still aborts the send.
 * Reserved domains only (RFC 2606, RFC 6761).
 */
import { describe, expect, it } from "vitest";
import { mask } from "../src/address/mask.ts";
import { encodeQuotedPrintable } from "../src/compose/qp.ts";
import { guardMessage } from "../src/guard/guard.ts";
import { scanQuotedPrintableLeaf } from "../src/guard/qp-units.ts";
import { Refusal } from "../src/guard/refusal.ts";
import { Scanner } from "../src/guard/scanner.ts";
import { decodeLeaf } from "../src/guard/transfer.ts";
import { parseConfig } from "../src/load/config.ts";
import { parseNewsletterMeta } from "../src/load/newsletter-meta.ts";
import { makePlan } from "../src/send/plan.ts";
import { sampleText } from "./helpers/repo.ts";
import { fastConfig, SAMPLE_DIR } from "./helpers/send-repo.ts";

type Outcome = { lines: string[]; wheres: string[] } | { refused: string };

function run(f: (s: Scanner) => void): Outcome {
  const s = new Scanner();
  try {
    f(s);
  } catch (e) {
    if (e instanceof Refusal) return { refused: `${e.reason} ${e.where} ${e.detail}` };
    throw e;
  }
  const inner = s as unknown as { lines: string[]; wheres: string[] };
  return { lines: [...inner.lines], wheres: [...inner.wheres] };
}

function whole(body: Buffer, charset: "utf-8" | "us-ascii", html: boolean): Outcome {
  return run((s) => {
    const { text, ascii } = decodeLeaf(body, "quoted-printable", charset, "body part 1");
    s.add("body/x", text, ascii, html);
  });
}

function units(body: Buffer, charset: "utf-8" | "us-ascii", html: boolean): Outcome {
  return run((s) => scanQuotedPrintableLeaf(s, "body/x", body, charset, html, "body part 1"));
}

describe("unit-wise scan of quoted-printable parts equals the whole-part scan", () => {
  it("on generated text and HTML (addresses, obfuscations, tags across lines, long lines, non-ASCII)", () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const words = [
      "hello", "hanako@shop.example", "taro [at] customers.example", "ann＠example.org", "bob%40example.net", "&#64;", "&amp;#64;",
      "<b>", "</b>", "<a href=\"mailto:x@example.com\">", "</a>", "<span\n>", "<!--", "-->", "[", "at", "]", "(at)", "様", "こんにちは",
      "=", "  ", "\t", ".", "\n", "\n", "\r\n", "x".repeat(90), "a=b", "<p", ">", "アットマーク", "\u200b",
    ];
    for (let k = 0; k < 1500; k++) {
      const n = 1 + rand(40);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(words[rand(words.length)]!);
      const text = parts.join(rand(2) === 0 ? " " : "");
      const body = encodeQuotedPrintable(Buffer.from(text, "utf8"));
      for (const html of [false, true]) {
        // Twice: the second time from the remembered units.
        expect(units(body, "utf-8", html), JSON.stringify(text)).toEqual(whole(body, "utf-8", html));
        expect(units(body, "utf-8", html), JSON.stringify(text)).toEqual(whole(body, "utf-8", html));
      }
    }
  });

  it("on hostile parts: soft breaks inside addresses and tags, padding, bare LF, encoded line breaks, bad escapes, 8-bit octets", () => {
    const cases = [
      "hanako@sh=\r\nop.example\r\nnext line\r\n",
      "hanako=40shop.example   \r\nx=\r\n  \r\n",
      "<a href=3D\"x\"\r\n>hanako</a>@shop.example\r\n",
      "[<b\r\n>at</b>]\r\nshop\r\n",
      "<span>hanako</span>\r\n@shop.example <p\r\n",
      "line one=0D=0Ahanako@shop.example=0Aline\r\n",
      "bare\nlf hanako@shop.example\nend",
      "soft at end =",
      "bad =ZZ escape\r\n",
      "bad = escape\r\n",
      "=E6=97=A5=E6=9C=AC\r\n=E3=82=A2=E3=83=83=E3=83=88=E3=83=9E=E3=83=BC=E3=82=AF\r\n",
      "=E6=97\r\n=A5\r\n", // a UTF-8 sequence cut by a hard break: invalid either way
      "=C3=28 invalid utf-8\r\n",
      "\u00e9 raw 8-bit\r\n",
      "",
      "\r\n\r\n\r\n",
      "trailing tab\t\r\nand space \r\n",
      "<p>open tag at the end <a\r\nhref=3Dx>hanako@shop.example</a></p>\r\n",
      "&#6=\r\n4; split reference\r\n",
      // Consecutive parts: the remembered "next unit" of the first must not be taken where the second goes on.
      "same start\r\nends soft=\r\n",
      "same start\r\nends soft=\r\nhanako@shop.example\r\n",
      "same start\r\nends soft=",
      "same start\r\nends soft=\r\n[at]\r\n",
      "same start\r\nno break at the end",
      "same start\r\nno break at the end hanako@shop.example\r\n",
    ];
    for (const c of cases) {
      const body = Buffer.from(c, "latin1");
      for (const html of [false, true]) {
        for (const charset of ["utf-8", "us-ascii"] as const) {
          expect(units(body, charset, html), JSON.stringify(c)).toEqual(whole(body, charset, html));
          expect(units(body, charset, html), JSON.stringify(c)).toEqual(whole(body, charset, html));
        }
      }
    }
  });
});

describe("parts guessed from the part before (as a send scans them) still equal the whole-part scan", () => {
  it("on sequences of similar parts: lines changed, added, dropped, cut short, soft-broken differently", () => {
    let seed = 11;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    const lines = [
      "Hello Taro,", "Hello hanako@shop.example,", "<p style=\"margin: 0\">Thanks, Ken, for being here.</p>", "<tr><td\nclass=\"x\">",
      "[at] shop.example", "hanako", "@shop.example", "様、いつもご利用ありがとうございます。", "x".repeat(100), `${"長".repeat(40)}`,
      "a=b ends soft=", "", "  ", "<a href=\"https://corp.example/u?t=abc\">stop</a>", "&#64;", "taro at example dot com",
    ];
    let template = Array.from({ length: 12 }, () => lines[rand(lines.length)]!);
    for (let k = 0; k < 600; k++) {
      const t = [...template];
      const op = rand(6);
      const at = rand(t.length + 1);
      if (op === 0) t[Math.min(at, t.length - 1)] = lines[rand(lines.length)]!;
      else if (op === 1) t.splice(at, 0, lines[rand(lines.length)]!);
      else if (op === 2 && t.length > 1) t.splice(Math.min(at, t.length - 1), 1);
      if (rand(4) === 0) template = t; // the template itself drifts now and then
      let bytes = encodeQuotedPrintable(Buffer.from(t.join(rand(3) === 0 ? "\n" : "\r\n") + (rand(2) ? "\r\n" : ""), "utf8"));
      // Cut short at any octet, or a soft break put at the end, now and then.
      if (rand(5) === 0) bytes = bytes.subarray(0, rand(bytes.length + 1));
      else if (rand(5) === 0) bytes = Buffer.concat([bytes, Buffer.from("=\r\n")]);
      for (const html of [false, true]) {
        expect(units(bytes, "utf-8", html), JSON.stringify(bytes.toString("latin1"))).toEqual(whole(bytes, "utf-8", html));
      }
    }
  });
});

describe("with every cache warm, an address in any field of a row still aborts", () => {
  const SECRET = "units-secret-0123456789abcdef";
  const config = parseConfig(fastConfig()).config!;
  const meta = parseNewsletterMeta(sampleText(`${SAMPLE_DIR}/newsletter.yml`), "n.yml").meta!;
  const body = sampleText(`${SAMPLE_DIR}/body.md`);
  const plan = makePlan({ id: "2026-12-01-winter-update", config, meta, body, digest: "d".repeat(64), secret: SECRET, date: new Date("2026-12-01T00:00:00Z") });
  const row = (i: number, extra: Record<string, string> = {}) => ({ email: `user${i}@customers.example`, first_name: i % 3 === 0 ? `太郎${i}` : `Name${i}`, plan: i % 2 ? "Business" : "Free", ...extra });
  const other = "hanako@shop.example";
  const spellings = [
    other,
    "hanako＠shop.example",
    "hanako [at] shop.example",
    "hanako(at)shop.example",
    "hanako%40shop.example",
    "hanako&#64;shop.example",
    "hanako@shop\u200b.example",
    `${"長".repeat(30)} ${other}`, // long: the QP encoding soft-breaks inside or near it
    `${"x".repeat(60)}${other}`,
  ];

  it("in first_name and in plan, every spelling, between clean recipients", () => {
    for (let i = 0; i < 300; i++) {
      const out = plan.messageFor(`user${i}@customers.example`, row(i));
      expect(guardMessage(out.raw, out.envelope, out.guard).ok).toBe(true);
    }
    let k = 1000;
    for (const field of ["first_name", "plan"]) {
      for (const value of spellings) {
        const address = `user${k}@customers.example`;
        const out = plan.messageFor(address, row(k++, { [field]: value }));
        const v = guardMessage(out.raw, out.envelope, out.guard);
        expect(v.ok, `${field}: ${JSON.stringify(value)}`).toBe(false);
        if (!v.ok) {
          expect(v.reason).toBe("foreign-address");
          // (the run of x's joins the local part)
          expect(v.masked).toBe(value.startsWith("xxx") ? mask(`${"x".repeat(60)}${other}`) : mask(other));
        }
        // The cache holds no verdict for a recipient: the next clean message passes.
        const clean = plan.messageFor(`user${k}@customers.example`, row(k++));
        expect(guardMessage(clean.raw, clean.envelope, clean.guard).ok).toBe(true);
      }
    }
  });

  it("the same line is judged for each recipient: one recipient's own address in another's message aborts", () => {
    const a = "user5000@customers.example";
    const out = plan.messageFor(a, row(5000, { first_name: "Ann" }));
    expect(guardMessage(out.raw, out.envelope, out.guard).ok).toBe(true);
    // Another recipient whose name field holds a's address: the line is new, so it is scanned; a is not this recipient.
    const b = plan.messageFor("user5001@customers.example", row(5001, { first_name: a }));
    const v = guardMessage(b.raw, b.envelope, b.guard);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.masked).toBe(mask(a));
  });
});
