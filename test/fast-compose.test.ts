/**
 * The compose-once fast path (src/compose/fast.ts, fast-qp.ts) against the
 * reference (fillBody + composeMessage): byte-identical for every recipient,
 * over generated rows with the values that stress each encoding — non-ASCII
 * and emoji (RFC 2047 words, QP of UTF-8 sequences), "=" and "=?" (RFC 2045
 * §6.7 rule 1, RFC 2047 §5), a leading "." or "From " (message.ts's line
 * protections), trailing spaces and tabs (rule 3), CR, LF and CRLF inside a
 * value (rule 4), lines far over 76 characters (rule 5), long subjects and
 * addresses (RFC 5322 §2.2.3 folding).
 */
import { describe, expect, it } from "vitest";
import { compileQpTemplate, fillQpSources, qpTemplateMaxLength, writeQpTemplate } from "../src/compose/fast-qp.ts";
import { encodeQuotedPrintable } from "../src/compose/qp.ts";
import { parseConfig } from "../src/load/config.ts";
import { parseNewsletterMeta } from "../src/load/newsletter-meta.ts";
import type { Slot, Slotted } from "../src/render/body.ts";
import { fillSlotted } from "../src/render/slots.ts";
import { makePlan, type Plan } from "../src/send/plan.ts";
import { sampleText, SAMPLE_DIR } from "./helpers/repo.ts";
import { fastConfig } from "./helpers/send-repo.ts";

const SECRET = "test-secret-0123456789abcdef";

/** Deterministic PRNG (LCG), so a failure names a reproducible row. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

const TRICKY = [
  "",
  "Taro",
  "太郎",
  "山田 太郎",
  "Zoë Ångström",
  "O'Brien & <Co> \"quoted\"",
  "a=b",
  "=?utf-8?q?not_a_word?=",
  "=_nl_looks_like_a_boundary",
  ".leading dot",
  ".",
  "From here",
  "trailing space ",
  "trailing tab\t",
  "  spaced  ",
  "tab\tinside",
  "line1\r\nline2",
  "cr\ronly",
  "lf\nonly",
  "\r\n",
  "\n.\n",
  "ends with cr\r",
  "\nstarts with lf",
  "emoji 😀🎉 and 👩‍👩‍👧",
  "🎉",
  "combining e\u0301 and zero\u200bwidth",
  "nbsp\u00a0here",
  "%41 %zz 100%",
  "{{ first_name }}",
  "x".repeat(75),
  "y".repeat(76),
  "long ".repeat(80),
  "日本語の長い値".repeat(30),
  "=".repeat(40),
  "mixed 😀=.\r\nFrom x ",
];

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function value(rand: () => number): string {
  const n = 1 + Math.floor(rand() * 3);
  let v = "";
  for (let i = 0; i < n; i++) v += pick(rand, TRICKY);
  return v;
}

function address(rand: () => number, i: number): string {
  const locals = ["taro", "a.b-c_d+tag", "x".repeat(60), "o'neil", "user"];
  const domains = ["example.com", "shop.example", "mail.test", `${"sub".repeat(20)}.example.org`];
  return `${pick(rand, locals)}${i}@${pick(rand, domains)}`;
}

function plan(body: string, opts: { subject?: string; preheader?: string; approval?: boolean } = {}): Plan {
  const config = parseConfig(fastConfig()).config!;
  let metaText = sampleText(`${SAMPLE_DIR}/newsletter.yml`);
  if (opts.subject !== undefined) metaText = metaText.replace(/^subject:.*$/m, `subject: ${JSON.stringify(opts.subject)}`);
  if (opts.preheader !== undefined) metaText = metaText.replace(/^preheader:.*$/m, `preheader: ${JSON.stringify(opts.preheader)}`);
  const meta = parseNewsletterMeta(metaText, "n.yml").meta!;
  return makePlan({
    id: "2026-12-01-winter-update",
    config,
    meta,
    body,
    digest: "d".repeat(64),
    secret: SECRET,
    date: new Date(Date.UTC(2026, 11, 1, 9, 0, 0)),
    ...(opts.approval ? { approvalCopy: { banner: "**Approval copy** for {{ first_name }}" } } : {}),
  });
}

/** Both paths for one recipient: the same bytes, or the same error. */
function same(p: Plan, addr: string, row: Record<string, string>, what: string): void {
  let ref: Buffer | Error;
  try {
    ref = p.referenceMessageFor(addr, row).raw;
  } catch (e) {
    ref = e as Error;
  }
  let fast: Buffer | Error;
  try {
    fast = p.messageFor(addr, row).raw;
  } catch (e) {
    fast = e as Error;
  }
  if (ref instanceof Error || fast instanceof Error) {
    expect(fast instanceof Error ? `${fast.name}: ${fast.message}` : "bytes", what).toBe(
      ref instanceof Error ? `${ref.name}: ${ref.message}` : "bytes",
    );
    return;
  }
  if (!fast.equals(ref)) {
    // Name the first differing line, for a readable failure.
    const a = fast.toString("latin1").split("\r\n");
    const b = ref.toString("latin1").split("\r\n");
    const k = a.findIndex((l, j) => l !== b[j]);
    expect(`${k}: ${a[k]}`, what).toBe(`${k}: ${b[k]}`);
  }
  expect(fast.equals(ref), what).toBe(true);
}

