import { verifyDkim } from "./helpers/dkim-verify.ts";
import { createHash, createHmac, createPublicKey, generateKeyPairSync, verify as rsaVerify, type KeyObject } from "node:crypto";
import { simpleParser, type AddressObject, type ParsedMail } from "mailparser";
import DKIM from "nodemailer/lib/dkim";
import { describe, expect, it } from "vitest";
import { decodeQuotedPrintable } from "../src/detect/mime.ts";
import { assertBoundaryAbsent, boundaryFor } from "../src/compose/boundary.ts";
import { createDkimSigner, relaxedBody, signDkim } from "../src/compose/dkim.ts";
import { encodeWords } from "../src/compose/encoded-word.ts";
import { messageIdFor, unsubscribeToken, verifyUnsubscribeToken } from "../src/compose/ids.ts";
import { composeMessage, type MessageInput } from "../src/compose/message.ts";
import { encodeQuotedPrintable } from "../src/compose/qp.ts";
import { FindingsError, InternalError } from "../src/errors.ts";

// Reserved names only (RFC 2606, RFC 6761).
const RECIPIENT = "taro.yamada@customer.example";

function input(over: Partial<MessageInput> = {}): MessageInput {
  return {
    from: { name: "Example Corp News", address: "news@corp.example" },
    replyTo: "support@corp.example",
    to: { name: "Taro Yamada", address: RECIPIENT },
    subject: "Winter update",
    text: "Hello Taro,\n\nOur winter update.\n",
    html: "<!DOCTYPE html>\n<html><body><p>Hello Taro,</p>\n<p>Our winter update.</p>\n</body></html>\n",
    messageId: "0123456789abcdef0123456789abcdef.2026-01-15-winter@corp.example",
    date: new Date(Date.UTC(2026, 0, 15, 9, 30, 5)),
    listId: "product-news.corp.example",
    unsubscribe: {
      url: "https://corp.example/unsubscribe?u=0123456789abcdef.fedcba9876543210",
      mailto: "unsubscribe@corp.example?subject=unsubscribe%200123456789abcdef",
    },
    headers: [["X-Newsletter-Id", "2026-01-15-winter"]],
    boundarySeed: "d1g3st",
    ...over,
  };
}

/** Any line break as CRLF: what a text part canonically holds (RFC 2046 §4.1.1). */
const crlf = (s: string): string => s.replace(/\r\n|\r|\n/g, "\r\n");
/** mailparser hands text back with LF line breaks. */
const lf = (s: string): string => s.replace(/\r\n|\r|\n/g, "\n");

interface Split {
  headerLines: string[];
  headerText: string;
  boundary: string;
  /** The encoded text/plain and text/html part bodies, exactly as on the wire. */
  textQp: string;
  htmlQp: string;
  partHeaders: string[];
  bodyLines: string[];
}

/** Takes a composed message apart by hand, independently of mailparser. */
function split(raw: Buffer): Split {
  const s = raw.toString("latin1");
  const end = s.indexOf("\r\n\r\n");
  expect(end).toBeGreaterThan(0);
  const headerText = s.slice(0, end + 2);
  const m = /boundary="([^"]+)"/.exec(headerText);
  expect(m).not.toBeNull();
  const boundary = m![1]!;
  const body = s.slice(end + 4);
  const parts = body.split(`--${boundary}`);
  // "", part 1, part 2, "--\r\n"
  expect(parts).toHaveLength(4);
  expect(parts[0]).toBe("");
  expect(parts[3]).toBe("--\r\n");
  const part = (p: string): { head: string; qp: string } => {
    expect(p.startsWith("\r\n")).toBe(true);
    expect(p.endsWith("\r\n")).toBe(true);
    const inner = p.slice(2, -2);
    const sep = inner.indexOf("\r\n\r\n");
    return { head: inner.slice(0, sep + 2), qp: inner.slice(sep + 4) };
  };
  const t = part(parts[1]!);
  const h = part(parts[2]!);
  return {
    headerLines: headerText.slice(0, -2).split("\r\n"),
    headerText,
    boundary,
    textQp: t.qp,
    htmlQp: h.qp,
    partHeaders: [t.head, h.head],
    bodyLines: [...t.qp.split("\r\n"), ...h.qp.split("\r\n")],
  };
}

