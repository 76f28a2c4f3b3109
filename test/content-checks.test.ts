import { describe, expect, it } from "vitest";
import type { Finding } from "../src/findings/finding.ts";
import { RULES } from "../src/findings/rules.ts";
import { codeRanges, inRanges } from "../src/check/content/code-ranges.ts";
import { checkContent } from "../src/check/content/index.ts";
import { checkLinks, stagingReason } from "../src/check/content/links.ts";
import { checkMarkers } from "../src/check/content/markers.ts";
import { BUILTIN_FIELDS, checkPlaceholders } from "../src/check/content/placeholders.ts";
import { checkBodySize } from "../src/check/content/size.ts";
import { extractAddresses } from "../src/detect/extract.ts";

const all: Finding[] = [];
const keep = (fs: Finding[]) => {
  all.push(...fs);
  for (const f of fs) expect(f.severity).toBe(RULES[f.rule].severity);
  return fs;
};

const BODY = "newsletters/2026-12-01-winter/body.md";
const COLUMNS = ["email", "first_name", "company"];

function placeholders(text: string, more: { emptyFields?: string[]; file?: string; baseLine?: number; baseColumn?: number } = {}) {
  return keep(
    checkPlaceholders({
      file: more.file ?? BODY,
      text,
      columns: COLUMNS,
      emptyFields: new Set(more.emptyFields ?? []),
      ...(more.baseLine !== undefined ? { baseLine: more.baseLine } : {}),
      ...(more.baseColumn !== undefined ? { baseColumn: more.baseColumn } : {}),
    }),
  );
}
const rulesOf = (fs: Finding[]) => fs.map((f) => f.rule);
const at = (fs: Finding[]) => fs.map((f) => [f.rule, f.line, f.column]);

describe("placeholders", () => {
  it("accepts columns and built-ins", () => {
    expect(placeholders("Hi {{ first_name }} of {{company}}, you are {{ email }}. [x]({{ unsubscribe_url }}) {{unsubscribe_token}}")).toEqual([]);
    expect([...BUILTIN_FIELDS]).toEqual(["email", "unsubscribe_url", "unsubscribe_token"]);
  });

  it("placeholder-unknown names the available columns and suggests a near miss", () => {
    const fs = placeholders("Hello\nDear {{ First_Name }} and {{ plan }}");
    expect(at(fs)).toEqual([
      ["placeholder-unknown", 2, 6],
      ["placeholder-unknown", 2, 27],
    ]);
    expect(fs[0]!.message).toContain("did you mean first_name?");
    expect(fs[1]!.message).toContain("columns: email, first_name, company");
    expect(fs[1]!.message).toContain("built-ins: email, unsubscribe_url, unsubscribe_token");
  });

  it("placeholder-empty for a column some row leaves empty", () => {
    expect(at(placeholders("Hi {{ company }}", { emptyFields: ["company"] }))).toEqual([["placeholder-empty", 1, 4]]);
    expect(placeholders("Hi {{ first_name }}", { emptyFields: ["company"] })).toEqual([]);
  });

  it("placeholder-syntax for malformed placeholders", () => {
    expect(rulesOf(placeholders("Hi {{ first name }}"))).toEqual(["placeholder-syntax"]);
    expect(rulesOf(placeholders("Hi {{ first_name"))).toEqual(["placeholder-syntax"]);
    expect(placeholders("Hi { first_name }")).toEqual([]);
  });

  it("placeholder-foreign for logic and other template languages", () => {
    const cases: Array<[string, number]> = [
      ["{{#each rows}}x{{/each}}", 1],
      ["Dear *|FNAME|*,", 6],
      ["Dear %%first_name%%,", 6],
      ["Dear ${firstName},", 6],
      ["{% if vip %}Hi{% endif %}", 1],
      ["Dear <%= user.name %>,", 6],
    ];
    for (const [text, column] of cases) {
      const fs = placeholders(text);
      expect(fs.length, text).toBeGreaterThan(0);
      expect(fs.every((f) => f.rule === "placeholder-foreign"), text).toBe(true);
      expect(fs[0]!.column, text).toBe(column);
    }
  });

  it("does not take prices, tables or prose for foreign syntax", () => {
    expect(placeholders("Price: $10 {off}; 50% off, 100%% sure? | **a** | *b* |\n|*x*|*y*|")).toEqual([]);
  });

  it("lets code spans and blocks in Markdown show other syntaxes", () => {
    const text = "Use `${name}` in JS.\n\n```erb\n<%= name %>\n{% raw %}\n```\n";
    expect(placeholders(text)).toEqual([]);
  });

  it("places subject findings inside newsletter.yml and masks addresses in snippets", () => {
    const fs = placeholders("Hi {{ frist_name }}", { file: "n.yml", baseLine: 3, baseColumn: 11 });
    expect(at(fs)).toEqual([["placeholder-unknown", 3, 14]]);
    const s = placeholders("{{ taro@example.com }}");
    expect(rulesOf(s)).toEqual(["placeholder-syntax"]);
    expect(s[0]!.message).toContain("t***@e***.com");
    expect(s[0]!.message).not.toContain("taro@example.com");
  });
});

