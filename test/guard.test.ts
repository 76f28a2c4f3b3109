/**
 * The per-message guard (docs/design.md, "The per-message guard"), on messages written out by
 * hand as the octets that go to SMTP, so these tests depend on nothing but
 * RFC 5322 / RFC 2045–2047; a few go through the real composer as well.
 * Reserved domains only (RFC 2606, RFC 6761).
 */
import { afterAll, describe, expect, it } from "vitest";
import { mask } from "../src/address/mask.ts";
import { findAddresses } from "../src/detect/extract.ts";
import { decodeQuotedPrintable } from "../src/detect/mime.ts";
import { composeMessage, type MessageInput } from "../src/compose/message.ts";
import { guardMessage } from "../src/guard/guard.ts";
import type { GuardContext, GuardVerdict } from "../src/guard/port.ts";
import { mayHoldStrongAt } from "../src/guard/triggers.ts";
import { decodeQuotedPrintableStrict } from "../src/guard/transfer.ts";
import type { Envelope } from "../src/mail/port.ts";

const RCPT = "taro@customers.example";
const OTHER = "hanako@shop.example";
const MID = "0123abcd.2025-04-01-spring@sender.example";
const CTX: GuardContext = {
  recipient: RCPT,
  allowAddresses: new Set(["help@partner.example"]),
  allowDomains: ["docs.example"],
  ownAddresses: new Set(["news@sender.example", "support@sender.example", "unsubscribe@sender.example", MID]),
};
const ENV: Envelope = { from: "news@sender.example", to: RCPT };
/** Every address a test writes: none may appear in full in any verdict. */
const ALL = [RCPT, OTHER, MID, "news@sender.example", "support@sender.example", "bob@example.net", "ann@example.org"];

const verdicts: GuardVerdict[] = [];
function guard(raw: string | Buffer, env: Envelope = ENV, ctx: GuardContext = CTX): GuardVerdict {
  const v = guardMessage(typeof raw === "string" ? Buffer.from(raw, "utf8") : raw, env, ctx);
  verdicts.push(v);
  return v;
}

function expectAbort(v: GuardVerdict, reason: string, where?: string | RegExp): asserts v is Extract<GuardVerdict, { ok: false }> {
  expect(v.ok, JSON.stringify(v)).toBe(false);
  if (v.ok) return;
  expect(v.reason, JSON.stringify(v)).toBe(reason);
  if (typeof where === "string") expect(v.where).toBe(where);
  else if (where) expect(v.where).toMatch(where);
}

// ---------------------------------------------------------------------------
// Building messages by hand

/** Quoted-printable (RFC 2045 §6.7): soft breaks every 76 columns, CRLF for "\n". */
function qp(text: string): string {
  const lines = text.split("\n");
  return lines
    .map((line) => {
      const bytes = Buffer.from(line, "utf8");
      let out = "";
      let col = 0;
      bytes.forEach((b, i) => {
        const last = i === bytes.length - 1;
        const lit = (b >= 33 && b <= 126 && b !== 61) || (b === 32 && !last);
        const t = lit ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
        if (col + t.length > 75) {
          out += "=\r\n";
          col = 0;
        }
        out += t;
        col += t.length;
      });
      return out;
    })
    .join("\r\n");
}

function b64(text: string): string {
  return (Buffer.from(text, "utf8").toString("base64").match(/.{1,76}/g) ?? []).join("\r\n");
}

const B = "=_b_0123456789abcdef";

function part(type: string, body: string, cte = "quoted-printable", extra: string[] = []): string {
  const encoded = cte === "quoted-printable" ? qp(body) : cte === "base64" ? b64(body) : body;
  return [`Content-Type: ${type}`, `Content-Transfer-Encoding: ${cte}`, ...extra, "", encoded].join("\r\n");
}

function multipart(boundary: string, parts: string[]): string {
  return `${parts.map((p) => `--${boundary}\r\n${p}\r\n`).join("")}--${boundary}--\r\n`;
}

const TEXT = [
  "Hello Taro,",
  "",
  "Our spring release brings faster search and a redesigned dashboard.",
  "Questions? Write to support@sender.example.",
  "",
  "Unsubscribe: https://sender.example/u?t=abc",
].join("\n");
const HTML =
  '<p>Hello Taro,</p>\n<p>Our spring release brings faster search and a redesigned dashboard.</p>\n' +
  '<p>Questions? Write to <a href="mailto:support@sender.example">support@sender.example</a>.</p>\n' +
  '<p><a href="https://sender.example/u?t=abc">Unsubscribe</a></p>\n';