/** Wire-format rules every composed message must keep (problems collected, one assertion: fast enough for thousands). */
function expectWellFormed(raw: Buffer, opts: { headerMax?: number } = {}): Split {
  const problems: string[] = [];
  // 7-bit, CRLF everywhere: no bare CR or LF, no NUL, no 8-bit octet.
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0x0d && raw[i + 1] !== 0x0a) problems.push(`bare CR at ${i}`);
    if (b === 0x0a && raw[i - 1] !== 0x0d) problems.push(`bare LF at ${i}`);
    if (b === 0 || b >= 0x80) problems.push(`octet ${b} at ${i}`);
  }
  const sp = split(raw);
  const max = opts.headerMax ?? 78;
  for (const line of sp.headerLines) {
    if (line.length > max) problems.push(`header line over ${max}: ${line}`);
    if (/^[ \t]*$/.test(line)) problems.push("whitespace-only header line");
  }
  for (const line of sp.bodyLines) {
    if (line.length > 76) problems.push(`body line over 76: ${line}`);
    if (line.startsWith(".")) problems.push(`body line starts with ".": ${line}`);
    if (line.startsWith("From ")) problems.push(`body line starts with "From ": ${line}`);
    if (/[ \t]$/.test(line)) problems.push(`trailing whitespace: ${line}`);
    // "=" only as =XX or as the final soft break.
    if (line.replace(/=[0-9A-F]{2}/g, "").replace(/=$/, "").includes("=")) problems.push(`stray "=": ${line}`);
    if (line.includes(sp.boundary)) problems.push("boundary in a body");
  }
  // Encoded-words: ≤ 75 characters, each one whole UTF-8 characters (RFC 2047 §2, §5).
  for (const w of sp.headerText.match(/=\?[^?]+\?[BQ]\?[^?]*\?=/g) ?? []) {
    if (w.length > 75) problems.push(`encoded-word over 75: ${w}`);
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(decodeWord(w));
    } catch {
      problems.push(`encoded-word splits a character: ${w}`);
    }
  }
  expect(problems).toEqual([]);
  return sp;
}

function decodeWord(word: string): Buffer {
  const m = /^=\?utf-8\?([BQ])\?([^?]*)\?=$/.exec(word);
  if (m === null) throw new Error(`not an encoded-word: ${word}`);
  if (m[1] === "B") return Buffer.from(m[2]!, "base64");
  return Buffer.from(
    m[2]!.replace(/_/g, " ").replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16))),
    "latin1",
  );
}

/** The guard's own quoted-printable decoder (src/detect/mime.ts): what it scans is what we wrote. */
function expectBodiesExact(sp: Split, m: MessageInput): void {
  expect(decodeQuotedPrintable(sp.textQp).equals(Buffer.from(crlf(m.text), "utf8"))).toBe(true);
  expect(decodeQuotedPrintable(sp.htmlQp).equals(Buffer.from(crlf(m.html), "utf8"))).toBe(true);
}

function addresses(a: AddressObject | AddressObject[] | undefined): Array<{ name: string; address?: string }> {
  if (a === undefined) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((o) => o.value.map((v) => ({ name: v.name, address: v.address })));
}

/** mailparser reports an empty text part as "\n", like one holding just a line break: compare in its terms. */
function mailparserText(p: ParsedMail): string {
  return p.text ?? "";
}
function expectedText(text: string): string {
  return text === "" ? "\n" : lf(text);
}

async function parse(raw: Buffer): Promise<ParsedMail> {
  return simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true, skipImageLinks: true });
}

function headerNames(sp: Split): string[] {
  return sp.headerLines.filter((l) => !/^[ \t]/.test(l)).map((l) => l.slice(0, l.indexOf(":")));
}