function markers(text: string, kind: "subject" | "body" = "body") {
  return keep(checkMarkers({ file: kind === "subject" ? "n.yml" : BODY, text, kind }));
}

describe("test markers", () => {
  it.each([
    ["[TEST] Winter update", "subject", 1],
    ["TEST: Winter update", "subject", 1],
    ["Winter update DRAFT", "subject", 15],
    ["Draft - winter update", "subject", 1],
    ["Intro\n[draft] text", "body", 1],
    ["Intro\nTEST: delete me", "body", 1],
    ["Intro\n## TEST: heading", "body", 4],
    ["TODO: add the link", "body", 1],
    ["See FIXME below", "body", 5],
    ["Call XXX-XXXX", "body", 6],
    ["Lorem ipsum dolor sit amet", "body", 1],
    ["これはテスト送信です", "body", 4],
    ["【テスト】冬のお知らせ", "subject", 1],
    ["冬のお知らせ（テスト）", "subject", 7],
    ["ダミーテキスト", "body", 1],
  ] as const)("%s", (text, kind, column) => {
    const fs = markers(text, kind);
    expect(rulesOf(fs)).toEqual(["test-marker"]);
    expect(fs[0]!.line).toBe(text.includes("\n") ? 2 : 1);
    expect(fs[0]!.column).toBe(column);
  });

  it("leaves ordinary words alone", () => {
    expect(markers("Testing is fun. Contest: win! A latest test. Our todo app. Draft beer in the body. The TEST suite.")).toEqual([]);
    expect(markers("Our draft policy", "subject")).toEqual([]);
    expect(markers("テストの結果、テスト環境、ダミ")).toEqual([]);
  });

  it("skips TODO in code but not other markers", () => {
    expect(markers("```js\n// TODO: remove\n```\nand `FIXME`")).toEqual([]);
    expect(rulesOf(markers("```\n[TEST]\n```"))).toEqual(["test-marker"]);
  });
});

describe("literal undefined/null", () => {
  it("finds them as whole words outside code", () => {
    const fs = markers("Hello undefined,\nYour plan: null (NaN points) [object Object]");
    expect(at(fs)).toEqual([
      ["literal-undefined", 1, 7],
      ["literal-undefined", 2, 12],
      ["literal-undefined", 2, 18],
      ["literal-undefined", 2, 30],
    ]);
    expect(markers("こんにちはundefinedさん").map((f) => f.rule)).toEqual(["literal-undefined"]);
  });

  it("ignores parts of words and code", () => {
    expect(markers("nullable, annulled, undefinedness, Nancy, nano")).toEqual([]);
    expect(markers("Returns `null` or\n```\nundefined\n```\n<code>NaN</code>")).toEqual([]);
  });
});

function links(text: string) {
  return keep(checkLinks({ file: BODY, text }));
}