interface Opts {
  /** Header lines replacing the defaults of the same name (null drops one). */
  set?: Record<string, string | null>;
  /** Extra header lines, before MIME-Version. */
  extra?: string[];
  text?: string;
  html?: string;
  /** Whole body and its Content-Type, instead of text + html. */
  body?: { type: string; content: string; cte?: string };
}

function message(o: Opts = {}): string {
  const defaults: Array<[string, string]> = [
    ["Date", "Tue, 01 Apr 2025 09:00:00 +0000"],
    ["From", "Example News <news@sender.example>"],
    ["Reply-To", "support@sender.example"],
    ["To", `Taro Yamada <${RCPT}>`],
    ["Subject", "Spring news"],
    ["Message-ID", `<${MID}>`],
    ["List-Id", "Product news <product-news.sender.example>"],
    ["List-Unsubscribe", "<https://sender.example/u?t=abc>,\r\n <mailto:unsubscribe@sender.example?subject=unsubscribe%20abc>"],
    ["List-Unsubscribe-Post", "List-Unsubscribe=One-Click"],
  ];
  const lines: string[] = [];
  for (const [name, value] of defaults) {
    const v = o.set && name in o.set ? o.set[name] : value;
    if (v !== null && v !== undefined) lines.push(`${name}: ${v}`);
  }
  for (const [name, value] of Object.entries(o.set ?? {})) {
    if (value !== null && !defaults.some(([n]) => n === name)) lines.push(`${name}: ${value}`);
  }
  lines.push(...(o.extra ?? []), "MIME-Version: 1.0");
  if (o.body) {
    lines.push(`Content-Type: ${o.body.type}`);
    if (o.body.cte) lines.push(`Content-Transfer-Encoding: ${o.body.cte}`);
    return `${lines.join("\r\n")}\r\n\r\n${o.body.content}`;
  }
  lines.push(`Content-Type: multipart/alternative;\r\n boundary="${B}"`);
  const body = multipart(B, [
    part("text/plain; charset=utf-8", o.text ?? TEXT),
    part("text/html; charset=utf-8", o.html ?? HTML),
  ]);
  return `${lines.join("\r\n")}\r\n\r\n${body}`;
}

// ---------------------------------------------------------------------------

describe("messages that pass", () => {
  it("a clean multipart/alternative message", () => {
    expect(guard(message())).toEqual({ ok: true });
  });

  it("the recipient's own address in the body, in any spelling", () => {
    expect(guard(message({ text: `${TEXT}\nThis copy was sent to ${RCPT}.`, html: `${HTML}<p>Sent to TARO&#64;customers.example</p>` }))).toEqual({ ok: true });
  });

  it("allowlisted addresses, allowlisted domains and their subdomains, and our own addresses", () => {
    const text = `${TEXT}\nPartner: help@partner.example, docs: team@docs.example, eu: desk@eu.docs.example\nFrom news@sender.example`;
    expect(guard(message({ text }))).toEqual({ ok: true });
  });

  it("own addresses in From, Reply-To, List-Unsubscribe mailto and Message-ID", () => {
    // Already in the defaults; here without allowDomains or allowAddresses at all.
    expect(guard(message(), ENV, { ...CTX, allowAddresses: new Set(), allowDomains: [] })).toEqual({ ok: true });
  });

  it("a bare To holding exactly the recipient, and exactly our Message-ID", () => {
    expect(guard(message({ set: { To: RCPT, "Message-ID": `<${MID}>` } })).ok).toBe(true);
    expect(guard(message({ set: { To: ` ${RCPT} ` } })).ok).toBe(true);
  });

  it("a null reverse-path (MAIL FROM:<>)", () => {
    expect(guard(message(), { from: "", to: RCPT })).toEqual({ ok: true });
  });

  it("character references that spell no address (&middot; &copy; &#39; &quot;) and Japanese prose", () => {
    const html = `${HTML}<p>&copy; Example Corp &middot; it&#39;s &quot;new&quot; &amp; improved</p>\n<p>山田様、いつもありがとうございます。</p>`;
    expect(guard(message({ html, text: `${TEXT}\n山田様、いつもありがとうございます。` }))).toEqual({ ok: true });
  });

  it("prose with the spaced word `at` (weak candidates are ignored)", () => {
    const text = `${TEXT}\nThe event is at example.com and tickets are available at shop dot example.\nlogo@2x.png`;
    expect(guard(message({ text }))).toEqual({ ok: true });
  });

  it("a single-part text/plain message with no Content-Type (RFC 2045 §5.2 default)", () => {
    const raw = message().replace(/MIME-Version[\s\S]*$/, "") + "\r\nHello Taro.\r\n";
    expect(guard(raw)).toEqual({ ok: true });
  });

  it("LF-only line ends", () => {
    expect(guard(message().replace(/\r\n/g, "\n"))).toEqual({ ok: true });
  });

  it("an encoded-word display name holding a comma is one mailbox", () => {
    expect(guard(message({ set: { To: `=?utf-8?Q?Yamada=2C_Taro?= <${RCPT}>` } }))).toEqual({ ok: true });
  });
});