describe("composeMessage: structure", () => {
  it("writes the fixed header set, one recipient, text then HTML", async () => {
    const m = input();
    const raw = composeMessage(m);
    const sp = expectWellFormed(raw);
    expect(headerNames(sp)).toEqual([
      "Date",
      "From",
      "Reply-To",
      "To",
      "Subject",
      "Message-ID",
      "List-Id",
      "List-Unsubscribe",
      "List-Unsubscribe-Post",
      "X-Newsletter-Id",
      "MIME-Version",
      "Content-Type",
    ]);
    expect(sp.headerText).toContain("Date: Thu, 15 Jan 2026 09:30:05 +0000\r\n");
    expect(sp.headerText).toContain("From: Example Corp News <news@corp.example>\r\n");
    expect(sp.headerText).toContain("To: Taro Yamada <taro.yamada@customer.example>\r\n");
    expect(sp.headerText).toContain("MIME-Version: 1.0\r\n");
    expect(sp.headerText).toContain(`Content-Type: multipart/alternative;\r\n boundary="${sp.boundary}"\r\n`);
    expect(sp.partHeaders).toEqual([
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
      "Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
    ]);
    expectBodiesExact(sp, m);

    const p = await parse(raw);
    expect(addresses(p.to)).toEqual([{ name: "Taro Yamada", address: RECIPIENT }]);
    expect(p.cc).toBeUndefined();
    expect(p.bcc).toBeUndefined();
    expect(p.headers.has("cc")).toBe(false);
    expect(p.headers.has("bcc")).toBe(false);
    expect(addresses(p.from)).toEqual([{ name: "Example Corp News", address: "news@corp.example" }]);
    expect(addresses(p.replyTo)).toEqual([{ name: "", address: "support@corp.example" }]);
    expect(p.subject).toBe("Winter update");
    expect(p.date?.toISOString()).toBe("2026-01-15T09:30:05.000Z");
    expect(p.text).toBe(lf(m.text));
    expect(p.html).toBe(lf(m.html));
    expect(p.attachments).toHaveLength(0);
  });

  it("writes Message-ID, List-Id, List-Unsubscribe and List-Unsubscribe-Post exactly (RFC 2919, 2369, 8058)", async () => {
    const raw = composeMessage(input({ listName: "Product News" }));
    const sp = expectWellFormed(raw);
    expect(sp.headerText).toContain("Message-ID: <0123456789abcdef0123456789abcdef.2026-01-15-winter@corp.example>\r\n");
    expect(sp.headerText).toContain("List-Id: Product News <product-news.corp.example>\r\n");
    // The first URL does not fit after the name: folded right after the colon (FWS is allowed there, RFC 5322 §3.2.2).
    expect(sp.headerText).toContain(
      "List-Unsubscribe:\r\n <https://corp.example/unsubscribe?u=0123456789abcdef.fedcba9876543210>,\r\n" +
        " <mailto:unsubscribe@corp.example?subject=unsubscribe%200123456789abcdef>\r\n",
    );
    expect(sp.headerText).toContain("List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n");
    const p = await parse(raw);
    expect(p.messageId).toBe("<0123456789abcdef0123456789abcdef.2026-01-15-winter@corp.example>");
    const list = p.headers.get("list") as Record<string, Record<string, string>>;
    expect(list["id"]).toEqual({ name: "Product News", id: "product-news.corp.example" });
    expect(list["unsubscribe"]).toEqual({
      url: "https://corp.example/unsubscribe?u=0123456789abcdef.fedcba9876543210",
      mail: "unsubscribe@corp.example?subject=unsubscribe%200123456789abcdef",
    });
    expect(list["unsubscribe-post"]).toEqual({ name: "List-Unsubscribe=One-Click" });
  });

  it("omits List-Unsubscribe-Post without an https URL, and optional headers when not given", () => {
    const mailtoOnly = composeMessage(input({ unsubscribe: { mailto: "unsubscribe@corp.example" } })).toString("latin1");
    expect(mailtoOnly).toContain("List-Unsubscribe: <mailto:unsubscribe@corp.example>\r\n");
    expect(mailtoOnly).not.toContain("List-Unsubscribe-Post");

    const bare = input({ to: { address: RECIPIENT } });
    delete bare.replyTo;
    delete bare.listId;
    delete bare.unsubscribe;
    delete bare.headers;
    const sp = expectWellFormed(composeMessage(bare));
    expect(headerNames(sp)).toEqual(["Date", "From", "To", "Subject", "Message-ID", "MIME-Version", "Content-Type"]);
    expect(sp.headerText).toContain(`To: ${RECIPIENT}\r\n`);
  });

  it("refuses a non-https one-click URL and a comma in List-Unsubscribe URLs", () => {
    expect(() => composeMessage(input({ unsubscribe: { url: "http://corp.example/u?x=1" } }))).toThrow(FindingsError);
    expect(() => composeMessage(input({ unsubscribe: { url: "https://corp.example/u?x=1,2" } }))).toThrow(FindingsError);
    expect(() =>
      composeMessage(input({ unsubscribe: { mailto: "unsubscribe@corp.example,other@customer.example" } })),
    ).toThrow(FindingsError);
  });
});

describe("the boundary check both composers run", () => {
  it("refuses a boundary inside an encoded part and accepts one outside every part", () => {
    const b = boundaryFor("seed");
    const buf = Buffer.from(`head\r\n--${b}\r\nbody one\r\n--${b}\r\nbody ${b} two\r\n--${b}--\r\n`, "latin1");
    const one = buf.indexOf("body one");
    const two = buf.indexOf("body ", one + 1);
    const end = buf.indexOf("\r\n", two);
    expect(() => assertBoundaryAbsent(buf, b, [[one, one + 8]])).not.toThrow();
    expect(() => assertBoundaryAbsent(buf, b, [[one, one + 8], [two, end]])).toThrow(InternalError);
  });
});

