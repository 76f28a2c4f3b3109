/**
 * Layouts and Japanese (docs/design.md, "Layout and pictures"), over the
 * composed bytes: the Japanese sample newsletter in test/fixtures/ja-newsletter
 * (no space at a soft line break between CJK characters in either part, the
 * text part wrapped by display width, the footer and the approval banner in
 * Japanese), the CSS inlined with only @media rules left in one <style>, a
 * repository's own layout (checked, digested, guarded), and the compose-once
 * fast path byte-identical with a layout.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { simpleParser, type ParsedMail } from "mailparser";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/load/config.ts";
import { parseNewsletterMeta } from "../src/load/newsletter-meta.ts";
import { widthInternals, wrapText } from "../src/render/cjk.ts";
import { inlineCss } from "../src/render/layout.ts";
import { makePlan } from "../src/send/plan.ts";
import { fixtureFiles, JA_DIR } from "./helpers/ja-fixture.ts";
import { makeRepo, runCli } from "./helpers/repo.ts";

const CJK = "[\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\u3000-\\u303F\\uFF01-\\uFF60]";


function jaRepo(changes: Record<string, string | null> = {}): string {
  return makeRepo({ ...fixtureFiles(), ...changes });
}

async function previewOf(root: string, dir = JA_DIR): Promise<{ code: number; mail?: ParsedMail; raw?: Buffer; stderr: string }> {
  const file = path.join(root, "out", "p.eml");
  const r = await runCli(["preview", dir, "--out", file], { cwd: root });
  if (r.code !== 0) return { code: r.code, stderr: r.stderr };
  const raw = readFileSync(file);
  return { code: 0, raw, mail: await simpleParser(raw), stderr: r.stderr };
}

/** Display width: CJK and full-width forms count two columns. */
function width(line: string): number {
  let w = 0;
  for (const c of line) w += /[\u1100-\u115F\u2E80-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6]/u.test(c) ? 2 : 1;
  return w;
}

