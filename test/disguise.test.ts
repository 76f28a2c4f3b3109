/**
 * Disguised addresses (docs/design.md, "Address detection" and "The
 * per-message guard"): another customer's address that a reader still
 * recognises, in about every disguise we know of. Every case runs twice,
 * through each layer alone: the static checks, and composition + the guard
 * with the checks bypassed. Near-misses must pass both.
 */
import { describe, expect, it } from "vitest";
import { mask } from "../src/address/mask.ts";
import type { RuleId } from "../src/findings/rules.ts";
import { baseWorld, checkWorld, DIR, guardWorld, LAYOUT, OTHERS, RCPT, withFields, type Files } from "./helpers/disguise-world.ts";

const H = "hanako@shop.example";
const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
const BODY = `${DIR}/body.md`;
const META = `${DIR}/newsletter.yml`;

type Case = {
  cls: string;
  name: string;
  change: (w: Files) => Files;
  /** The check must report one of these rules (as an error). */
  check: readonly RuleId[];
  /** The world of the guard-alone run, when it differs (what only an admin's layout can carry). */
  guard?: (w: Files) => Files;
};

const LEAK: readonly RuleId[] = ["leak-list-address"];
const HTML: readonly RuleId[] = ["leak-list-address", "html-unsupported"];
const FIELD: readonly RuleId[] = ["list-address-in-field", "list-field-unclean"];

const inBody = (line: string) => (w: Files): Files => ({ ...w, [BODY]: `Hello {{ first_name }},\n\n${line}\n\nThanks.\n` });
const inField = (values: Record<string, string>, body?: string) => (w: Files): Files => {
  const v = withFields(w, values);
  return body === undefined ? { ...v, [BODY]: "Hello {{ first_name }} of {{ company }},\n\nOur winter update.\n" } : { ...v, [BODY]: body };
};

const body = (cls: string, name: string, line: string, check = LEAK): Case => ({ cls, name, change: inBody(line), check });
/**
 * A `<style>` case: in the body for check (which refuses it, as the renderer does), and in an
 * admin's layout for the guard-alone run, the one way a `<style>` reaches a message.
 */
const styled = (name: string, css: string): Case => ({
  cls: "html",
  name,
  change: inBody(`<style>${css}</style>`),
  guard: (w) => ({
    ...w,
    // Inside @media, which the inliner (juice) keeps in the <style> as written; `con\74 ent` is
    // `content` to a CSS parser (an escaped identifier), and a list marker may be a string.
    [LAYOUT]: `<!DOCTYPE html><html><head><style>@media (max-width: 600px) { p { margin: 0; } ${css} }</style></head><body>{{ content }}{{ footer }}</body></html>`,
  }),
  check: HTML,
});
const field = (name: string, value: string): Case => ({ cls: "field", name, change: inField({ company: value }), check: FIELD });