describe("composeMessage: headers", () => {
  it("round-trips a Japanese subject and display names as RFC 2047 encoded-words", async () => {
    const subject = "【重要】新製品のお知らせ：2026年春の特別キャンペーンについて詳しくご案内します。ぜひご覧ください🎉";
    const raw = composeMessage(
      input({ subject, from: { name: "株式会社エグザンプル ニュース", address: "news@corp.example" }, to: { name: "山田 太郎", address: RECIPIENT } }),
    );
    const sp = expectWellFormed(raw);
    expect(sp.headerText).toMatch(/^Subject: =\?utf-8\?B\?/m);
    const p = await parse(raw);
    expect(p.subject).toBe(subject);
    expect(addresses(p.from)).toEqual([{ name: "株式会社エグザンプル ニュース", address: "news@corp.example" }]);
    expect(addresses(p.to)).toEqual([{ name: "山田 太郎", address: RECIPIENT }]);
  });

  it("folds long ASCII subjects at spaces and encodes a word too long to fold", async () => {
    const words = Array.from({ length: 40 }, (_, i) => `word${i}`).join(" ");
    const long = `A long subject line that goes on: ${words}`;
    const unbreakable = `Tracking-${"x".repeat(150)} end`;
    for (const subject of [long, unbreakable, "Price =?utf-8?Q?x?= looks encoded", "  padded  ", "tab\there"]) {
      const raw = composeMessage(input({ subject }));
      expectWellFormed(raw);
      expect((await parse(raw)).subject).toBe(subject);
    }
    const folded = composeMessage(input({ subject: long })).toString("latin1");
    expect(folded).toContain("Subject: A long subject line that goes on: word0");
    expect(folded).not.toContain("=?utf-8?"); // plain ASCII that folds stays readable
  });

  it("quotes display names with specials and encodes those that cannot be quoted", async () => {
    const cases: Array<[string, string]> = [
      ['Example, Inc. "News"', '"Example, Inc. \\"News\\"" <news@corp.example>'],
      ["O'Brien & Sons", "O'Brien & Sons <news@corp.example>"],
      ["back\\slash", '"back\\\\slash" <news@corp.example>'],
    ];
    for (const [name, wire] of cases) {
      const raw = composeMessage(input({ from: { name, address: "news@corp.example" } }));
      expect(raw.toString("latin1")).toContain(`From: ${wire}\r\n`);
      expect(addresses((await parse(raw)).from)).toEqual([{ name, address: "news@corp.example" }]);
    }
    const encoded = ["Zoë", "=?utf-8?Q?x?=", "a\tb", "N".repeat(90)];
    for (const name of encoded) {
      const raw = composeMessage(input({ from: { name, address: "news@corp.example" } }));
      expectWellFormed(raw);
      expect(raw.toString("latin1")).toMatch(/^From: =\?utf-8\?[BQ]\?/m);
      expect(addresses((await parse(raw)).from)).toEqual([{ name, address: "news@corp.example" }]);
    }
  });

  it("formats the Date in UTC with two-digit days and encodes a non-ASCII list name", async () => {
    const raw = composeMessage(input({ date: new Date("2026-03-01T23:59:59-05:00"), listName: "製品ニュース" }));
    const sp = expectWellFormed(raw);
    expect(sp.headerText).toContain("Date: Mon, 02 Mar 2026 04:59:59 +0000\r\n");
    expect(sp.headerText).toMatch(/^List-Id: =\?utf-8\?B\?[^ ]+\?= <product-news\.corp\.example>\r$/m);
    const list = (await parse(raw)).headers.get("list") as Record<string, Record<string, string>>;
    // mailparser leaves a List-Id phrase encoded: decode it by hand.
    expect(list["id"]?.["id"]).toBe("product-news.corp.example");
    expect(decodeWord(list["id"]?.["name"] ?? "").toString("utf8")).toBe("製品ニュース");
  });

  it("encodes non-ASCII extra header values", async () => {
    const raw = composeMessage(input({ headers: [["X-Campaign", "冬のお知らせ"], ["Precedence", "bulk"]] }));
    expectWellFormed(raw);
    // mailparser decodes only the fields it knows: decode the encoded-words by hand.
    const p = await parse(raw);
    const words = String(p.headers.get("x-campaign")).split(/\s+/);
    expect(Buffer.concat(words.map(decodeWord)).toString("utf8")).toBe("冬のお知らせ");
    expect(p.headers.get("precedence")).toBe("bulk");
  });

  it("keeps every encoded-word within 75 characters and whole characters", () => {
    for (const value of ["あ".repeat(200), "é".repeat(200), "👩‍👩‍👧".repeat(30), `a${"ü".repeat(100)}`, "e\u0301".repeat(80)]) {
      const words = encodeWords(value, 60);
      expect(words[0]!.length).toBeLessThanOrEqual(60);
      for (const w of words) {
        expect(w.length).toBeLessThanOrEqual(75);
        expect(() => new TextDecoder("utf-8", { fatal: true }).decode(decodeWord(w))).not.toThrow();
      }
      expect(Buffer.concat(words.map(decodeWord)).toString("utf8")).toBe(value);
    }
  });
});