describe("another address anywhere aborts", () => {
  const masked = mask(OTHER);

  it("in the text part", () => {
    const v = guard(message({ text: `${TEXT}\nSee also ${OTHER}` }));
    expectAbort(v, "foreign-address", "body/text/plain");
    expect(v.masked).toBe(masked);
  });

  it("behind named references of letters (`sh&ordm;p` shows as shºp, NFKC shop)", () => {
    const v = guard(message({ html: `${HTML}<p>Customer: hanako&commat;sh&ordm;p&period;ex&ordf;mple</p>` }));
    expectAbort(v, "foreign-address", "body/text/html");
    expect(v.masked).toBe(masked);
  });

  it("in the HTML part only", () => {
    const v = guard(message({ html: `${HTML}<p>Customer: ${OTHER}</p>` }));
    expectAbort(v, "foreign-address", "body/text/html");
    expect(v.masked).toBe(masked);
  });

  it("quoted-printable with a soft line break inside the address", () => {
    const body = `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nPlease contact hana=\r\nko@shop=\r\n.example today.\r\n`;
    const raw = message().replace(/Content-Type: multipart[\s\S]*$/, body);
    const v = guard(raw);
    expectAbort(v, "foreign-address", "body/text/plain");
    expect(v.masked).toBe(masked);
  });

  it("in a base64-encoded part", () => {
    const v = guard(message({ body: { type: "text/plain; charset=utf-8", cte: "base64", content: `${b64(`Hi!\nWrite to ${OTHER}\n`)}\r\n` } }));
    expectAbort(v, "foreign-address", "body/text/plain");
    expect(v.masked).toBe(masked);
  });

  it("as an &#64; character reference", () => {
    const v = guard(message({ html: `${HTML}<p>hanako&#64;shop.example</p>` }));
    expectAbort(v, "foreign-address", "body/text/html");
    expect(v.masked).toBe(masked);
  });

  it("as %40 in a mailto link", () => {
    const v = guard(message({ html: `${HTML}<p><a href="mailto:hanako%40shop.example">write</a></p>` }));
    expectAbort(v, "foreign-address", "body/text/html");
    expect(v.masked).toBe(masked);
  });

  it("with a full-width ＠", () => {
    const v = guard(message({ text: `${TEXT}\n連絡先: hanako＠shop.example まで` }));
    expectAbort(v, "foreign-address", "body/text/plain");
    expect(v.masked).toBe(masked);
  });

  it("with a zero-width space inside", () => {
    const v = guard(message({ text: `${TEXT}\nhana\u200bko@shop\u200b.example` }));
    expectAbort(v, "foreign-address", "body/text/plain");
    expect(v.masked).toBe(masked);
  });

  it("as [at] / (at) / アットマーク", () => {
    for (const spelled of ["hanako[at]shop[dot]example", "hanako (at) shop (dot) example", "hanakoアットマークshop.example"]) {
      const v = guard(message({ text: `${TEXT}\n${spelled}` }));
      expectAbort(v, "foreign-address", "body/text/plain");
      expect(v.masked).toBe(masked);
    }
  });

  it("in an RFC 2047-encoded Subject", () => {
    const subject = `=?utf-8?B?${Buffer.from(`News for ${OTHER}`).toString("base64")}?=`;
    const v = guard(message({ set: { Subject: subject } }));
    expectAbort(v, "foreign-address", "Subject");
    expect(v.masked).toBe(masked);
  });

  it("split across two adjacent encoded-words (RFC 2047 §6.2)", () => {
    const v = guard(message({ set: { Subject: "=?utf-8?Q?hanako?=\r\n =?utf-8?Q?=40shop.example?=" } }));
    expectAbort(v, "foreign-address", "Subject");
    expect(v.masked).toBe(masked);
  });

  it("in a custom X- header", () => {
    const v = guard(message({ extra: [`X-Customer-Ref: ${OTHER}`] }));
    expectAbort(v, "foreign-address", "X-Customer-Ref");
    expect(v.masked).toBe(masked);
  });

  it("beside our own Message-ID or the recipient's bare To (the fields the guard may skip only when that is all they hold)", () => {
    for (const mid of [`<${MID}> <${OTHER}>`, `<${OTHER}>`, `<${MID}>(${OTHER})`, `<${MID}${OTHER}>`]) {
      const v = guard(message({ set: { "Message-ID": mid } }));
      expect(v.ok, mid).toBe(false);
      if (!v.ok) expect(v.where, mid).toBe("Message-ID");
    }
    for (const to of [`${RCPT} (${OTHER})`, `${RCPT}\r\n (${OTHER})`, ` ${RCPT} (${OTHER}) `]) {
      const v = guard(message({ set: { To: to } }));
      expectAbort(v, "foreign-address", "To");
      expect(v.masked).toBe(masked);
    }
  });

  it("in the To display name (a list field holding another customer's address)", () => {
    const v = guard(message({ set: { To: `"${OTHER}" <${RCPT}>` } }));
    expectAbort(v, "foreign-address", "To");
    expect(v.masked).toBe(masked);
  });

  it("split by inline tags or a comment in HTML", () => {
    for (const html of ["hanako@<span>shop</span>.example", "hanako@<!-- x -->shop.example", "hanako<b>@</b>shop.example"]) {
      const v = guard(message({ html: `${HTML}<p>${html}</p>` }));
      expectAbort(v, "foreign-address", "body/text/html");
      expect(v.masked).toBe(masked);
    }
  });

  it("a bracketed at split by tags, and a tag that spans lines, in HTML", () => {
    for (const html of ["hanako[<b>at</b>]shop.example", "hanako@<span\n class=\"x\">shop</span>.example", "hanako@<!--\n-->shop.example"]) {
      const v = guard(message({ html: `${HTML}<p>${html}</p>` }));
      expectAbort(v, "foreign-address", "body/text/html");
      expect(v.masked).toBe(masked);
    }
  });

  it("in a header with an unusual name, without naming it", () => {
    const v = guard(message({ extra: [`${OTHER}: 1`] }));
    expectAbort(v, "foreign-address", "(a header with an unusual name)");
    expect(v.masked).toBe(masked);
  });

  it("in a Subject that only looks like an encoded-word", () => {
    expectAbort(guard(message({ set: { Subject: `=?utf-8?X?${OTHER}?=` } })), "foreign-address", "Subject");
  });

  it("in Japanese text, and the same line is judged afresh for each context", () => {
    const text = `${TEXT}\n山田様、担当の ${OTHER} までご連絡ください。`;
    expectAbort(guard(message({ text })), "foreign-address", "body/text/plain");
    // The line is remembered by now; another send that allowlists the domain passes it.
    expect(guard(message({ text }), ENV, { ...CTX, allowDomains: ["shop.example"] })).toEqual({ ok: true });
    expectAbort(guard(message({ text })), "foreign-address", "body/text/plain");
  });

  it("in a part header and in the preamble", () => {
    const withPartHeader = message().replace("Content-Type: text/html; charset=utf-8", `Content-Type: text/html; charset=utf-8\r\nContent-Description: for ${OTHER}`);
    expectAbort(guard(withPartHeader), "foreign-address", /^body\/2\/Content-Description$/);
    const withPreamble = message().replace(`\r\n\r\n--${B}\r\n`, `\r\n\r\nThis is a multi-part message for ${OTHER}.\r\n--${B}\r\n`);
    expectAbort(guard(withPreamble), "foreign-address", "body/preamble");
  });

  it("in a nested multipart", () => {
    const inner = "=_inner_42";
    const body = multipart(B, [
      `Content-Type: multipart/alternative; boundary="${inner}"\r\n\r\n${multipart(inner, [
        part("text/plain; charset=utf-8", `Hi\nbob@example.net`),
        part("text/html; charset=utf-8", "<p>Hi</p>"),
      ])}`,
    ]);
    const v = guard(message({ body: { type: `multipart/mixed; boundary="${B}"`, content: body } }));
    expectAbort(v, "foreign-address", "body/text/plain");
    expect(v.masked).toBe(mask("bob@example.net"));
    expect(v.detail).not.toContain("bob@example.net");
  });

  it("a clean nested multipart passes", () => {
    const inner = "=_inner_42";
    const body = multipart(B, [
      `Content-Type: multipart/alternative; boundary="${inner}"\r\n\r\n${multipart(inner, [
        part("text/plain; charset=utf-8", TEXT),
        part("text/html; charset=utf-8", HTML),
      ])}`,
    ]);
    expect(guard(message({ body: { type: `multipart/mixed; boundary="${B}"`, content: body } }))).toEqual({ ok: true });
  });

  it("a lookalike of an allowlisted domain is not allowlisted", () => {
    expectAbort(guard(message({ text: `${TEXT}\nteam@evildocs.example` })), "foreign-address", "body/text/plain");
  });
});

