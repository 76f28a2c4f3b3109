import { describe, expect, it } from "vitest";
import type { Finding } from "../src/findings/finding.ts";
import { decodeEntities, decodeMimeBody } from "../src/detect/decode.ts";
import { extractAddresses, findAddresses } from "../src/detect/extract.ts";
import { mapped, replaceMapped, originalSpan } from "../src/detect/mapped.ts";
import { redactAddresses } from "../src/detect/redact.ts";
import { checkLeaks, type LeakContext } from "../src/check/leak/scan.ts";

/** Every finding any test here produced: at the end, none may hold an address in full. */
const allFindings: Finding[] = [];
const allListAddresses = new Set<string>();

function scan(sources: Array<{ file: string; text: string; baseLine?: number; baseColumn?: number }>, ctx: Partial<LeakContext> = {}) {
  const full: LeakContext = {
    listAddresses: ctx.listAddresses ?? new Set<string>(),
    allowAddresses: ctx.allowAddresses ?? new Set<string>(),
    allowDomains: ctx.allowDomains ?? [],
    ...(ctx.maxFindingsPerRule !== undefined ? { maxFindingsPerRule: ctx.maxFindingsPerRule } : {}),
  };
  const r = checkLeaks(sources, full);
  allFindings.push(...r.findings);
  if (full.listAddresses instanceof Set) for (const a of full.listAddresses) allListAddresses.add(a);
  return r;
}

const TARO = "taro@example.com";