describe("composeMessage: header injection and one recipient per message", () => {
  const cases: Array<[string, Partial<MessageInput>]> = [
    ["CRLF in subject", { subject: "Hi\r\nBcc: other@customer.example" }],
    ["LF in subject", { subject: "Hi\nBcc: other@customer.example" }],
    ["CR in subject", { subject: "Hi\rthere" }],
    ["NUL in subject", { subject: "Hi\0" }],
    ["CRLF in an extra header value", { headers: [["X-Newsletter-Id", "x\r\nCc: other@customer.example"]] }],
    ["LF in an extra header value", { headers: [["X-Newsletter-Id", "x\nCc: other@customer.example"]] }],
    ["colon in an extra header name", { headers: [["X-Bad:Name", "x"]] }],
    ["space in an extra header name", { headers: [["X Bad", "x"]] }],
    ["CRLF in an extra header name", { headers: [["X-A\r\nBcc", "x"]] }],
    ["extra Cc", { headers: [["Cc", "other@customer.example"]] }],
    ["extra bcc", { headers: [["bcc", "other@customer.example"]] }],
    ["extra To", { headers: [["TO", "other@customer.example"]] }],
    ["extra Resent-To", { headers: [["Resent-To", "other@customer.example"]] }],
    ["extra Content-Type", { headers: [["Content-Type", "text/plain"]] }],
    ["second recipient in the address", { to: { address: `${RECIPIENT}, other@customer.example` } }],
    ["CRLF in the address", { to: { address: `${RECIPIENT}\r\nBcc: other@customer.example` } }],
    ["angle bracket in the address", { to: { address: `${RECIPIENT}>, <other@customer.example` } }],
    ["CRLF in the display name", { to: { name: "Taro\r\nBcc: other@customer.example", address: RECIPIENT } }],
    ["CRLF in the Message-ID", { messageId: "a@corp.example>\r\nBcc: other@customer.example" }],
    ["brackets in the Message-ID", { messageId: "<a@corp.example>" }],
    ["Reply-To with a second address", { replyTo: "support@corp.example, other@customer.example" }],
    ["CRLF in List-Id", { listId: "news.corp.example>\r\nBcc: x" }],
    ["CRLF in the unsubscribe URL", { unsubscribe: { url: "https://corp.example/u\r\nBcc: other@customer.example" } }],
    ["invalid date", { date: new Date(Number.NaN) }],
  ];
  for (const [what, over] of cases) {
    it(`throws on ${what}, without the address in the message`, () => {
      let error: unknown;
      try {
        composeMessage(input(over));
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(FindingsError);
      const message = (error as Error).message;
      expect(message).not.toContain("other@customer.example");
      expect(message).not.toContain(RECIPIENT);
    });
  }
});

describe("composeMessage: quoted-printable bodies", () => {
  const bodies: Array<[string, string]> = [
    ["long ASCII line", `${"0123456789".repeat(30)}\n`],
    ["exactly 76 characters", `${"a".repeat(76)}\n${"b".repeat(75)}\n${"c".repeat(77)}`],
    ["trailing spaces and tabs", "trailing space \ntrailing tab\t\nboth \t \nend with space "],
    ["= signs", `a=b\n==\n=\n${"=".repeat(60)}\nx=3D`],
    ["non-ASCII at every soft-break position", Array.from({ length: 16 }, (_, i) => `${"x".repeat(60 + i)}あé😀x`).join("\n")],
    ["only Japanese", "日本語のテキスト。".repeat(30)],
    ["a line that is exactly a dot", "before\n.\nafter\n..\n.dot start\n"],
    ["From at line start", "From here\nFrom\nFromage\n From x\n"],
    ["CRLF, lone CR and lone LF", "a\r\nb\rc\nd\r\n\r\n\n\re"],
    ["empty", ""],
    ["only a newline", "\n"],
    ["control characters", "nul\0 del\x7f esc\x1b bell\x07"],
    ["emoji, ZWJ sequences, flags, combining marks", "👩‍👩‍👧 🇯🇵 👍🏽 e\u0301 क्षि ﷽ \u200b\ufeff"],
    ["a dot pushed to a line start by a soft break", `${"x".repeat(75)}.y\n${"x".repeat(75)}From z`],
  ];
  for (const [what, body] of bodies) {
    it(`round-trips ${what} byte-exact in both parts`, async () => {
      const m = input({ text: body, html: `<p>${body}</p>` });
      const raw = composeMessage(m);
      const sp = expectWellFormed(raw);
      expectBodiesExact(sp, m);
      const p = await parse(raw);
      expect(mailparserText(p)).toBe(expectedText(m.text));
      expect(p.html).toBe(lf(m.html));
    });
  }

  it("never splits a UTF-8 sequence's triplets across a soft break", () => {
    for (let pad = 0; pad < 80; pad++) {
      const qp = encodeQuotedPrintable(Buffer.from(`${"x".repeat(pad)}😀あé😀`, "utf8")).toString("latin1");
      for (const line of qp.split("\r\n")) {
        const bytes = decodeQuotedPrintable(line.replace(/=$/, ""));
        expect(() => new TextDecoder("utf-8", { fatal: true }).decode(bytes), line).not.toThrow();
      }
    }
  });

  it("is line-local: a text encodes as its lines encoded one by one (what a compose-once fast path relies on)", () => {
    const r = rng(7);
    for (let n = 0; n < 300; n++) {
      const text = generate(r, 2000, true);
      const whole = encodeQuotedPrintable(Buffer.from(text, "utf8")).toString("latin1");
      const lines = text.split(/\r\n|\r|\n/).map((l) => encodeQuotedPrintable(Buffer.from(l, "utf8")).toString("latin1"));
      expect(whole).toBe(lines.join("\r\n"));
    }
  });

  it("uses the whole 76 characters: 75 and a soft break", () => {
    const qp = encodeQuotedPrintable(Buffer.from("a".repeat(200))).toString("latin1");
    expect(qp.split("\r\n").map((l) => l.length)).toEqual([76, 76, 50]);
  });
});

describe("composeMessage: determinism", () => {
  it("gives the same bytes for the same input, a boundary from the seed only", () => {
    const a = composeMessage(input());
    const b = composeMessage(input());
    expect(a.equals(b)).toBe(true);
    const other = composeMessage(input({ boundarySeed: "another digest" }));
    expect(split(other).boundary).not.toBe(split(a).boundary);
    expect(split(other).boundary).toBe(boundaryFor("another digest"));
    const otherRecipient = composeMessage(input({ to: { address: "hanako@customer.example" } }));
    expect(split(otherRecipient).boundary).toBe(split(a).boundary);
    expect(split(a).boundary).toMatch(/^=_nl_[0-9a-f]{40}$/);
  });

  it("does not depend on the clock or on earlier calls", () => {
    const first = composeMessage(input());
    composeMessage(input({ text: "x".repeat(200_000), html: "あ".repeat(100_000), boundarySeed: "x" }));
    expect(composeMessage(input()).equals(first)).toBe(true);
  });
});

// ---------------------------------------------------------------------------
// Property-style: generated inputs through mailparser and the guard's decoder.

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  "=", ".", " ", "\t", "  ", "From ", "=?", "?=", "_", "\\", '"', ",", "<", ">", "@", ":", ";",
  "👩‍👩‍👧", "🇯🇵", "👍🏽", "e\u0301", "\u0308", "क्षि", "\u00a0", "\u200b", "\ufeff", "ß", "Ω", "€",
];
const BREAKS = ["\n", "\r\n", "\r", "\n\n", " \n", "\t\r\n"];