describe("recipient headers and the envelope", () => {
  it("Cc present", () => {
    expectAbort(guard(message({ extra: [`Cc: ${OTHER}`] })), "recipient-header", "Cc");
  });

  it("Cc present even when it names the recipient", () => {
    expectAbort(guard(message({ extra: [`cc: ${RCPT}`] })), "recipient-header", "cc");
  });

  it("Bcc present, even empty", () => {
    expectAbort(guard(message({ extra: ["Bcc:"] })), "recipient-header", "Bcc");
  });

  it("Resent-To present", () => {
    expectAbort(guard(message({ extra: [`Resent-To: ${RCPT}`] })), "recipient-header", "Resent-To");
  });

  it("two addresses in To", () => {
    const v = guard(message({ set: { To: `${RCPT}, ${OTHER}` } }));
    expectAbort(v, "recipient-header", "To");
    expect(v.detail).toContain("2 mailboxes");
  });

  it("a group in To", () => {
    expectAbort(guard(message({ set: { To: `customers: ${RCPT};` } })), "recipient-header", "To");
  });

  it("a second To header", () => {
    expectAbort(guard(message({ extra: [`To: ${RCPT}`] })), "recipient-header", "To");
  });

  it("no To header", () => {
    expectAbort(guard(message({ set: { To: null } })), "recipient-header", "To");
  });

  it("To not matching the envelope", () => {
    const v = guard(message({ set: { To: `Hanako <${OTHER}>` } }));
    expectAbort(v, "recipient-header", "To");
    expect(v.masked).toBe(mask(OTHER));
  });

  it("the envelope to someone else", () => {
    const v = guard(message(), { from: ENV.from, to: OTHER });
    expectAbort(v, "envelope");
    expect(v.masked).toBe(mask(OTHER));
  });

  it("an envelope recipient with CRLF or a second address", () => {
    expectAbort(guard(message(), { from: ENV.from, to: `${RCPT}\r\nRCPT TO:<${OTHER}>` }), "envelope");
    expectAbort(guard(message(), { from: ENV.from, to: `${RCPT},${OTHER}` }), "envelope");
  });

  it("the envelope recipient in another case or with a zero-width space is the same mailbox", () => {
    expect(guard(message(), { from: ENV.from, to: "Taro@Customers.EXAMPLE" })).toEqual({ ok: true });
  });

  it("a bounce address that is not ours", () => {
    expectAbort(guard(message(), { from: OTHER, to: RCPT }), "envelope", "envelope/MAIL FROM");
  });
});