const CASES: Case[] = [
  // Spacing and line breaks
  body("spacing", "space before @", "Write to hanako @shop.example today."),
  body("spacing", "space after @", "Write to hanako@ shop.example today."),
  body("spacing", "spaces around @", "Write to hanako @ shop.example today."),
  body("spacing", "spaces around @ and the dots", "Write to jiro . sato @ shop . example today."),
  body("spacing", "dotted local part, space before @", "Write to jiro.sato @shop.example today."),
  body("spacing", "tabs around @", "Write to hanako\t@\tshop.example today."),
  body("spacing", "line break before @", "Write to hanako\n@shop.example today."),
  body("spacing", "line break after @", "Write to hanako@\nshop.example today."),
  body("spacing", "ideographic spaces around a full-width @", "連絡先: hanako　＠　shop.example"),
  body("spacing", "no-break spaces as references", "Write to hanako&nbsp;@&nbsp;shop.example today."),
  body("spacing", "the incident paste, one space added per address", "Customers: hanako @shop.example, jiro.sato @shop.example"),
  // At and dot as words
  body("words", "at and dot as words", "Write to hanako at shop dot example."),
  body("words", "AT and DOT in capitals", "Write to hanako AT shop DOT example."),
  body("words", "at as a word, a real dot", "Write to hanako at shop.example."),
  body("words", "dot and at words in the local part", "Write to jiro dot sato at shop dot example."),
  body("words", "atmark as a word", "Write to hanako atmark shop.example."),
  body("words", "Japanese アット", "連絡先はhanakoアットshop.exampleです"),
  body("words", "Japanese あっと and ドット", "連絡先は hanako あっと shop ドット example です"),
  body("words", "Japanese アット and どっと", "hanakoアットshopどっとexample"),
  body("words", "full-width words", "hanako ａｔ shop ｄｏｔ example"),
  // Lookalike @ and .
  body("lookalike", "circled a ⓐ (U+24D0)", "hanakoⓐshop.example"),
  body("lookalike", "circled A Ⓐ (U+24B6)", "hanakoⒶshop.example"),
  body("lookalike", "small commercial at ﹫ (U+FE6B), spaced", "hanako ﹫ shop.example"),
  body("lookalike", "parenthesised a ⒜ (U+249C)", "hanako⒜shop.example"),
  body("lookalike", "squared A 🄰 (U+1F130)", "hanako🄰shop.example"),
  body("lookalike", "negative circled A 🅐 (U+1F150)", "hanako🅐shop.example"),
  body("lookalike", "middle dot · (U+00B7)", "hanako@shop·example"),
  body("lookalike", "Lisu tone mark ꓸ (U+A4F8)", "hanako@shopꓸexample"),
  body("lookalike", "one dot leader ․ (U+2024), spaced", "hanako @ shop․example"),
  body("lookalike", "hyphenation point ‧ (U+2027)", "hanako@shop‧example"),
  body("lookalike", "bullet operator ∙ (U+2219)", "hanako@shop∙example"),
  body("lookalike", "dot operator ⋅ (U+22C5)", "hanako@shop⋅example"),
  body("lookalike", "katakana middle dot ・ (U+30FB)", "jiro・sato@shop・example"),
  body("lookalike", "Arabic full stop ۔ (U+06D4)", "hanako@shop۔example"),
  body("lookalike", "Greek ano teleia · (U+0387)", "hanako@shop·example"),
  body("lookalike", "Vai full stop ꘎ (U+A60E)", "hanako@shop꘎example"),
  body("lookalike", "ⓐ and · together", "hanakoⓐshop·example"),
  body("lookalike", "word separator middle dot ⸱ (U+2E31)", "hanako@shop⸱example"),
  // Invisible controls
  body("controls", "right-to-left override U+202E", "Write to \u202eelpmaxe.pohs@okanah\u202c today."),
  body("controls", "right-to-left isolate U+2067", "Write to \u2067elpmaxe.pohs@okanah\u2069 today."),
  body("controls", "right-to-left embedding U+202B", "Write to \u202belpmaxe.pohs@okanah\u202c today."),
  body("controls", "override written as character references", "Write to &#x202E;elpmaxe.pohs@okanah&#x202C; today."),
  body("controls", "override left open to the end of the line", "Write to \u202eelpmaxe.pohs@okanah"),
  body("controls", "direction marks around a spaced @", "hanako \u200e@\u200f shop.example"),
  // HTML and CSS
  body("html", "over-long hex reference &#x0000040;", "hanako&#x0000040;shop.example"),
  body("html", "over-long decimal reference", "hanako&#0000000064;shop.example"),
  body("html", "reference to ⓐ", "hanako&#x24D0;shop.example"),
  body("html", "title attribute, spaced", '<span title="hanako @ shop.example">Hi</span>'),
  body("html", "alt attribute, as words", '<img alt="hanako at shop dot example" src="https://corp.example/a.png">', HTML),
  styled("<style> with a CSS escape", 'p::after { con\\74 ent: "hanako\\40 shop.example"; }'),
  body("html", "style attribute with CSS escapes", "<span style=\"content: 'hanako\\40 shop\\2e example'\">x</span>", HTML),
  styled("six-digit CSS escape", 'p::before { con\\74 ent: "hanako\\000040shop.example"; }'),
  styled("CSS escape of ⓐ", 'li { list-style-type: "hanako\\24d0 shop.example"; }'),
  // Hidden payloads
  body("payload", "link to a base64 data: URI", `[our terms](data:text/plain;base64,${b64(`Contact ${H}`)})`, HTML),
  body("payload", "data: URI, percent-encoded", '<a href="data:text/plain,hanako%40shop.example">terms</a>', HTML),
  body("payload", "img of an SVG whose text is an address", `<img src="data:image/svg+xml;base64,${b64(`<svg xmlns="http://www.w3.org/2000/svg"><text>${H}</text></svg>`)}" alt="logo">`, HTML),
  body("payload", "SVG data: URI, percent-encoded, spaced", '<img src="data:image/svg+xml,%3Csvg%3E%3Ctext%3Ehanako%20%40%20shop.example%3C/text%3E%3C/svg%3E" alt="x">', HTML),
  body("payload", "data:text/html holding a reference", `<a href="data:text/html;base64,${b64("<p>hanako&#64;shop.example</p>")}">x</a>`, HTML),
  body("payload", "inline SVG text", '<svg><text x="0" y="10">hanako @ shop.example</text></svg>', HTML),
  body("payload", "iframe srcdoc", '<iframe srcdoc="hanako &#64; shop.example"></iframe>', HTML),
  body("payload", "object with a data: payload", `<object data="data:text/plain;base64,${b64(H)}"></object>`, HTML),
  body("payload", "RFC 2047 encoded-word in the body", `=?utf-8?B?${b64(H)}?=`),
  body("payload", "bare base64 in the body", `Reference: ${b64(H)}`),
  // Suppressed addresses
  body("suppressed", "suppressed, spaced", "Write to saburo @ shop.example today."),
  body("suppressed", "suppressed, lookalikes", "saburoⓐshop·example"),
  // List fields a placeholder uses (the recipient's own row)
  field("a spaced address", "hanako @ shop.example"),
  field("an address as words", "hanako at shop dot example"),
  field("ⓐ", "hanakoⓐshop.example"),
  field("a reversed address", "\u202eelpmaxe.pohs@okanah"),
  field("a line break before @", "hanako\n@shop.example"),
  field("base64", b64(H)),
  field("an RFC 2047 B encoded-word", `=?utf-8?B?${b64(H)}?=`),
  field("an RFC 2047 Q encoded-word", "=?utf-8?Q?hanako=40shop.example?="),
  field("an over-long reference", "hanako&#x0000040;shop.example"),
  field("middle dots", "hanako@shop·example"),
  { cls: "field", name: "assembled from two fields over a line break", change: inField({ first_name: "hanako", company: "shop.example" }, "Hi {{ first_name }}\n@{{ company }}\n"), check: ["placeholder-address"] },
  { cls: "field", name: "assembled from two fields", change: inField({ first_name: "hanako", company: "shop.example" }, "Hi {{ first_name }}@{{ company }}\n"), check: ["placeholder-address"] },
  { cls: "field", name: "assembled from a field and a fixed domain", change: inField({ first_name: "hanako" }, "Hi {{ first_name }} @ shop.example\n"), check: ["placeholder-address"] },
  // Allowlisting does not excuse a list member
  {
    cls: "allowlist",
    name: "a list member at an allowlisted domain, spaced",
    change: (w) => ({ ...inBody("Write to ann @ corp.example today.")(w), "recipients/customers.csv": `${w["recipients/customers.csv"]}ann@corp.example,Ann,Corp\n` }),
    check: LEAK,
  },
  // reply_to
  { cls: "reply_to", name: "reply_to is another customer", change: (w) => ({ ...w, [META]: `${w[META]}reply_to: ${H}\n` }), check: ["leak-list-address"] },
  { cls: "reply_to", name: "reply_to display-name form naming another customer", change: (w) => ({ ...w, [META]: `${w[META]}reply_to: "Support <${H}>"\n` }), check: ["leak-list-address"] },
];