function generate(r: () => number, maxLen: number, breaks: boolean): string {
  const len = Math.floor(r() * r() * maxLen);
  let s = "";
  while (s.length < len) {
    const k = r();
    if (k < 0.35) s += String.fromCharCode(0x21 + Math.floor(r() * 94));
    else if (k < 0.45) s += " ";
    else if (k < 0.55) s += String.fromCodePoint(0x3041 + Math.floor(r() * 0x56));
    else if (k < 0.62) s += String.fromCodePoint(0x4e00 + Math.floor(r() * 0x5200));
    else if (k < 0.67) s += String.fromCodePoint(0x1f300 + Math.floor(r() * 0x300));
    else if (k < 0.72) s += String.fromCodePoint(0x300 + Math.floor(r() * 0x70));
    else if (k < 0.75) s += String.fromCodePoint(0xa0 + Math.floor(r() * 0x2000));
    else if (k < 0.88) s += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!;
    else if (k < 0.9) s += String.fromCharCode(0x21 + Math.floor(r() * 94)).repeat(Math.floor(r() * 120));
    else if (breaks && k < 0.99) s += BREAKS[Math.floor(r() * BREAKS.length)]!;
    else s += String.fromCharCode(Math.floor(r() * 0x20)).replace(/[\r\n\0]/, "");
  }
  if (!breaks) s = s.replace(/[\r\n\0]/g, " ");
  return s;
}