describe("the Japanese sample newsletter (test/fixtures/ja-newsletter)", () => {
  it("passes check", async () => {
    const r = await runCli(["check", JA_DIR], { cwd: jaRepo() });
    expect(r.code, r.stdout).toBe(0);
  });

  it("has no space at a soft line break between CJK characters, in the text and the HTML part", async () => {
    const { code, mail, stderr } = await previewOf(jaRepo());
    expect(code, stderr).toBe(0);
    const html = String(mail!.html);
    const text = mail!.text!;
    for (const joined of ["誠にありがとうございます。今月は", "公開しました。詳しくは", "並列化しました。<strong>", "開設しました。移行の", "お問い合わせください。担当者より"]) {
      expect(html).toContain(joined);
    }
    // Within each paragraph (inline tags stripped), no whitespace between two CJK characters.
    const paragraphs = [...html.matchAll(/<p\b[^>]*>([\s\S]*?)<\/p>/g)].map((m) => m[1]!.replace(/<[^>]+>/g, ""));
    expect(paragraphs.length).toBeGreaterThan(5);
    for (const p of paragraphs) if (!p.includes("送信者")) expect(p).not.toMatch(new RegExp(`${CJK}\\s+${CJK}`, "u"));
    // In the text part a wrap may end a line between two CJK characters, but never leaves a space.
    const textBody = text.slice(0, text.indexOf("\n-----")); // the footer holds a name with a space
    expect(textBody.length).toBeGreaterThan(200);
    expect(textBody).not.toMatch(new RegExp(`${CJK} +${CJK}`, "u"));
    expect(text.replace(/\n/g, "")).toContain("誠にありがとうございます。今月は、多くのお客様から");
  });

  it("wraps the text part at 72 columns without splitting a character", async () => {
    const { mail } = await previewOf(jaRepo());
    const text = mail!.text!;
    const lines = text.split("\n");
    for (const line of lines) {
      // A URL longer than the width is kept whole on its own line.
      if (!/https?:\/\//.test(line)) expect(width(line), line).toBeLessThanOrEqual(72);
    }
    expect(lines.some((l) => width(l) > 60), "some line is long enough to need wrapping").toBe(true);
    expect(text).not.toContain("\uFFFD"); // no split UTF-8 sequence or surrogate
    // No line starts with closing punctuation (Japanese line-breaking rules).
    for (const line of lines) expect(line).not.toMatch(/^[、。」）]/u);
  });

  it("has its footer in Japanese with sender.locale: ja (sender, postal address, contact, 配信停止)", async () => {
    const { mail } = await previewOf(jaRepo());
    const html = String(mail!.html);
    const text = mail!.text!;
    expect(html).toContain('<html lang="ja">');
    expect(html).toContain("送信者: 株式会社サンプル ニュース");
    expect(html).toContain("住所: 〒100-0001 東京都千代田区千代田1-2-3 サンプルビル4階");
    expect(html).toContain("お問い合わせ: support@corp.example");
    expect(html).toMatch(/<a href="https:\/\/corp\.example\/unsubscribe\?u=[0-9a-f.]+"[^>]*>配信停止<\/a>/);
    expect(text).toMatch(/配信停止\s\[https:\/\/corp\.example\/unsubscribe\?u=[0-9a-f.]+\]/);
    expect(html).not.toContain("Unsubscribe");
    expect(html).toContain("#c2410c"); // brand colour
  });

  it("has its approval banner in Japanese", async () => {
    const root = jaRepo();
    const r = await runCli(["test-send", JA_DIR], { cwd: root });
    expect(r.code, r.stderr).toBe(0);
    const box = path.join(root, "outbox", "approval", "2026-12-01-fuyu-news");
    const files = readdirSync(box).filter((f) => f.endsWith(".eml"));
    expect(files.length).toBe(3);
    const mail = await simpleParser(readFileSync(path.join(box, files[0]!)));
    expect(String(mail.html)).toContain("<strong>承認用コピー — 本番の配信ではありません。</strong>これは");
    expect(mail.subject).toBe("［承認用コピー］ 山田様、冬のアップデートのお知らせ");
    expect(mail.text).toContain("リスト customers：宛先 2 件");
    expect(mail.text).not.toContain("APPROVAL COPY");
  });

  it("keeps the English footer by default", async () => {
    const { code, mail } = await previewOf(makeRepo(), "newsletters/2026-12-01-winter-update");
    expect(code).toBe(0);
    expect(String(mail!.html)).toContain('<html lang="en">');
    expect(String(mail!.html)).toMatch(/>Unsubscribe<\/a>/);
    expect(String(mail!.html)).toContain("Postal address: Example Corp, 1-2-3 Chiyoda, Tokyo");
  });
});

describe("wrapText", () => {
  it.each([
    ["short", "短い行", "短い行"],
    ["latin at spaces", `${"word ".repeat(20).trim()}`, "word word word word word word word word word word word word word word\nword word word word word word"],
    ["never inside a grapheme", "👩‍👩‍👧".repeat(40), null],
    ["a URL stays whole", `見てください https://corp.example/${"a".repeat(90)}`, `見てください\nhttps://corp.example/${"a".repeat(90)}`],
  ])("%s", (_, input, expected) => {
    const out = wrapText(input, 72);
    if (expected !== null) expect(out).toBe(expected);
    // Nothing but spaces is dropped or added, and no character is split.
    expect(out.replace(/[\n ]/g, "")).toBe(input.replace(/ /g, ""));
    expect(out).not.toContain("\uFFFD");
    if (input.startsWith("👩")) expect(out.split("\n").every((l) => l.startsWith("👩") && l.endsWith("👧"))).toBe(true);
  });
});

describe("the wrap's character table and offsets", () => {
  const { classOf, displayWidth, patterns } = widthInternals;
  const { EXTENDS, WIDE, CJK_CHAR, NO_START, NO_END } = patterns;

  it("says of every BMP code unit what the patterns say", () => {
    const bits: Array<[number, RegExp]> = [[2, EXTENDS], [4, WIDE], [8, CJK_CHAR], [16, NO_START], [32, NO_END]];
    const wrong: string[] = [];
    for (let u = 0; u < 0x10000; u++) {
      const c = classOf(u);
      const ch = String.fromCharCode(u);
      for (const [bit, re] of bits) if (((c & bit) !== 0) !== re.test(ch)) wrong.push(`U+${u.toString(16)} ${re.source.slice(0, 12)}`);
    }
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  // The reference: the wrap as first written, with strings per grapheme and a pattern per test.
  function clustersOf(line: string): string[] {
    const out: string[] = [];
    let joinNext = false;
    for (const cp of line) {
      const last = out.length - 1;
      const ri = cp >= "\u{1F1E6}" && cp <= "\u{1F1FF}";
      const lone = last >= 0 && out[last]!.length === 2 && out[last]! >= "\u{1F1E6}" && out[last]! <= "\u{1F1FF}";
      if (last >= 0 && (joinNext || EXTENDS.test(cp) || (ri && lone))) out[last] += cp;
      else out.push(cp);
      joinNext = cp === "\u200D";
    }
    return out;
  }
  const widthOf = (g: string) => (WIDE.test(g) ? 2 : 1);
  const width = (s: string) => clustersOf(s).reduce((n, g) => n + widthOf(g), 0);
  function referenceLine(line: string, columns: number): string {
    if (width(line) <= columns) return line;
    const lead = /^(?:> ?)+|^\s*(?:[*+-]|\d+\.)\s+|^\s+/.exec(line)?.[0] ?? "";
    const indent = lead.startsWith(">") ? lead : " ".repeat(lead.length);
    const lines: string[] = [];
    let cur = "";
    let curWidth = 0;
    let breakAt = -1;
    let prev = "";
    for (const g of clustersOf(line)) {
      const w = widthOf(g);
      if (g === " " || g === "\t") {
        if (cur.length > 0 && prev !== " " && prev !== "\t") breakAt = cur.length;
        cur += g;
        curWidth += w;
        prev = g;
        continue;
      }
      const cjk = CJK_CHAR.test(prev) && CJK_CHAR.test(g) && !NO_START.test(g) && !NO_END.test(prev);
      if (prev !== "" && prev !== " " && prev !== "\t" && cjk) breakAt = cur.length;
      if (curWidth + w > columns && breakAt > (lines.length === 0 ? lead.length : indent.length)) {
        lines.push(cur.slice(0, breakAt).replace(/[ \t]+$/, ""));
        cur = indent + cur.slice(breakAt).replace(/^[ \t]+/, "");
        curWidth = width(cur);
        breakAt = -1;
      }
      cur += g;
      curWidth += w;
      prev = g;
    }
    lines.push(cur);
    return lines.join("\n");
  }

  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const tricky = ["様", "ア", "\u3099", "\u0301", "\u200D", "\uFE0F", "👩", "👧", "🏻", "🇯", "🇵", "\uD83C", "\uDDE6", "、", "（", "Ａ", "한", "\u{E0067}", "😀", "𠮷", "。"];
  const plain = ["a", "word", " ", "  ", "\t", "> ", "- ", "1. ", "https://corp.example/unsubscribe?u=0123456789abcdef", "x".repeat(80), "\n", "\r\n", "\r"];
  const referenceText = (text: string, columns: number) => {
    let out = "";
    let from = 0;
    for (const m of text.matchAll(/\r\n|\r|\n/g)) {
      out += referenceLine(text.slice(from, m.index), columns) + m[0];
      from = m.index + m[0].length;
    }
    return out + referenceLine(text.slice(from), columns);
  };

  it("gives the width of the clusters, summed, on generated strings with marks, joiners, flags and lone surrogates", () => {
    for (let k = 0; k < 3000; k++) {
      let s = "";
      const len = next() % 12;
      for (let i = 0; i < len; i++) s += tricky[next() % tricky.length];
      expect(displayWidth(s), JSON.stringify(s)).toBe(width(s));
    }
  });

  it("wraps generated text exactly as the reference does", () => {
    for (let k = 0; k < 3000; k++) {
      let s = "";
      const len = next() % 60;
      const pool = next() % 3 === 0 ? plain : [...plain, ...tricky, ...tricky];
      for (let i = 0; i < len; i++) s += pool[next() % pool.length];
      for (const columns of [72, 20]) expect(wrapText(s, columns), JSON.stringify(s)).toBe(referenceText(s, columns));
    }
  });
});

describe("the layout in the composed bytes", () => {
  it("inlines the CSS: one <style> is left, holding @media rules only and no content:", async () => {
    const { mail } = await previewOf(jaRepo());
    const html = String(mail!.html);
    const styles = [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]!);
    expect(styles.length).toBe(1);
    const outside = styles[0]!.replace(/@media[^{]*\{(?:[^{}]*\{[^{}]*\})*[^{}]*\}/g, "").trim();
    expect(outside).toBe("");
    expect(styles[0]).toContain("prefers-color-scheme: dark");
    expect(styles[0]).toContain("max-width: 620px");
    expect(styles[0]).not.toMatch(/content\s*:/);
    // Every element of the body carries its inlined style; images scale; the card is 600 px at most.
    for (const tag of ["h1", "h2", "p", "blockquote", "strong"].slice(0, 4)) expect(html).toMatch(new RegExp(`<${tag} style="[^"]+"`));
    expect(html).toMatch(/class="nl-card"[^>]*style="[^"]*max-width: 600px/);
    expect(html).toContain("Hiragino Kaku Gothic ProN");
    expect(html).toContain("Noto Sans CJK JP");
  });

  const OWN_LAYOUT = `<!DOCTYPE html><html lang="{{ lang }}"><head><meta charset="utf-8">
<style>.box { border: 2px solid {{ brand_color }}; padding: 12px; } @media (max-width: 600px) { .box { padding: 4px !important; } }</style>
</head><body>{{ preheader }}<div class="box">{{ content }}</div><footer>{{ footer }}</footer></body></html>
`;

  it("uses a repository's own layout from layout.file, inlines it, and puts it in the digest", async () => {
    const config = fixtureFiles()[".github/newsletter.yml"]!.replace("layout:\n", "layout:\n  file: .github/newsletter-layout.html\n");
    const root = jaRepo({ ".github/newsletter.yml": config, ".github/newsletter-layout.html": OWN_LAYOUT });
    const { code, mail, stderr } = await previewOf(root);
    expect(code, stderr).toBe(0);
    expect(String(mail!.html)).toContain('<div class="box" style="border: 2px solid #c2410c; padding: 12px;">');
    expect(String(mail!.html)).toContain("配信停止");

    const digest = async (r: string) => JSON.parse((await runCli(["manifest", JA_DIR], { cwd: r })).stdout).digest as string;
    const other = jaRepo({ ".github/newsletter.yml": config, ".github/newsletter-layout.html": OWN_LAYOUT.replace("12px", "13px") });
    expect(await digest(root)).toMatch(/^[0-9a-f]{64}$/);
    expect(await digest(other)).not.toBe(await digest(root));
  });

  it.each([
    ["no {{ content }}", OWN_LAYOUT.replace("{{ content }}", ""), "{{ content }} must appear exactly once"],
    ["no footer", OWN_LAYOUT.replace("{{ footer }}", ""), "must show the unsubscribe link"],
    ["an unknown slot", OWN_LAYOUT.replace("{{ lang }}", "{{ first_name }}"), "{{ first_name }} is not a layout slot"],
    ["a script", OWN_LAYOUT.replace("</head>", "<script>1</script></head>"), "may not hold <script>"],
  ])("check refuses a layout with %s", async (_, layout, message) => {
    const config = fixtureFiles()[".github/newsletter.yml"]!.replace("layout:\n", "layout:\n  file: .github/newsletter-layout.html\n");
    const root = jaRepo({ ".github/newsletter.yml": config, ".github/newsletter-layout.html": layout });
    const r = await runCli(["check", JA_DIR], { cwd: root });
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("layout-invalid");
    expect(r.stdout + r.stderr).toContain(message);
  });

  it("refuses a layout whose <style> keeps text juice cannot inline (content: inside @media)", async () => {
    const config = fixtureFiles()[".github/newsletter.yml"]!.replace("layout:\n", "layout:\n  file: .github/newsletter-layout.html\n");
    const layout = OWN_LAYOUT.replace("</style>", "@media screen { .box::before { content: 'write to us'; } }</style>");
    const root = jaRepo({ ".github/newsletter.yml": config, ".github/newsletter-layout.html": layout });
    const r = await previewOf(root);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/content:|cannot be inlined/);
  });

  it.each([
    ["plain", "content: 'write to us'"],
    // (juice writes the CSS back without the blank that ends an escape: `con\\74 ent` comes out as
    // `con\\74ent`, U+074E, which no browser reads as `content`; these stay `content` through it)
    ["a hex escape in the name", "con\\000074ent: 'write to us'"],
    ["a six-digit escape", "\\000063ontent: 'write to us'"],
    ["an escape ending in a tab", "co\\6e\ttent: 'write to us'"],
    ["an escaped letter", "c\\ontent: 'write to us'"],
    ["upper case and an escape", "CO\\4E TENT : 'write to us'"],
  ])("refuses content: in a kept @media rule however its name is written (%s)", (_, declaration) => {
    const html = `<html><head><style>@media screen { .box::before { ${declaration}; } }</style></head><body><div class="box">x</div></body></html>`;
    expect(() => inlineCss(html, "layout.html")).toThrow("a `content:` declaration is not allowed");
  });

  it("refuses a <style> in body.md: inlined, it would restyle the footer (hide the unsubscribe link)", async () => {
    const body = fixtureFiles()[`${JA_DIR}/body.md`]!;
    const r = await previewOf(jaRepo({ [`${JA_DIR}/body.md`]: `${body}\n<style>.nl-foot { display: none; }</style>\n` }));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("holds a <style> or <link> element");
  });

  it("the guard scans the final bytes with a layout: an address in the layout aborts the preview", async () => {
    const config = fixtureFiles()[".github/newsletter.yml"]!.replace("layout:\n", "layout:\n  file: .github/newsletter-layout.html\n");
    const layout = OWN_LAYOUT.replace("<footer>", "<p>hanako.sato@example.net</p><footer>");
    const root = jaRepo({ ".github/newsletter.yml": config, ".github/newsletter-layout.html": layout });
    const r = await previewOf(root);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("guard");
    expect(r.stderr).not.toContain("hanako.sato@example.net");
  });
});

describe("compose once, fill per recipient, with a layout and Japanese", () => {
  it("is byte-identical to the reference composer for the Japanese fixture, with the built-in and an own layout", () => {
    const files = fixtureFiles();
    const meta = parseNewsletterMeta(files[`${JA_DIR}/newsletter.yml`]!, "n.yml").meta!;
    const own = { file: ".github/l.html", text: `<html><head><style>p { color: #333; }</style></head><body>{{ content }}{{ footer }}</body></html>` };
    for (const layout of [null, own]) {
      for (const approval of [false, true]) {
        const config = parseConfig(files[".github/newsletter.yml"]!).config!;
        const plan = makePlan({
          id: "2026-12-01-fuyu-news", config, meta, body: files[`${JA_DIR}/body.md`]!, digest: "e".repeat(64), secret: "s".repeat(32),
          date: new Date(Date.UTC(2026, 11, 1)), layout, ...(approval ? { approvalCopy: { banner: "> **承認用コピー**" } } : {}),
        });
        const names = ["山田", "佐藤 花子", "長い名前".repeat(30), "emoji 👩‍👩‍👧 ".repeat(12), "a=b\r\n.c", ""];
        names.forEach((first_name, i) => {
          const addr = `user${i}@example.com`;
          const row = { first_name, plan: i % 2 ? "ビジネス" : "フリープラン".repeat(15) };
          expect(plan.messageFor(addr, row).raw.equals(plan.referenceMessageFor(addr, row).raw), `${first_name} ${layout?.file}`).toBe(true);
        });
      }
    }
  });
});