/** Must pass both layers: what a newsletter says every day. */
const NEAR_MISSES: Array<{ name: string; change: (w: Files) => Files }> = [
  { name: "a social handle", change: inBody("Follow us @corpnews and on https://social.example/@corpnews.") },
  { name: "meet us at the booth", change: inBody("Meet us at the example.com booth at 10:00 at Tokyo Big Sight.") },
  { name: "version strings", change: inBody("Upgrade to v4.2.0 @ 2026-12-01; lib@4.2.0 and pkg@1.2.3-rc.1 ship too.") },
  { name: "a retina image name", change: inBody("![logo](https://corp.example/logo@2x.png)") },
  { name: "Japanese with full-width punctuation", change: inBody("東京・大阪・名古屋で開催します。詳細は、ウェブサイト（corp.example）をご覧ください！") },
  { name: "our own address, full-width, in Japanese", change: inBody("お問い合わせは support＠corp.example まで。") },
  { name: "our own address, spaced", change: inBody("Questions? Write to support @ corp.example.") },
  { name: "prices and times with @", change: inBody("Seats: 3 @ ¥5,000 each, doors open @ 18:30.") },
  { name: "dot-com as a word", change: inBody("Back in the dot-com era, at most 10 people were at the office dot party.") },
  { name: "a Japanese name with a middle dot in a field", change: inField({ first_name: "ジョン・スミス", company: "株式会社サンプル・東京" }) },
  { name: "non-ASCII letters in a field", change: inField({ first_name: "José", company: "AT&T Japan" }) },
  { name: "the recipient's own address in a field, spaced", change: inField({ company: "taro @ customers.example" }) },
  { name: "an at-home phrase in Japanese", change: inBody("アットホームな雰囲気のイベントです。") },
  { name: "a sentence ending in a dot next to an address-like word", change: inBody("We moved. Example.com is our old site; see corp.example now.") },
];