describe("composeMessage: generated inputs", () => {
  it("round-trips 3,000 generated messages through mailparser and the guard's decoder", { timeout: 240_000 }, async () => {
    const r = rng(20260115);
    for (let n = 0; n < 3000; n++) {
      const m = input({
        subject: generate(r, 160, false),
        from: { name: generate(r, 60, false), address: "news@corp.example" },
        to: { name: generate(r, 40, false), address: `user${n}@customer.example` },
        text: generate(r, 3000, true),
        html: generate(r, 3000, true),
        boundarySeed: `seed-${n % 7}`,
      });
      const raw = composeMessage(m);
      const sp = expectWellFormed(raw);
      expectBodiesExact(sp, m);
      const p = await parse(raw);
      const ctx = `case ${n}: ${JSON.stringify(m.subject)}`;
      expect(p.subject ?? "", ctx).toBe(m.subject);
      expect(addresses(p.to), ctx).toEqual([{ name: m.to.name, address: m.to.address }]);
      expect(addresses(p.from), ctx).toEqual([{ name: m.from.name, address: "news@corp.example" }]);
      expect(p.cc).toBeUndefined();
      expect(p.bcc).toBeUndefined();
      expect(mailparserText(p), ctx).toBe(expectedText(m.text));
      expect(p.html || "", ctx).toBe(lf(m.html));
    }
  });
});

// ---------------------------------------------------------------------------
// DKIM, verified by an independent reading of RFC 6376 with node:crypto.

describe("DKIM (RFC 6376)", () => {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  const pub = createPublicKey(publicKey.export({ type: "spki", format: "pem" }));
  const opts = { privateKey: pem, selector: "news2026", domain: "corp.example" };

  it("signs relaxed/relaxed rsa-sha256 over the listed headers, verifiable with node:crypto", async () => {
    const raw = composeMessage(input({ subject: "冬のお知らせ 🎉", text: "a  b \t\n\n\n", listName: "Product News" }));
    const signed = signDkim(raw, opts);
    expect(signed.subarray(signed.length - raw.length).equals(raw)).toBe(true);
    const head = signed.toString("latin1", 0, signed.length - raw.length);
    expect(head.replace(/\r\n /g, " ")).toMatch(
      /^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=corp\.example; s=news2026; h=from: from: reply-to: to: to: /,
    );
    for (const line of head.slice(0, -2).split("\r\n")) expect(line.length).toBeLessThanOrEqual(78);
    expect(head).not.toMatch(/\bt=/);

    const v = verifyDkim(signed, pub);
    expect(v).toEqual({
      bodyOk: true,
      signatureOk: true,
      // Over-signed (each listed once more than it occurs): From, To, Subject, Date, Message-ID, List-*.
      h: [
        "from",
        "from",
        "reply-to",
        "to",
        "to",
        "subject",
        "subject",
        "date",
        "date",
        "message-id",
        "message-id",
        "list-id",
        "list-id",
        "list-unsubscribe",
        "list-unsubscribe",
        "list-unsubscribe-post",
        "list-unsubscribe-post",
        "mime-version",
        "content-type",
      ],
    });
    // Deterministic: RSASSA-PKCS1-v1_5 and no timestamp.
    expect(createDkimSigner(opts)(raw).equals(signed)).toBe(true);
    // Still a message mailparser reads the same.
    expect((await parse(signed)).subject).toBe("冬のお知らせ 🎉");
  });

  it("agrees with nodemailer's signer on the body hash, and the verifier accepts nodemailer's signature", async () => {
    const raw = composeMessage(input({ text: "x \t y  \n\n \n", html: "<p>\t</p>\n\n" }));
    const signer = new DKIM({
      domainName: "corp.example",
      keySelector: "news2026",
      privateKey: pem,
      headerFieldNames:
        "from:reply-to:to:subject:date:message-id:list-id:list-unsubscribe:list-unsubscribe-post:mime-version:content-type",
    });
    const chunks: Buffer[] = [];
    for await (const c of signer.sign(raw)) chunks.push(Buffer.from(c as Uint8Array));
    const theirs = Buffer.concat(chunks);
    const bhOf = (b: Buffer): string => /bh=([^;]+);/.exec(b.toString("latin1"))![1]!.replace(/\s+/g, "");
    const ours = signDkim(raw, opts);
    expect(bhOf(ours)).toBe(bhOf(theirs));
    expect(verifyDkim(theirs, pub)).toMatchObject({ bodyOk: true, signatureOk: true });
    expect(verifyDkim(ours, pub)).toMatchObject({ bodyOk: true, signatureOk: true });
  });

  it("fails verification when a signed header or the body changes", () => {
    const signed = signDkim(composeMessage(input()), opts).toString("latin1");
    const otherTo = Buffer.from(signed.replace(`To: Taro Yamada <${RECIPIENT}>`, "To: Taro Yamada <hanako@customer.example>"), "latin1");
    expect(verifyDkim(otherTo, pub).signatureOk).toBe(false);
    const otherBody = Buffer.from(signed.replace("Our winter update.", "Our summer update."), "latin1");
    expect(verifyDkim(otherBody, pub).bodyOk).toBe(false);
  });

  it.each([
    ["From", "From: Support <support@attacker.example>"],
    ["To", "To: someone@attacker.example"],
    ["Subject", "Subject: Urgent: confirm your password"],
    ["Date", "Date: Mon, 1 Jan 2024 00:00:00 +0000"],
    ["Message-ID", "Message-ID: <forged@attacker.example>"],
    ["List-Unsubscribe", "List-Unsubscribe: <https://attacker.example/u>"],
    ["List-Id", "List-Id: <other.attacker.example>"],
  ])("over-signs %s: a second one prepended by a relay or an attacker fails verification (RFC 6376 §8.15)", (_name, extra) => {
    const signed = signDkim(composeMessage(input()), opts);
    expect(verifyDkim(signed, pub)).toMatchObject({ bodyOk: true, signatureOk: true });
    // Prepended after the signature, where a reader that shows the first instance would show it.
    const s = signed.toString("latin1");
    const afterSig = s.search(/\r\n(?![ \t])/) + 2;
    const tampered = Buffer.from(`${s.slice(0, afterSig)}${extra}\r\n${s.slice(afterSig)}`, "latin1");
    expect(verifyDkim(tampered, pub).signatureOk).toBe(false);
  });

  it("canonicalises bodies as RFC 6376 §3.4.4 says", () => {
    const c = (s: string): string => relaxedBody(Buffer.from(s, "latin1")).toString("latin1");
    expect(c("")).toBe("");
    expect(c("\r\n\r\n")).toBe("");
    expect(c("a  b \t\r\n\r\n")).toBe("a b\r\n");
    expect(c(" x\r\n\r\ny")).toBe(" x\r\n\r\ny\r\n");
    expect(c("\t\r\n")).toBe("");
  });

  it("refuses a bad selector or domain", () => {
    expect(() => createDkimSigner({ ...opts, selector: "a;b" })).toThrow(FindingsError);
    expect(() => createDkimSigner({ ...opts, domain: "corp example" })).toThrow(FindingsError);
  });
});