describe("links", () => {
  it("link-insecure in every Markdown and HTML form, at the URL", () => {
    const text = [
      "[a](http://corp.example/a)", // inline
      "![img](http://cdn.corp.example/i.png)", // image
      "[ref]: ftp://files.corp.example/f.zip", // reference definition
      "<http://corp.example/auto>", // autolink
      "see http://corp.example/bare.", // bare
      "<a href='http://corp.example/h'>x</a>",
      "<img src=http://corp.example/x.png>",
      "visit www.corp.example today",
      '<a href="//corp.example/p">x</a>',
      "```\ncurl http://corp.example/code\n```",
    ].join("\n");
    const fs = links(text);
    expect(at(fs)).toEqual([
      ["link-insecure", 1, 5],
      ["link-insecure", 2, 8],
      ["link-insecure", 3, 8],
      ["link-insecure", 4, 2],
      ["link-insecure", 5, 5],
      ["link-insecure", 6, 10],
      ["link-insecure", 7, 10],
      ["link-insecure", 8, 7],
      ["link-insecure", 9, 10],
      ["link-insecure", 11, 6],
    ]);
    expect(fs[0]!.message).toBe("http://corp.example link is not https");
  });

  it("accepts https, mailto, tel, anchors, relative links and the unsubscribe placeholder", () => {
    const text = [
      "[a](https://www.corp.example/a?b=1&c=2) <https://corp.example/x>",
      "[m](mailto:support@corp.example) [t](tel:+81-3-0000-0000) [#](#top) [r](/about)",
      '<a href="{{ unsubscribe_url }}">stop</a> [u]({{ unsubscribe_url }})',
      "https://social.example/@news https://devices.corp.example https://www.corp.example/dev/test",
    ].join("\n");
    expect(links(text)).toEqual([]);
  });

  it.each([
    ["https://192.0.2.10/x", "IP address"],
    ["https://[2001:db8::1]/x", "IP address literal"],
    ["https://localhost:3000/x", "private name"],
    ["https://app.localhost/x", "private name"],
    ["https://printer.local/x", "private name"],
    ["https://wiki.internal/x", "private name"],
    ["https://staging.corp.example/x", "environment label"],
    ["https://stage.corp.example/x", "environment label"],
    ["https://stg2.corp.example/x", "environment label"],
    ["https://dev.corp.example/x", "environment label"],
    ["https://qa.corp.example/x", "environment label"],
    ["https://uat.corp.example/x", "environment label"],
    ["https://preview.corp.example/x", "environment label"],
    ["https://sandbox.corp.example/x", "environment label"],
    ["https://test.corp.example/x", "environment label"],
    ["https://api.staging.corp.example/x", "environment label"],
    ["https://staging.example/x", "environment label"],
  ])("link-staging for %s", (url, why) => {
    const fs = links(`Read [this](${url}).`);
    expect(rulesOf(fs)).toEqual(["link-staging"]);
    expect(fs[0]!.column).toBe(13);
    expect(fs[0]!.message).toContain(why);
  });

  it("flags both rules for http://localhost and never prints the path or query", () => {
    const fs = links("[x](http://localhost:8080/reset?email=taro@example.com&token=abc)");
    expect(rulesOf(fs)).toEqual(["link-insecure", "link-staging"]);
    for (const f of fs) {
      expect(f.message).not.toContain("taro");
      expect(f.message).not.toContain("token");
    }
  });

  it("knows production hosts", () => {
    expect(stagingReason("www.corp.example")).toBeNull();
    expect(stagingReason("developers.corp.example")).toBeNull();
    expect(stagingReason("corp.example")).toBeNull();
    expect(stagingReason("news.test")).toBeNull();
  });
});

describe("body size", () => {
  it("flags a body over the UTF-8 limit at the character that crosses it", () => {
    const body = "abc\nあいう"; // 4 + 9 bytes
    expect(checkBodySize({ file: BODY, text: body, maxBytes: 13 })).toEqual([]);
    const fs = keep(checkBodySize({ file: BODY, text: body, maxBytes: 9 }));
    expect(at(fs)).toEqual([["body-size", 2, 2]]);
    expect(fs[0]!.message).toContain("13 bytes");
  });
});

describe("code ranges", () => {
  it("finds fenced blocks, code spans and HTML code, and nothing else", () => {
    const text = "a `x` b\n\n~~~\ny\n~~~\n``z ` z`` <code>w</code> c";
    const r = codeRanges(text);
    const inside = (s: string) => inRanges(r, text.indexOf(s));
    expect(["x", "y", "z", "w"].map(inside)).toEqual([true, true, true, true]);
    expect(["a", "b", " c"].map(inside)).toEqual([false, false, false]);
  });

  it("runs an unclosed fence to the end and does not pair backticks across paragraphs", () => {
    expect(inRanges(codeRanges("```\nnull"), 5)).toBe(true);
    expect(codeRanges("a ` b\n\nc ` d")).toEqual([]);
  });
});

describe("checkContent", () => {
  const meta = { subject: "[TEST] Hi {{ first_name }}", recipients: "customers" };
  const positions = { subject: { line: 1, column: 11 } };
  const body = "Hello {{ nickname }}\n\n[x](http://corp.example)\n";

  it("checks subject at its position in newsletter.yml and the body", () => {
    const fs = keep(
      checkContent({
        meta, positions, metaFile: "n.yml", bodyFile: BODY, body,
        columns: COLUMNS, emptyFields: new Set(["first_name"]), maxBodyBytes: 10, listKnown: true,
      }),
    );
    expect(fs.map((f) => [f.rule, f.file, f.line, f.column])).toEqual([
      ["placeholder-empty", "n.yml", 1, 21],
      ["test-marker", "n.yml", 1, 11],
      ["placeholder-unknown", BODY, 1, 7],
      ["link-insecure", BODY, 3, 5],
      ["body-size", BODY, 1, 11],
    ]);
  });

  it("does not call every placeholder unknown when the list is missing", () => {
    const fs = checkContent({
      meta, positions, metaFile: "n.yml", bodyFile: BODY, body,
      columns: [], emptyFields: new Set(), maxBodyBytes: 100_000, listKnown: false,
    });
    expect(rulesOf(fs)).toEqual(["test-marker", "link-insecure"]);
  });
});

describe("messages never hold an address in full", () => {
  it("over every finding produced in this file", () => {
    expect(all.length).toBeGreaterThan(40);
    for (const f of all) expect(extractAddresses(f.message, { includeWeak: true })).toEqual([]);
  });
});