function rulesOf(findings: ReadonlyArray<{ rule: string; severity: string }>): string[] {
  return findings.filter((f) => f.severity === "error").map((f) => f.rule);
}

const ALL_ADDRESSES = [RCPT, ...OTHERS];

function noAddressInFull(text: string): void {
  for (const a of ALL_ADDRESSES) expect(text.toLowerCase()).not.toContain(a);
}

describe("disguised addresses: at least 60 cases, each through each layer alone", () => {
  it("has at least 60 cases and 10 near-misses", () => {
    expect(CASES.length).toBeGreaterThanOrEqual(60);
    expect(NEAR_MISSES.length).toBeGreaterThanOrEqual(10);
  });

  describe.each(CASES.map((c) => [`${c.cls}: ${c.name}`, c] as const))("%s", (_n, c) => {
    it("check refuses it", async () => {
      const r = await checkWorld(c.change(baseWorld()));
      const rules = rulesOf(r.findings);
      expect(r.ok, JSON.stringify(rules)).toBe(false);
      expect(rules.some((x) => c.check.includes(x as RuleId)), `${JSON.stringify(rules)} holds none of ${c.check.join(", ")}`).toBe(true);
      noAddressInFull(JSON.stringify(r.findings));
    });
    it("the guard aborts it with check bypassed", () => {
      const v = guardWorld((c.guard ?? c.change)(baseWorld()));
      expect(v.ok, "the guard let it through").toBe(false);
      if (v.ok) return;
      expect(["foreign-address", "unparseable"]).toContain(v.reason);
      noAddressInFull(JSON.stringify(v));
    });
  });
});

describe("near-misses pass both layers", () => {
  it("the base world passes both", async () => {
    expect((await checkWorld(baseWorld())).ok).toBe(true);
    expect(guardWorld(baseWorld()).ok).toBe(true);
  });
  describe.each(NEAR_MISSES.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    it("check passes it", async () => {
      const r = await checkWorld(c.change(baseWorld()));
      expect(rulesOf(r.findings)).toEqual([]);
    });
    it("the guard passes it", () => {
      const v = guardWorld(c.change(baseWorld()));
      expect(v, JSON.stringify(v)).toEqual({ ok: true });
    });
  });
});