const BODIES: Record<string, string> = {
  sample: sampleText(`${SAMPLE_DIR}/body.md`),
  "slots everywhere":
    "# {{ first_name }}\n\n{{ first_name }} at the start, {{ plan }} in the middle and at the end {{ first_name }}\n\n" +
    `A very long line ${"word ".repeat(40)}with {{ first_name }} inside it and ${"more ".repeat(30)}{{ plan }}.\n\n` +
    "- item {{ plan }}\n- {{ first_name }}\n\n> quoted {{ first_name }}\n\n" +
    "[link for {{ first_name }}](https://corp.example/p?name={{ first_name }}&plan={{ plan }})\n\n" +
    "| a | b |\n|---|---|\n| {{ first_name }} | {{ plan }} |\n\n" +
    '<p title="{{ first_name }}">raw {{ plan }}</p>\n\n' +
    "Two on one line: {{ first_name }}{{ plan }}\n\n{{ plan }}",
  "no slots": "Just text.\n\nNo placeholders at all, only a footer.\n",
  "lines of dots and From":
    ".{{ first_name }}\n\nFrom {{ first_name }}\n\n{{ first_name }} \n\ntrailing spaces   \n\n`code {{ plan }}`\n\n    indented {{ first_name }}\n",
  "defaults for blank values": '{{ first_name | "お客様" }} 様、{{ first_name }}\n\n[x](https://corp.example/?n={{ plan | "a b&c" }})\n\n' +
    "長い行".repeat(40) + '{{ first_name | "" }}\n',
  "japanese": "{{ first_name }} 様\n\n" + "いつもご利用ありがとうございます。".repeat(12) + "{{ plan }}\n\n日本語 {{ first_name }} の行\n",
};

describe("compose once, fill per recipient: byte-identical to the reference composer", () => {
  for (const [name, body] of Object.entries(BODIES)) {
    it(`${name}: 400 generated rows`, () => {
      const p = plan(body);
      const rand = prng(name.length * 7919);
      for (let i = 0; i < 400; i++) {
        const row = { first_name: value(rand), plan: value(rand) };
        same(p, address(rand, i), row, `${name} row ${i} ${JSON.stringify(row)}`);
      }
    });
  }

  it("long and non-ASCII subjects with fields, a preheader with fields, an approval copy", () => {
    const subjects = [
      "{{ first_name }}, the winter update / 冬のアップデート",
      `${"A long subject that keeps going ".repeat(5)}{{ first_name }}`,
      "{{ first_name }}{{ plan }}{{ first_name }}",
      "😀 {{ plan }} 😀",
      "=?utf-8?B?not encoded?= {{ first_name }}",
      "No fields at all",
    ];
    const rand = prng(42);
    for (const subject of subjects) {
      for (const approval of [false, true]) {
        const p = plan(BODIES["slots everywhere"]!, { subject, preheader: "Hi {{ first_name }}, {{ plan }} inside", approval });
        for (let i = 0; i < 60; i++) {
          const row = { first_name: value(rand), plan: value(rand) };
          same(p, address(rand, i), row, `subject ${JSON.stringify(subject)} approval=${approval} row ${JSON.stringify(row)}`);
        }
      }
    }
  });

  it("a value that cannot be sent fails the same way on both paths (a lone surrogate in a URL)", () => {
    const p = plan(BODIES["slots everywhere"]!);
    same(p, "taro@example.com", { first_name: "bad \ud800", plan: "x" }, "lone surrogate");
    same(p, "taro@example.com", { first_name: "x" } as Record<string, string>, "missing field");
  });

  it("the same Message-ID, envelope and guard context", () => {
    const p = plan(BODIES.sample!);
    const a = p.messageFor("taro@example.com", { first_name: "太郎", plan: "Free" });
    const b = p.referenceMessageFor("taro@example.com", { first_name: "太郎", plan: "Free" });
    expect(a.messageId).toBe(b.messageId);
    expect(a.envelope).toEqual(b.envelope);
    expect(a.guard).toEqual(b.guard);
  });
});

describe("quoted-printable template (fast-qp.ts): the encoding of the filled text", () => {
  const pieces = ["a", " ", "\t", ".", "From ", "=", "\n", "\r", "\r\n", "é", "日本", "😀", "x".repeat(70), "word ".repeat(20), "=_"];
  const slotOf = (field: string, context: Slot["context"]): Slot => Object.freeze({ field, context });

  it("matches encodeQuotedPrintable over 3,000 random slotted texts and values", () => {
    const rand = prng(2024);
    for (let n = 0; n < 3000; n++) {
      const parts: Array<string | Slot> = [];
      const k = Math.floor(rand() * 8);
      for (let j = 0; j < k; j++) {
        if (rand() < 0.4) parts.push(slotOf(pick(rand, ["f", "g"]), rand() < 0.8 ? "text" : "url"));
        else {
          let lit = "";
          const m = 1 + Math.floor(rand() * 5);
          for (let q = 0; q < m; q++) lit += pick(rand, pieces);
          parts.push(lit);
        }
      }
      const slotted: Slotted = Object.freeze({ parts: Object.freeze(parts) });
      const row = { f: value(rand), g: pick(rand, pieces) + pick(rand, pieces) };
      const t = compileQpTemplate(slotted, false);
      const sources = fillQpSources(t, row);
      const out = Buffer.alloc(qpTemplateMaxLength(t, sources));
      const end = writeQpTemplate(t, sources, out, 0);
      const expected = encodeQuotedPrintable(Buffer.from(fillSlotted(slotted, row, false), "utf8"));
      expect(out.subarray(0, end).toString("latin1"), JSON.stringify({ parts, row })).toBe(expected.toString("latin1"));
    }
  });
});