/** Each way of writing taro@example.com, as it appears in a body. */
const VARIANTS: ReadonlyArray<[name: string, written: string]> = [
  ["plain", "taro@example.com"],
  ["upper case", "TARO@Example.COM"],
  ["full-width", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ"],
  ["full-width at only", "taro＠example.com"],
  ["ideographic full stop", "taro@example。com"],
  ["decimal entity", "taro&#64;example.com"],
  ["hex entity", "taro&#x40;example&#x2E;com"],
  ["named entities", "taro&commat;example&period;com"],
  ["entity without semicolon", "taro&#64example.com"],
  ["named references of letters (ª º, NFKC a o)", "t&ordf;r&ordm;&commat;example&period;c&ordm;m"],
  ["percent-encoded", "taro%40example%2Ecom"],
  ["Markdown backslash escape", "taro\\@example\\.com"],
  ["YAML unicode escape", "taro\\u0040example.com"],
  ["[at] [dot]", "taro[at]example[dot]com"],
  ["spaced [at] [dot]", "taro [at] example [dot] com"],
  ["(at) (dot)", "taro (at) example (dot) com"],
  ["{at} {dot}", "taro{at}example{dot}com"],
  ["<at> <dot>", "taro<at>example<dot>com"],
  ["upper-case [AT]", "taro[AT]example[DOT]com"],
  ["full-width brackets", "taro［ａｔ］example［ｄｏｔ］com"],
  ["zero-width space", "ta\u200bro@exam\u200bple.com"],
  ["zero-width entity", "taro&#8203;@example.com"],
  ["soft hyphen", "taro@exam\u00adple.com"],
  ["アットマーク", "taroアットマークexample.com"],
  ["アットマーク ドット", "taro アットマーク example ドット com"],
  ["spaced words (weak, but on the list)", "taro at example dot com"],
];

describe("every obfuscation is caught at its own line and column", () => {
  it.each(VARIANTS)("%s", (_name, written) => {
    const found = findAddresses(`x ${written} y`);
    expect(found.map((f) => f.address)).toEqual([TARO]);
    // The span is exactly the address as written in the original text.
    expect(`x ${written} y`.slice(found[0]!.offset, found[0]!.offset + found[0]!.length)).toBe(written);
  });

  it("reports each variant in one body with 1-based line and column of the original text", () => {
    const prefixes = ["- ", "お問い合わせは", "Contact: ", "| 1 | ", "<a href=\"mailto:"];
    const lines: string[] = ["# Heading", ""];
    const expected: Array<{ line: number; column: number }> = [];
    VARIANTS.forEach(([, written], i) => {
      const prefix = prefixes[i % prefixes.length]!;
      lines.push(`${prefix}${written}${i % 2 ? "まで。" : " today."}`);
      expected.push({ line: lines.length, column: prefix.length + 1 });
    });
    const r = scan([{ file: "newsletters/2026-01-15-x/body.md", text: lines.join("\n") }], { listAddresses: new Set([TARO]) });
    const leaks = r.findings.filter((f) => f.rule === "leak-list-address");
    expect(leaks.map((f) => ({ line: f.line, column: f.column }))).toEqual(expected);
    expect(leaks.every((f) => f.severity === "error" && f.file === "newsletters/2026-01-15-x/body.md")).toBe(true);
    expect(leaks[0]!.message).toContain("t***@e***.com");
    expect(r.distinct).toBe(1);
  });

  it("finds mailto: links with percent-encoding and HTML attributes", () => {
    const text = '<a href="mailto:hanako%40example.net?subject=Hi">mail</a> and [x](mailto:jiro&#64;example.org)';
    expect(findAddresses(text).map((f) => f.address)).toEqual(["hanako@example.net", "jiro@example.org"]);
  });

  it("counts CRLF files and a subject placed inside newsletter.yml", () => {
    const yml = 'recipients: customers\r\nsubject: "Hello taro&#64;example.com"\r\n';
    const r = scan([{ file: "n.yml", text: yml }], { listAddresses: new Set([TARO]) });
    const f = r.findings.find((x) => x.rule === "leak-list-address")!;
    expect([f.line, f.column]).toEqual([2, 17]);
    // A text that starts at line 7, column 10 of its file.
    const s = scan([{ file: "n.yml", text: "Hi taro@example.com", baseLine: 7, baseColumn: 10 }], { listAddresses: new Set([TARO]) });
    const g = s.findings.find((x) => x.rule === "leak-list-address")!;
    expect([g.line, g.column]).toEqual([7, 13]);
  });
});

describe("strong and weak candidates", () => {
  it("treats the spaced word 'at' as weak: a list hit is an error, anything else is ignored", () => {
    const text = "Slides are available at example.com. Write to alice at example dot com.";
    const found = findAddresses(text);
    expect(found.map((f) => [f.address, f.strong])).toEqual([
      ["available@example.com", false],
      ["alice@example.com", false],
    ]);
    const none = scan([{ file: "b.md", text }]);
    expect(none.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(none.distinct).toBe(0);
    const hit = scan([{ file: "b.md", text }], { listAddresses: new Set(["alice@example.com"]) });
    const errors = hit.findings.filter((f) => f.severity === "error");
    expect(errors).toHaveLength(1);
    expect(errors[0]!.rule).toBe("leak-list-address");
    expect(errors[0]!.column).toBe(text.indexOf("alice") + 1);
  });

  it("holds strong unknown addresses against allow_addresses and allow_domains (with subdomains)", () => {
    const text = [
      "support@corp.example",
      "press@news.corp.example",
      "info@partner.example",
      "spoof@evilcorp.example",
      "ceo@corp.example.evil.example",
    ].join("\n");
    const r = scan([{ file: "b.md", text }], {
      allowAddresses: new Set(["Info@Partner.example"]),
      allowDomains: ["corp.example"],
    });
    const unknown = r.findings.filter((f) => f.rule === "leak-unknown-address");
    expect(unknown.map((f) => f.line)).toEqual([4, 5]);
    expect(unknown[0]!.message).toContain("s***@e***.example");
    expect(r.distinct).toBe(5);
    const note = r.findings.find((f) => f.rule === "addresses-counted")!;
    expect(note.severity).toBe("note");
    expect(note.message).toMatch(/^5 distinct addresses/);
    expect(note.message).toContain("2 outside the allowlist, 3 allowlisted");
  });

  it("reports a list address even when it is allowlisted, naming the list", () => {
    const lists = new Map([["support@corp.example", "recipients/staff.csv"]]);
    const r = scan([{ file: "b.md", text: "Mail support@corp.example" }], { listAddresses: lists, allowDomains: ["corp.example"] });
    const f = r.findings.find((x) => x.rule === "leak-list-address")!;
    expect(f.message).toContain("recipients/staff.csv");
    expect(f.message).toContain("also allowlisted");
    expect(f.message).not.toContain("support@corp.example");
  });

  it("uses sourceOf() of an address book to name the list", () => {
    const book = { has: (a: string) => a === TARO, sourceOf: (a: string) => (a === TARO ? "recipients/suppressions.csv" : undefined) };
    const r = scan([{ file: "b.md", text: TARO }], { listAddresses: book });
    expect(r.findings[0]!.message).toContain("recipients/suppressions.csv");
  });
});

describe("no false alarms", () => {
  it("ignores handles, package versions, CSS at-rules and version strings", () => {
    const text = [
      "Follow https://social.example/@news and @news on the fediverse.",
      "Upgrade to v2.3.1: `npm i lib@4.2.0`, `pkg@1.2.3`, `@scope/sdk@4.2.0-rc.1`, `react@^18.2`, `x@latest`.",
      "<style>@media (max-width: 600px) { h1 { font-size: 20px } } @import url(a.css);</style>",
      "Meet @ 5pm, 100% @ 40%.",
      "Server at 192.0.2.1 — ssh admin@192.0.2.1",
    ].join("\n");
    expect(findAddresses(text)).toEqual([]);
  });

  it("marks image names like logo@2x.png weak but still looks them up in the lists", () => {
    const text = "![logo](https://cdn.corp.example/logo@2x.png) and icon@3x.webp";
    expect(findAddresses(text).map((f) => [f.address, f.strong])).toEqual([
      ["logo@2x.png", false],
      ["icon@3x.webp", false],
    ]);
    expect(scan([{ file: "b.md", text }]).findings.filter((f) => f.severity === "error")).toEqual([]);
    const hit = scan([{ file: "b.md", text }], { listAddresses: new Set(["logo@2x.png"]) });
    expect(hit.findings.filter((f) => f.rule === "leak-list-address")).toHaveLength(1);
  });

  it("keeps real domains that look numeric or sit in Japanese text", () => {
    expect(extractAddresses("wang@163.com")).toEqual(["wang@163.com"]);
    expect(extractAddresses("連絡先：taro@example.com。次のご案内です")).toEqual([TARO]);
    expect(extractAddresses("メールはtaro@example.comまでお送りください")).toEqual([TARO]);
    expect(extractAddresses("**taro@example.com**, _hanako@example.net_ 'jiro@example.org'")).toEqual([
      TARO,
      "hanako@example.net",
      "jiro@example.org",
    ]);
    expect(extractAddresses("https://corp.example/u?email=taro@example.com&x=1")).toEqual([TARO]);
    expect(extractAddresses("taro@example.com dot matrix printers")).toEqual([TARO]);
    expect(extractAddresses("o'brien@example.ie")).toEqual(["o'brien@example.ie"]);
  });

  it("converts IDN domains to ASCII and keeps non-ASCII local parts", () => {
    expect(extractAddresses("taro@bücher.example")).toEqual(["taro@xn--bcher-kva.example"]);
    expect(extractAddresses("太郎@example.net")).toEqual(["太郎@example.net"]);
  });

  it("returns only strong addresses from extractAddresses unless asked", () => {
    const text = "alice at example dot com, bob@example.com";
    expect(extractAddresses(text)).toEqual(["bob@example.com"]);
    expect(extractAddresses(text, { includeWeak: true })).toEqual(["alice@example.com", "bob@example.com"]);
  });
});

/** 13,011 customer addresses, as in the incident. */
function customers(n = 13011): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`customer.${String(i).padStart(5, "0")}@mail${i % 97}.example.com`);
  return out;
}