describe("structure", () => {
  it("a duplicate Subject", () => {
    expectAbort(guard(message({ extra: ["Subject: again"] })), "unparseable", "Subject");
  });

  it("a duplicate From, Message-ID or MIME-Version", () => {
    expectAbort(guard(message({ extra: ["From: news@sender.example"] })), "unparseable", "From");
    expectAbort(guard(message({ extra: [`Message-ID: <${MID}>`] })), "unparseable", "Message-ID");
    expectAbort(guard(message({ extra: ["MIME-Version: 1.0"] })), "unparseable", "MIME-Version");
  });

  it("an attachment part", () => {
    const raw = message().replace(
      `--${B}--`,
      `--${B}\r\n${part("application/pdf", "JVBERi0xLjQK", "base64", ['Content-Disposition: attachment; filename="a.pdf"'])}\r\n--${B}--`,
    );
    expectAbort(guard(raw), "unparseable", "body part 3");
  });

  it("a text part marked as an attachment, or with a file name", () => {
    const att = message().replace("Content-Type: text/html; charset=utf-8", "Content-Type: text/html; charset=utf-8\r\nContent-Disposition: attachment");
    expectAbort(guard(att), "unparseable", "body part 2");
    const named = message().replace("Content-Type: text/html; charset=utf-8", 'Content-Type: text/html; charset=utf-8; name="list.html"');
    expectAbort(guard(named), "unparseable", "body part 2");
  });

  it("a non-text leaf without a disposition", () => {
    const raw = message({ body: { type: "image/png", cte: "base64", content: "iVBORw0KGgo=\r\n" } });
    const v = guard(raw);
    expectAbort(v, "unparseable", "body");
    expect(v.detail).toContain("image/png");
  });

  it("no header/body separator", () => {
    expectAbort(guard("From: news@sender.example\r\nTo: taro@customers.example\r\nSubject: x"), "unparseable");
  });

  it("the boundary missing from the body, or no close delimiter", () => {
    expectAbort(guard(message().replaceAll(`--${B}`, "--other")), "unparseable", "body");
    expectAbort(guard(message().replace(`--${B}--`, "")), "unparseable", "body");
    expectAbort(guard(message().replace(` boundary="${B}"`, " charset=utf-8")), "unparseable", "body");
  });

  it("a line that starts with the boundary but is not a delimiter", () => {
    expectAbort(guard(message().replace(`--${B}\r\nContent-Type: text/html`, `--${B}x\r\nContent-Type: text/html`)), "unparseable", "body");
  });

  it("bad base64", () => {
    for (const content of ["SGVsbG8*\r\n", "SGVs\r\nbG8=SGVsbG8=\r\n", "SGVsbG8\r\n"]) {
      expectAbort(guard(message({ body: { type: "text/plain; charset=utf-8", cte: "base64", content } })), "unparseable", "body");
    }
  });

  it("bad quoted-printable", () => {
    expectAbort(guard(message({ body: { type: "text/plain; charset=utf-8", cte: "quoted-printable", content: "a=ZZb\r\n" } })), "unparseable");
    expectAbort(guard(message({ body: { type: "text/plain; charset=utf-8", cte: "quoted-printable", content: "caf\u00e9\r\n" } })), "unparseable");
  });

  it("bytes that are not UTF-8, a charset other than UTF-8, and non-ASCII labelled US-ASCII", () => {
    const latin1 = Buffer.concat([Buffer.from(message({ body: { type: "text/plain; charset=utf-8", cte: "8bit", content: "" } })), Buffer.from([0x63, 0x61, 0x66, 0xe9])]);
    expectAbort(guard(latin1), "unparseable");
    expectAbort(guard(message({ body: { type: "text/plain; charset=iso-2022-jp", content: "hi" } })), "unparseable");
    expectAbort(guard(message({ body: { type: "text/plain", cte: "8bit", content: "café" } })), "unparseable");
    expectAbort(guard(message({ set: { Subject: "=?iso-8859-1?Q?caf=E9?=" } })), "unparseable", "Subject");
  });

  it("a bare CR, a header line without a colon, a continuation line first", () => {
    expectAbort(guard(message({ set: { Subject: `hi\rBcc: ${OTHER}` } })), "unparseable");
    expectAbort(guard(message({ extra: ["Not a header"] })), "unparseable");
    expectAbort(guard(` folded\r\n${message()}`), "unparseable");
  });

  it("an encoded multipart, a reused boundary, a duplicate Content-Type", () => {
    expectAbort(guard(message().replace("MIME-Version: 1.0", "MIME-Version: 1.0\r\nContent-Transfer-Encoding: base64")), "unparseable", "body");
    const reuse = multipart(B, [`Content-Type: multipart/alternative; boundary="${B}"\r\n\r\n${multipart(B, [part("text/plain; charset=utf-8", "hi")])}`]);
    expectAbort(guard(message({ body: { type: `multipart/mixed; boundary="${B}"`, content: reuse } })), "unparseable");
    expectAbort(guard(message().replace("MIME-Version: 1.0", "MIME-Version: 1.0\r\nContent-Type: text/plain")), "unparseable");
  });

  it("format=flowed text, whose lines a reader joins (RFC 3676)", () => {
    expectAbort(guard(message({ body: { type: "text/plain; charset=utf-8; format=flowed; delsp=yes", content: "hi\r\n" } })), "unparseable", "body");
  });

  it("an empty message and garbage", () => {
    expectAbort(guard(Buffer.alloc(0)), "unparseable");
    expectAbort(guard(Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x0a])), "unparseable");
  });
});

