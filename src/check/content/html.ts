/**
 * What HTML an author's body.md may hold (docs/design.md, "Address
 * detection"; README, "What HTML a body may use"). A newsletter is not a web
 * page: raw HTML passes through the renderer verbatim, so anything that can
 * carry text a reader sees but a check reads with difficulty is refused
 * here — `data:` URIs (RFC 2397), `<style>` and style attributes (CSS
 * `content:` and escapes), SVG and MathML (their own text and markup), and
 * embedded documents (`iframe`, `object`, `embed`, `frame`, `srcdoc`), plus
 * what a mail client strips or a page could misuse (`script`, `form`,
 * `base`, `link`, `meta`). Code spans and blocks are examples, not markup,
 * and are skipped. The per-message guard decodes and scans all of these
 * anyway (an admin's layout may keep a `<style>`); this rule is the
 * author-side fence.
 */
import { finding, type Finding } from "../../findings/finding.ts";
import { LineIndex } from "../leak/locate.ts";
import { codeRanges, inRanges } from "./code-ranges.ts";

const TAGS = /<(style|svg|math|iframe|object|embed|frame|frameset|applet|template|script|noscript|form|input|base|link|meta)(?=[\s/>])/gi;
const STYLE_ATTRIBUTE = /<[A-Za-z][A-Za-z0-9-]*\s[^>]*?\bstyle\s*=/g;
const SRCDOC = /<[A-Za-z][A-Za-z0-9-]*\s[^>]*?\bsrcdoc\s*=/g;
const DATA_URI = /(?:^|[("'=<\s])(data:[a-z0-9.+/-]*[;,])/gim;

export function checkHtml(input: { file: string; text: string }): Finding[] {
  const { file, text } = input;
  if (!text.includes("<") && !/data:/i.test(text)) return [];
  const lines = new LineIndex(text);
  const code = codeRanges(text);
  const findings: Finding[] = [];
  const add = (offset: number, what: string) => {
    if (inRanges(code, offset)) return;
    findings.push(finding("html-unsupported", file, lines.at(offset), `${what} is not allowed in a newsletter body: it can carry text that readers see and checks read with difficulty`));
  };
  for (const m of text.matchAll(TAGS)) add(m.index, `\`<${m[1]!.toLowerCase()}>\``);
  for (const m of text.matchAll(STYLE_ATTRIBUTE)) add(m.index, "a `style` attribute");
  for (const m of text.matchAll(SRCDOC)) add(m.index, "a `srcdoc` attribute");
  for (const m of text.matchAll(DATA_URI)) add(m.index + m[0].length - m[1]!.length, `a \`${m[1]!.slice(0, 30)}\` URI`);
  return findings;
}