describe("ids", () => {
  const secret = "test-secret";
  const fp = "0123456789abcdef0123456789abcdef";

  it("derives a keyed, deterministic Message-ID that does not reveal the fingerprint", () => {
    const id = messageIdFor(secret, "2026-01-15-winter", fp, "corp.example");
    expect(id).toMatch(/^[0-9a-f]{32}\.2026-01-15-winter@corp\.example$/);
    expect(id).not.toContain(fp);
    expect(messageIdFor(secret, "2026-01-15-winter", fp, "corp.example")).toBe(id);
    expect(messageIdFor("other-secret", "2026-01-15-winter", fp, "corp.example")).not.toBe(id);
    expect(messageIdFor(secret, "2026-01-16-other", fp, "corp.example").slice(0, 32)).not.toBe(id.slice(0, 32));
    expect(messageIdFor(secret, "2026-01-15-winter", `${fp.slice(1)}0`, "corp.example")).not.toBe(id);
    // Usable as is.
    expect(composeMessage(input({ messageId: id })).toString("latin1")).toContain(`Message-ID: <${id}>\r\n`);
  });

  it("refuses ids that would not make a valid msg-id", () => {
    expect(() => messageIdFor(secret, "bad id", fp, "corp.example")).toThrow(FindingsError);
    expect(() => messageIdFor(secret, "2026-01-15-x", fp, "corp example")).toThrow(FindingsError);
    expect(() => messageIdFor("", "2026-01-15-x", fp, "corp.example")).toThrow(FindingsError);
    expect(() => messageIdFor(secret, "2026-01-15-x", "has.dot", "corp.example")).toThrow(FindingsError);
  });

  it("makes URL-safe unsubscribe tokens the endpoint can verify", () => {
    const token = unsubscribeToken(secret, "product-news.corp.example", fp);
    expect(token).toMatch(new RegExp(`^${fp}\\.[0-9a-f]{16}$`));
    expect(encodeURIComponent(token)).toBe(token);
    expect(unsubscribeToken(secret, "product-news.corp.example", fp)).toBe(token);
    expect(verifyUnsubscribeToken(secret, "product-news.corp.example", token)).toBe(fp);
    expect(verifyUnsubscribeToken(secret, "other.corp.example", token)).toBeNull();
    expect(verifyUnsubscribeToken("other-secret", "product-news.corp.example", token)).toBeNull();
    expect(verifyUnsubscribeToken(secret, "product-news.corp.example", `${token.slice(0, -1)}0`)).toBeNull();
    expect(verifyUnsubscribeToken(secret, "product-news.corp.example", "garbage")).toBeNull();
    // The recomputation the endpoint documents.
    const sig = createHmac("sha256", secret)
      .update(`gitops-newsletter/unsubscribe/v1\0product-news.corp.example\0${fp}`)
      .digest("hex")
      .slice(0, 16);
    expect(token).toBe(`${fp}.${sig}`);
  });
});