describe("the incident: 13,011 addresses in one body", () => {
  const addrs = customers();
  const list = new Set(addrs);
  const plain = `# 冬のお知らせ\n\n${addrs.join("\n")}\n`;
  const table = `| # | email | name |\n|---|---|---|\n${addrs.map((a, i) => `| ${i + 1} | ${a} | 顧客 ${i + 1} |`).join("\n")}\n`;

  it.each([
    ["plain list", plain, 3],
    ["Markdown table", table, 3],
  ])("catches every address of a %s, fast", (_name, body, firstLine) => {
    scan([{ file: "b.md", text: body }], { listAddresses: list }); // warm-up (JIT)
    const t0 = performance.now();
    const r = scan([{ file: "b.md", text: body }], { listAddresses: list });
    const ms = performance.now() - t0;
    expect(r.distinct).toBe(13011);
    const leaks = r.findings.filter((f) => f.rule === "leak-list-address");
    // 100 listed one by one, then one summary at the 101st occurrence.
    expect(leaks).toHaveLength(101);
    expect(leaks[0]!.line).toBe(firstLine);
    expect(leaks[100]!.line).toBe(firstLine + 100);
    expect(leaks[100]!.message).toBe("…and 12,911 more occurrences from here on, not listed one by one");
    const note = r.findings.find((f) => f.rule === "addresses-counted")!;
    expect(note.message).toMatch(/^13,011 distinct addresses in the content: 13,011 on a recipient or suppression list/);
    // Extract + Set.has takes tens of milliseconds; leave room for a loaded CI machine.
    expect(ms).toBeLessThan(1000);
    console.log(`13,011-address ${_name} (${Math.round(body.length / 1024)} KB): ${ms.toFixed(1)} ms`);
  });

  it("can list every single occurrence with its own line", () => {
    const r = scan([{ file: "b.md", text: plain }], { listAddresses: list, maxFindingsPerRule: Infinity });
    const leaks = r.findings.filter((f) => f.rule === "leak-list-address");
    expect(leaks).toHaveLength(13011);
    expect(leaks.every((f, i) => f.line === i + 3 && f.column === 1)).toBe(true);
  });

  it("reports them as unknown addresses when the list is not the one they came from", () => {
    const r = scan([{ file: "b.md", text: table }], { allowDomains: ["corp.example"] });
    expect(r.distinct).toBe(13011);
    expect(r.findings.filter((f) => f.rule === "leak-unknown-address")).toHaveLength(101);
    expect(r.findings.filter((f) => f.rule === "leak-list-address")).toHaveLength(0);
  });

  it("catches the full-width, entity-encoded and obfuscated versions of the whole list too", () => {
    const slice = addrs.slice(0, 2000);
    const body = slice
      .map((a, i) => {
        switch (i % 4) {
          case 0:
            return a.replace("@", "&#64;");
          case 1:
            return a.replace(/[!-~]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
          case 2:
            return a.replace("@", "[at]").replaceAll(".", "(dot)");
          default:
            return `<a href="mailto:${a.replace("@", "%40")}">x</a>`;
        }
      })
      .join("\n");
    const r = scan([{ file: "b.md", text: body }], { listAddresses: list, maxFindingsPerRule: Infinity });
    expect(r.distinct).toBe(2000);
    expect(r.findings.filter((f) => f.rule === "leak-list-address")).toHaveLength(2000);
  });
});

describe("a clean bilingual newsletter", () => {
  const body = [
    "# 冬のアップデート / Winter update",
    "",
    "{{ first_name }} 様、こんにちは。Hello {{ first_name }},",
    "",
    "![Example Corp](https://cdn.corp.example/img/logo@2x.png)",
    '<img src="https://cdn.corp.example/img/logo@2x.png" alt="logo" width="120">',
    "",
    "新しいバージョン v2.3.1 をリリースしました。`npm i lib@4.2.0` でインストールできます。",
    "We released v2.3.1 — install it with `npm i lib@4.2.0` (see the [changelog](https://corp.example/changelog)).",
    "",
    "Our booth is at example.org hall 2, and the slides are available at example.com afterwards.",
    "Follow us at https://social.example/@news for news.",
    "",
    "お問い合わせ：support@corp.example（平日 9:00〜18:00）",
    "Questions? Write to support&#64;corp.example or press@news.corp.example.",
    "",
    "<style>@media (max-width: 600px) { h1 { font-size: 20px; } }</style>",
    "",
    "[配信停止 / Unsubscribe]({{ unsubscribe_url }})",
    "",
  ].join("\n");
  const yml = 'subject: "冬のアップデート / Winter update"\nrecipients: customers\nreply_to: support@corp.example\n';

  it("has zero error findings and counts its own contact addresses", () => {
    const r = scan(
      [
        { file: "newsletters/2026-12-01-winter/newsletter.yml", text: yml },
        { file: "newsletters/2026-12-01-winter/body.md", text: body },
      ],
      {
        listAddresses: new Set(customers(500)),
        allowAddresses: new Set(["support@corp.example"]),
        allowDomains: ["corp.example"],
      },
    );
    expect(r.findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(r.distinct).toBe(2);
    expect(r.findings.map((f) => f.rule)).toEqual(["addresses-counted"]);
  });
});

describe("character references decode as a browser shows them in text (HTML §13.2.5.73, §13.2.5.80)", () => {
  it.each([
    ["a name from anywhere in the table", "&ordm; &fflig; &NotNestedGreaterGreater; &CounterClockwiseContourIntegral;", "º ﬀ ⪢̸ ∳"],
    ["a legacy name needs no semicolon", "&amp &nbsp&eacute &copy", "& \u00a0é ©"],
    ["any other name does", "taro&commat example&period com", "taro&commat example&period com"],
    ["the longest name wins", "&notin; &notit; &ampx;", "∉ ¬it; &x;"],
    ["an unknown name stays", "&zz; &hellox; & x &1;", "&zz; &hellox; & x &1;"],
    ["numeric references with leading zeros without limit", "&#x0000040; &#0000064; &#64 &#X2e;", "@ @ @ ."],
    ["a zero, a surrogate or an out-of-range number stays", "&#0; &#xD800; &#x110000;", "&#0; &#xD800; &#x110000;"],
    ["one layer only", "&amp;commat; &amp;#64;", "&commat; &#64;"],
  ])("%s", (_name, written, shown) => {
    expect(decodeEntities(mapped(written)).text).toBe(shown);
  });
});

describe("building blocks", () => {
  it("replaceMapped keeps every character's origin", () => {
    const ms = replaceMapped(mapped("a&amp;b"), /&amp;/g, () => "&");
    expect(ms.text).toBe("a&b");
    expect(originalSpan(ms, 1, 2)).toEqual({ offset: 1, length: 5 });
    expect(originalSpan(ms, 2, 3)).toEqual({ offset: 6, length: 1 });
    // Nothing to replace: the same object comes back, no arrays are built.
    const same = mapped("plain");
    expect(replaceMapped(same, /&amp;/g, () => "&")).toBe(same);
  });

  it("decodes quoted-printable and base64 MIME bodies (RFC 2045 §6.7, §6.8)", () => {
    expect(decodeMimeBody("Write to taro=40exam=\r\nple.com =E3=81=B8 =ZZ end", "quoted-printable")).toBe(
      "Write to taro@example.com へ =ZZ end",
    );
    expect(decodeMimeBody("a=3D=\nb   \nc", "Quoted-Printable")).toBe("a=b\nc");
    const b64 = Buffer.from("お問い合わせ: taro@example.com", "utf8").toString("base64").replace(/(.{16})/g, "$1\r\n");
    expect(decodeMimeBody(b64, "base64")).toBe("お問い合わせ: taro@example.com");
    expect(decodeMimeBody("7bit text", "7bit")).toBe("7bit text");
    expect(decodeMimeBody(Buffer.from("caf\xe9", "latin1").toString("base64"), "base64", "iso-8859-1")).toBe("café");
    expect(extractAddresses(decodeMimeBody("taro=40example.com", "quoted-printable"))).toEqual([TARO]);
  });

  it("tolerates broken encodings", () => {
    expect(findAddresses("100%4 %ZZ %E3%81 &#xZZ; &#0; &#55296; &unknown; \\u12")).toEqual([]);
  });

  it("redacts every address in a snippet", () => {
    expect(redactAddresses("{{ taro@example.com }} and taro[at]example[dot]com")).toBe("{{ t***@e***.com }} and t***@e***.com");
  });
});

describe("messages never hold an address in full", () => {
  it("over every finding produced in this file", () => {
    expect(allFindings.length).toBeGreaterThan(100);
    const messages = allFindings.map((f) => f.message).join("\n");
    // No address-shaped text survives, in any spelling the extractor knows…
    expect(extractAddresses(messages, { includeWeak: true })).toEqual([]);
    // …every `@` is the masked form's…
    expect(messages).not.toMatch(/(?<!\*\*\*)@/);
    // …and none of the addresses used here appears, list or not.
    for (const a of [TARO, "support@corp.example", "spoof@evilcorp.example", "alice@example.com", "customer.00001@mail1.example.com"]) {
      expect(messages).not.toContain(a);
    }
    expect(allListAddresses.size).toBeGreaterThan(13000);
    const localParts = new Set([...allListAddresses].map((a) => a.slice(0, a.indexOf("@"))));
    const leaked = messages.split(/[\s,;()]+/).filter((w) => localParts.has(w.replace(/@.*/, "")));
    expect(leaked).toEqual([]);
  });
});