describe("through the real composer (src/compose/message.ts)", () => {
  const input = (over: Partial<MessageInput> = {}): MessageInput => ({
    from: { name: "Example News", address: "news@sender.example" },
    replyTo: "support@sender.example",
    to: { name: "山田 太郎", address: RCPT },
    subject: "春のお知らせ — spring news",
    html: HTML,
    text: TEXT,
    messageId: MID,
    date: new Date("2025-04-01T09:00:00Z"),
    listId: "product-news.sender.example",
    unsubscribe: { url: "https://sender.example/u?t=abc", mailto: "unsubscribe@sender.example?subject=unsubscribe%20abc" },
    headers: [["X-Newsletter-Id", "2025-04-01-spring"]],
    boundarySeed: "digest-0123",
    ...over,
  });

  it("a composed message passes", () => {
    expect(guard(composeMessage(input()))).toEqual({ ok: true });
  });

  it("display names with commas, colons and quotes are one mailbox", () => {
    for (const name of ['Yamada, Taro: "VIP"', "山田, 太郎: 様", "O'Brien (Sales)"]) {
      expect(guard(composeMessage(input({ to: { name, address: RCPT } }))), name).toEqual({ ok: true });
    }
  });

  it("another customer's address in a rendered field aborts, in text, HTML, Subject or display name", () => {
    expectAbort(guard(composeMessage(input({ text: `${TEXT}\nRef: ${OTHER}` }))), "foreign-address", "body/text/plain");
    expectAbort(guard(composeMessage(input({ html: `${HTML}<p>${OTHER.replace("@", "&#64;")}</p>` }))), "foreign-address", "body/text/html");
    expectAbort(guard(composeMessage(input({ subject: `お知らせ ${OTHER} 様` }))), "foreign-address", "Subject");
    expectAbort(guard(composeMessage(input({ to: { name: `花子 ${OTHER}`, address: RCPT } }))), "foreign-address", "To");
  });
});