describe("messages", () => {
  it("an unclean field is named by list, row and column, its value masked", async () => {
    const r = await checkWorld(inField({ company: "Shop\u202e KK" })(baseWorld()));
    const f = r.findings.find((x) => x.rule === "list-field-unclean")!;
    expect(f).toMatchObject({ file: "recipients/customers.csv", line: 2, column: 29 });
    expect(f.message).toContain("column `company`, row 1");
    expect(f.message).toContain("U+202E");
    expect(f.message).toContain("S*** (8 characters)");
    expect(f.message).not.toContain("Shop");
  });

  it("a field in disguise names the list, row and column, the address masked", async () => {
    const r = await checkWorld(inField({ company: "hanako at shop dot example" })(baseWorld()));
    const f = r.findings.find((x) => x.rule === "list-address-in-field")!;
    expect(f.file).toBe("recipients/customers.csv");
    expect(f.message).toContain("column `company`, row 1");
    expect(f.message).toContain(mask(H));
  });

  it("a column no placeholder uses is not judged", async () => {
    const w = withFields(baseWorld(), { company: "Shop\u202e KK" });
    expect((await checkWorld(w)).findings.filter((f) => f.rule === "list-field-unclean")).toEqual([]);
  });

  it("a guard refusal names the listed address masked", () => {
    const v = guardWorld(inBody("Write to hanako @ shop.example today.")(baseWorld()));
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.masked).toBe(mask(H));
  });
});

describe("strict reply_to", () => {
  const withReply = (v: string) => (w: Files): Files => ({ ...w, [META]: `${w[META]}reply_to: ${JSON.stringify(v)}\n` });

  it("a display-name form passes check and composes, and the guard passes it", async () => {
    const w = withReply("Example Support <support@corp.example>")(baseWorld());
    expect(rulesOf((await checkWorld(w)).findings)).toEqual([]);
    expect(guardWorld(w)).toEqual({ ok: true });
  });

  it.each([
    ["a local part ending in =", "help=@corp.example"],
    ["a local part with a slash", "help/desk@corp.example"],
    ["a display name holding an address", "hanako@shop.example <support@corp.example>"],
    ["a double dot", "help..desk@corp.example"],
  ])("%s is refused by check", async (_n, v) => {
    const r = await checkWorld(withReply(v)(baseWorld()));
    expect(r.ok).toBe(false);
    expect(rulesOf(r.findings).some((x) => x === "reply-to" || x === "schema" || x === "leak-list-address"), JSON.stringify(rulesOf(r.findings))).toBe(true);
  });
});

describe("an at sign at a line's edge (the guard reads such a line with its neighbour)", () => {
  // A CSS at-rule is not the rest of an address: the layout's `@media` lines must not send the
  // guard's quoted-printable part down its slow path in every message; a domain still is an edge.
  it.each([
    ["@media (prefers-color-scheme: dark) {", 0],
    ["@media only screen and (max-width: 620px) {", 0],
    ["  @supports (display: grid) {", 0],
    ["@example.com", -1],
    ["@media.example is our new domain", -1],
    ["@media", 0],
    ["＠media (x) {", -1],
    ["taro.yamada", 0],
    ["taro.yamada @", 1],
  ] as const)("%j → %d", async (line, edge) => {
    const { atEdge } = await import("../src/detect/disguise.ts");
    expect(atEdge(line)).toBe(edge);
  });

  it("an address split before the at sign is still caught by both layers, beside a layout's @media rules", async () => {
    const other = OTHERS[0]!;
    const [local, domain] = other.split("@") as [string, string];
    const w = inBody(`${local}\n@${domain}`)(baseWorld());
    expect((await checkWorld(w)).ok).toBe(false);
    expect(guardWorld(w).ok, "the guard let it through").toBe(false);
  });
});

describe("which lines the lax reading looks at (needsLaxReading)", () => {
  // The word "at" alone is prose; "at" before a label and a dot, or "dot" between labels, may join
  // an address. A footer's "at any time" line holds each recipient's own link: reading it laxly in
  // every message was the guard's largest cost.
  it.each([
    ["You can stop receiving these emails at any time: <a href=\"https://corp.example/unsubscribe?u=0a6c33617f5c\">Unsubscribe</a>", false],
    ["Meet us at the booth", false],
    ["taro at example dot com", true],
    ["taro at example.com", true],
    ["taro at <b>example</b>.com", true],
    ["taro dot yamada at shop dot example", true],
    ["taro atmark example . com", true],
    ["hanako (at) shop (dot) example", true],
    ["hanako[at]shop[dot]example", true],
    ["the adotb and xdot com", false],
  ] as const)("%j → %s", async (line, lax) => {
    const { needsLaxReading } = await import("../src/detect/disguise.ts");
    expect(needsLaxReading(line)).toBe(lax);
  });
});
