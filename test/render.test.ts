import { describe, expect, it } from "vitest";
import * as bodyModule from "../src/render/body.ts";
import { compileBody, fillBody, renderSubject, type CompiledBody } from "../src/render/body.ts";
import { FindingsError, InternalError } from "../src/errors.ts";

const BODY = `# Hello {{ first_name }}

Dear {{ first_name }} {{ last_name }}, your plan is **{{ plan }}**.

Read [your page](https://corp.example/p?u={{ unsubscribe_token }}) or visit https://corp.example/home?u={{ unsubscribe_token }} today.

![Portrait of {{ first_name }}](https://img.corp.example/avatar/{{ unsubscribe_token }}.png "Photo")

| Name | Plan |
| --- | --- |
| {{ first_name }} | {{ plan }} |

{{ last_name }} 様、いつもご利用ありがとうございます。

- item for {{ first_name }}
- \`code {{ plan }}\`
`;

const ROW = {
  first_name: "Taro",
  last_name: "Yamada",
  plan: "Pro",
  unsubscribe_token: "tok123",
};

function substitute(src: string, row: Record<string, string>): string {
  return src.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, f: string) => {
    const v = row[f];
    if (v === undefined) throw new Error(`test row lacks ${f}`);
    return v;
  });
}

describe("compileBody / fillBody", () => {
  it("fills placeholders in paragraphs, headings, links, alt text, tables, lists and Japanese text", () => {
    const compiled = compileBody(BODY);
    expect([...compiled.fields].sort()).toEqual(["first_name", "last_name", "plan", "unsubscribe_token"]);
    const { html, text } = fillBody(compiled, ROW);

    expect(html.startsWith("<!DOCTYPE html>\n")).toBe(true);
    expect(html).toContain('<meta charset="utf-8">');
    expect(html).toContain("<h1>Hello Taro</h1>");
    expect(html).toContain("Dear Taro Yamada, your plan is <strong>Pro</strong>.");
    expect(html).toContain('<a href="https://corp.example/p?u=tok123">your page</a>');
    expect(html).toContain('<a href="https://corp.example/home?u=tok123">https://corp.example/home?u=tok123</a>');
    expect(html).toContain('src="https://img.corp.example/avatar/tok123.png" alt="Portrait of Taro"');
    expect(html).toContain("<td>Taro</td>");
    expect(html).toContain("<td>Pro</td>");
    expect(html).toContain("<p>Yamada 様、いつもご利用ありがとうございます。</p>");
    expect(html).toContain("<li>item for Taro</li>");
    expect(html).toContain("<code>code Pro</code>");

    expect(text).toContain("Hello Taro\n"); // headings keep their case
    expect(text).not.toContain("HELLO");
    expect(text).toContain("Dear Taro Yamada, your plan is Pro.");
    expect(text).toContain("your page [https://corp.example/p?u=tok123]");
    expect(text).toContain("visit https://corp.example/home?u=tok123 today");
    expect(text).toContain("Portrait of Taro [https://img.corp.example/avatar/tok123.png]");
    expect(text).toContain("Name | Plan\nTaro | Pro");
    expect(text).toContain("Yamada 様、いつもご利用ありがとうございます。");
    expect(text).toContain("* item for Taro");
    for (const out of [html, text]) {
      expect(out).not.toMatch(/zq\d+slot|undefined|\{\{/i);
    }
  });

  it("escapes hostile values in HTML and keeps them literal in text (values are never Markdown)", () => {
    const compiled = compileBody(
      "Hi {{ name }}!\n\n[Profile](https://corp.example/u?n={{ name }})\n\n![{{ name }}](https://img.corp.example/x.png)\n\n<p title=\"{{ name }}\">{{ name }}</p>\n",
    );
    const name = `<script>alert(1)</script> **bold** [link](https://evil.example) "q" 'a' & _x_`;
    const { html, text } = fillBody(compiled, { name });

    expect(html).not.toContain("<script>");
    expect(html).not.toContain("<strong>");
    expect(html).not.toContain("<em>");
    expect(html).not.toMatch(/href="https:\/\/evil\.example/);
    const escaped =
      "&lt;script&gt;alert(1)&lt;/script&gt; **bold** [link](https://evil.example) &quot;q&quot; &#39;a&#39; &amp; _x_";
    expect(html).toContain(`<p>Hi ${escaped}!</p>`);
    expect(html).toContain(`alt="${escaped}"`);
    expect(html).toContain(`<p title="${escaped}">${escaped}</p>`);
    expect(html).toContain(`href="https://corp.example/u?n=${encodeURIComponent(name).replace(/'/g, "&#39;")}"`);

    expect(text).toContain(`Hi ${name}!`);
    expect(text).toContain(`Profile [https://corp.example/u?n=${encodeURIComponent(name)}]`);
    expect(text).toContain(name);
  });

  it("percent-encodes URL values so they cannot add parameters, in both parts alike", () => {
    const compiled = compileBody("[Unsubscribe](https://corp.example/unsub?u={{ t }}&x=1)\n");
    const { html, text } = fillBody(compiled, { t: "a&admin=1#frag /é" });
    expect(html).toContain('href="https://corp.example/unsub?u=a%26admin%3D1%23frag%20%2F%C3%A9&amp;x=1"');
    expect(text).toContain("Unsubscribe [https://corp.example/unsub?u=a%26admin%3D1%23frag%20%2F%C3%A9&x=1]");
  });

  it("encodes a bare (autolinked) URL's visible text like its href", () => {
    const compiled = compileBody("Go to https://corp.example/p?u={{ t }} now, or write to {{ rep }}@corp.example\n");
    const { html, text } = fillBody(compiled, { t: "a b&c", rep: "sales" });
    expect(html).toContain('<a href="https://corp.example/p?u=a%20b%26c">https://corp.example/p?u=a%20b%26c</a>');
    expect(html).toContain('<a href="mailto:sales@corp.example">sales@corp.example</a>');
    expect(text).toBe("Go to https://corp.example/p?u=a%20b%26c now, or write to sales@corp.example\n");
    expect(() => fillBody(compiled, { t: "bad \ud800", rep: "x" })).toThrow(/not well-formed Unicode/);
  });

  it("keeps non-ASCII and long values intact, without wrapping", () => {
    const compiled = compileBody("Note: {{ note }}\n");
    const note = `${"日本語のテキスト🎉 é ".repeat(400)}end`;
    const { html, text } = fillBody(compiled, { note });
    expect(html).toContain(`<p>Note: ${note}</p>`);
    expect(text).toBe(`Note: ${note}\n`);
  });

  it("throws for a field missing from the row, and never prints undefined", () => {
    const compiled = compileBody("Hi {{ first_name }} {{ constructor }}\n");
    expect(() => fillBody(compiled, { first_name: "Taro" })).toThrow(InternalError);
    expect(() => fillBody(compiled, { first_name: "Taro" })).toThrow(/constructor/);
    expect(() => fillBody(compiled, { constructor: "x" })).toThrow(/first_name/);
    const bad = { first_name: undefined } as unknown as Record<string, string>;
    expect(() => fillBody(compiled, { ...bad, constructor: "x" })).toThrow(InternalError);
  });

  it("a filled body equals rendering the Markdown with plain-word values substituted", () => {
    const compiled = compileBody(BODY, { preheader: "News for {{ first_name }}" });
    const filled = fillBody(compiled, ROW);
    const reference = fillBody(compileBody(substitute(BODY, ROW), { preheader: "News for Taro" }), {});
    expect(filled).toEqual(reference);
  });

  it("is deterministic: compiling twice gives identical output", () => {
    const a = compileBody(BODY, { preheader: "Hi {{ first_name }}" });
    const b = compileBody(BODY, { preheader: "Hi {{ first_name }}" });
    expect(JSON.stringify(a.html)).toBe(JSON.stringify(b.html));
    expect(JSON.stringify(a.text)).toBe(JSON.stringify(b.text));
    expect(fillBody(a, ROW)).toEqual(fillBody(b, ROW));
  });

  it("puts the preheader in a hidden div, escaped, and not in the text part", () => {
    const compiled = compileBody("Body text\n", { preheader: "Sale for {{ first_name }} & friends <3" });
    expect(compiled.fields).toEqual(new Set(["first_name"]));
    const { html, text } = fillBody(compiled, { first_name: "<b>Taro</b>" });
    expect(html).toMatch(/<div style="display:none;[^"]*">Sale for &lt;b&gt;Taro&lt;\/b&gt; &amp; friends &lt;3<\/div>/);
    expect(text).toBe("Body text\n");
  });

  it("passes raw HTML in the Markdown through and fills placeholders in it", () => {
    const compiled = compileBody(
      '<div align="center" class=\'box\'>\nHello {{ name }} <a href="https://corp.example/x?u={{ t }}">link</a>\n</div>\n',
    );
    const { html, text } = fillBody(compiled, { name: "A&B", t: "1 2" });
    expect(html).toContain('<div align="center" class=\'box\'>\nHello A&amp;B <a href="https://corp.example/x?u=1%202">link</a>');
    expect(text).toContain("Hello A&B link [https://corp.example/x?u=1%202]");
  });

  it("does not confuse a body that contains sentinel-like text", () => {
    const compiled = compileBody("literal zq7slot0zq and ZQ8SLOT1ZQ, then {{ name }}\n");
    const { html, text } = fillBody(compiled, { name: "Taro" });
    expect(html).toContain("<p>literal zq7slot0zq and ZQ8SLOT1ZQ, then Taro</p>");
    expect(text).toBe("literal zq7slot0zq and ZQ8SLOT1ZQ, then Taro\n");
  });
});

describe("compileBody refuses what it cannot render safely", () => {
  const refused: Array<[string, string, RegExp]> = [
    ["script", "<script>var n = '{{ name }}';</script>\n", /inside <script>/],
    ["style element", "<style>.x { content: '{{ name }}' }</style>\n", /inside <style>/],
    ["event handler", '<a href="https://corp.example/" onclick="go(\'{{ name }}\')">x</a>\n', /event handler/],
    ["style attribute", '<p style="color: {{ name }}">x</p>\n', /style attribute/],
    ["unquoted attribute", "<p title={{ name }}>x</p>\n", /not quoted/],
    ["comment", "<!-- {{ name }} -->\n\ntext\n", /comment/],
    ["tag name", "<h{{ name }}>x</h1>\n", /tag or attribute name/],
    ["whole link URL", "[x]({{ name }})\n", /scheme or host/],
    ["URL host", "[x](https://{{ name }}.corp.example/)\n", /scheme or host/],
    ["javascript URL", "[x](javascript:alert('{{ name }}'))\n", /scheme or host/],
    ["unused reference definition", "Text\n\n[ref]: https://corp.example/?u={{ name }}\n", /does not appear/],
  ];
  for (const [what, md, message] of refused) {
    it(`a placeholder in a ${what}`, () => {
      expect(() => compileBody(md)).toThrow(FindingsError);
      expect(() => compileBody(md)).toThrow(message);
    });
  }

  it("bad placeholder syntax, with its line and column", () => {
    expect(() => compileBody("ok\n\n{{#each rows}}x{{/each}}\n")).toThrow(/body\.md 3:1/);
    expect(() => compileBody("Hi {{ first name }}\n")).toThrow(FindingsError);
    expect(() => compileBody("x", { preheader: "{{ a" })).toThrow(/preheader/);
  });

  it("names the line of an unsafe placeholder", () => {
    expect(() => compileBody("line one\n\n<p onclick=\"{{ a }}\">x</p>\n")).toThrow(/\{\{ a \}\} at body\.md 3:13/);
  });
});

describe("renderSubject", () => {
  it("inserts raw values", () => {
    expect(renderSubject("{{ first_name }}さん, news & <offers>", { first_name: "太郎 \"T\"" })).toBe(
      "太郎 \"T\"さん, news & <offers>",
    );
  });
  it("throws for a missing field and for bad syntax", () => {
    expect(() => renderSubject("Hi {{ first_name }}", {})).toThrow(InternalError);
    expect(() => renderSubject("Hi {{ toString }}", {})).toThrow(InternalError);
    expect(() => renderSubject("Hi {{ first_name", { first_name: "x" })).toThrow(FindingsError);
  });
  it("turns line breaks in values into spaces (a header is one line)", () => {
    expect(renderSubject("Hi {{ n }}!", { n: "A\r\nBcc: x\nC" })).toBe("Hi A Bcc: x C!");
  });
});

describe("the template sees one row", () => {
  it("exports no function that takes a list", () => {
    const functions = Object.entries(bodyModule).filter(([, v]) => typeof v === "function");
    expect(functions.map(([k]) => k).sort()).toEqual(["compileBody", "fillBody", "renderSubject"]);
    expect(fillBody.length).toBe(2);
    expect(renderSubject.length).toBe(2);
  });
});

describe("performance", () => {
  const rows = 100_000;
  const rowAt = (i: number): Record<string, string> => ({
    first_name: `Name${i}`,
    last_name: i % 7 === 0 ? "O'Brien & <Sons>" : "山田",
    plan: "Pro",
    unsubscribe_token: `tok-${i}`,
  });
  const cases: Array<[string, string]> = [
    ["typical body", BODY],
    ["heavy body (8x, ~100 slots)", BODY.repeat(8)],
  ];
  for (const [name, markdown] of cases) {
    it(`compiles once and fills ${rows.toLocaleString("en")} rows fast: ${name}`, () => {
      const t0 = performance.now();
      const compiled: CompiledBody = compileBody(markdown, { preheader: "News for {{ first_name }}" });
      const t1 = performance.now();
      let chars = 0;
      for (let i = 0; i < rows; i++) {
        const out = fillBody(compiled, rowAt(i));
        chars += out.html.length + out.text.length;
      }
      const t2 = performance.now();
      // Again, now also flattening the strings and counting UTF-8 bytes, as MIME composition will.
      let bytes = 0;
      for (let i = 0; i < rows; i++) {
        const out = fillBody(compiled, rowAt(i));
        bytes += Buffer.byteLength(out.html) + Buffer.byteLength(out.text);
      }
      const t3 = performance.now();
      const slots = compiled.html.parts.filter((p) => typeof p !== "string").length;
      const per10k = (ms: number): string => ((ms / rows) * 10_000).toFixed(1);
      console.log(
        `render (${name}: ${slots} HTML slots, ${(bytes / rows / 1024).toFixed(1)} KiB per message): ` +
          `compile ${(t1 - t0).toFixed(1)} ms; fill ${rows} rows ${(t2 - t1).toFixed(0)} ms ` +
          `(${per10k(t2 - t1)} ms per 10k); fill + flatten + UTF-8 byte count ${(t3 - t2).toFixed(0)} ms ` +
          `(${per10k(t3 - t2)} ms per 10k)`,
      );
      expect(chars).toBeGreaterThan(0);
      expect(((t2 - t1) / rows) * 10_000).toBeLessThan(1000); // generous bound for slow CI machines
    });
  }
});