describe("the line pre-filter never hides an address from the extractor", () => {
  // Deterministic xorshift: the same strings every run.
  let seed = 0x9e3779b9;
  const rand = (n: number) => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  const TOKENS = [
    "@", "&#64;", "&#x40;", "&commat;", "&amp;", "#64;", "%40", "%", "4", "0", "\\", "u0040", "x40", "[", "]", "(", ")",
    "<", ">", "{", "}", "at", "AT", "At", " ", "\t", "taro", "example", ".", "com", "dot", "&quot;", "&#39;", "&lt;",
    "&gt;", "&lsqb;", "&rsqb;", "&#97;", "t", "x", "-", "_", ";", "#", "&", "%5B", "%61", "%26", "%23", "%3B",
    "&middot;", "&copy;", "&nbsp;", "&period;", "&commat", "&ampx;", "amp;", "commat;", "&#X40;", "&#0064;",
    "&ordm;", "&ordf", "&notit;", "&fflig;", "&apos;", "&QUOT;",
  ];

  it("ASCII lines without a trigger yield no strong address", () => {
    let checked = 0;
    for (let i = 0; i < 30_000; i++) {
      let s = "";
      const len = 2 + rand(14);
      for (let j = 0; j < len; j++) s += TOKENS[rand(TOKENS.length)]!;
      if (mayHoldStrongAt(s)) continue;
      checked++;
      expect(findAddresses(s).filter((f) => f.strong), JSON.stringify(s)).toEqual([]);
    }
    expect(checked).toBeGreaterThan(1000);
  });

  it("the extractor never joins lines: a text's addresses are its lines' addresses", () => {
    const NL = [...TOKENS, "\n", "\r\n", "\n"];
    for (let i = 0; i < 5_000; i++) {
      let s = "";
      const len = 4 + rand(24);
      for (let j = 0; j < len; j++) s += NL[rand(NL.length)]!;
      const whole = findAddresses(s).filter((f) => f.strong).map((f) => f.address);
      const lines = s.split("\n").flatMap((l) => findAddresses(l).filter((f) => f.strong).map((f) => f.address));
      expect(whole, JSON.stringify(s)).toEqual(lines);
    }
  });
});

describe("quoted-printable decoder", () => {
  it("agrees with src/detect/mime.ts on well-formed input", () => {
    const samples = [TEXT, HTML, "日本語のテキスト\nwith trailing space \nand = signs, tabs\tand a very long line ".repeat(5), "a\u200bb ＠ ｔａｒｏ"];
    for (const s of samples) {
      const enc = qp(s);
      expect(decodeQuotedPrintableStrict(Buffer.from(enc, "latin1"), "t").equals(decodeQuotedPrintable(enc))).toBe(true);
    }
    const padded = "soft break with padding= \t\r\ntrailing blanks   \r\nlower =c3=a9 hex\r\n";
    expect(decodeQuotedPrintableStrict(Buffer.from(padded, "latin1"), "t").equals(decodeQuotedPrintable(padded))).toBe(true);
  });
});

describe("speed", () => {
  const para = "Our spring release brings faster search, a redesigned dashboard and better exports. Read the full notes on our website and tell us what you think about it. ";
  const paraJa = "春のリリースでは検索が速くなり、ダッシュボードを一新し、書き出しも改善しました。詳しくはウェブサイトのリリースノートをご覧ください。";
  const text = (p: string, i: number) => `Hello Customer ${i},\n\n${`${p}\n\n`.repeat(p === para ? 11 : 3)}Questions? Write to support@sender.example.\nUnsubscribe: https://sender.example/u?t=${i.toString(16).padStart(16, "0")}\n`;
  const html = (p: string, i: number) =>
    `<!doctype html><html><head><meta charset="utf-8"><style>p{margin:0 0 1em}@media (max-width:600px){p{font-size:16px}}</style></head><body>\n` +
    `<p>Hello Customer ${i},</p>\n${`<p>${p}</p>\n`.repeat(p === para ? 11 : 3)}` +
    `<p>Questions? Write to <a href="mailto:support@sender.example">support@sender.example</a>.</p>\n` +
    `<p><a href="https://sender.example/u?t=${i}">Unsubscribe</a> &middot; Example Corp, 1-2-3 Chiyoda, Tokyo</p>\n</body></html>\n`;

  /** Best of 3 rounds over `n` distinct messages; CPU time too, since CI machines are shared. */
  function measure(label: string, p: string, n: number): number {
    const msgs: Buffer[] = [];
    const ctxs: GuardContext[] = [];
    for (let i = 0; i < n; i++) {
      const to = `customer${i}@customers.example`;
      msgs.push(Buffer.from(message({ set: { To: `Customer ${i} <${to}>` }, text: text(p, i), html: html(p, i) }), "utf8"));
      ctxs.push({ ...CTX, recipient: to });
    }
    const size = msgs.reduce((a, m) => a + m.length, 0) / n;
    let wall = Infinity;
    let cpu = Infinity;
    for (let round = 0; round < 3; round++) {
      let ok = 0;
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) if (guardMessage(msgs[i]!, { from: ENV.from, to: ctxs[i]!.recipient }, ctxs[i]!).ok) ok++;
      wall = Math.min(wall, Number(process.hrtime.bigint() - t0) / n / 1000);
      const c = process.cpuUsage(c0);
      cpu = Math.min(cpu, c.user / n);
      expect(ok).toBe(n);
    }
    console.log(`guard, ${label}: ${wall.toFixed(1)} µs per message wall, ${cpu.toFixed(1)} µs CPU (${n} messages, ${Math.round(size)} bytes each, best of 3)`);
    return cpu;
  }

  it("10,000 messages of about 5 KB: time per message", () => {
    measure("English", para, 10_000);
  });

  it("5,000 Japanese messages of about 5 KB", () => {
    measure("Japanese", paraJa, 5_000);
  });
});

afterAll(() => {
  // No verdict, of any test here, carries an address in full.
  for (const v of verdicts) {
    if (v.ok) continue;
    for (const field of [v.where, v.masked, v.detail]) {
      expect(findAddresses(field).filter((f) => f.strong), field).toEqual([]);
      for (const a of ALL) expect(field.toLowerCase()).not.toContain(a);
    }
  }
});
