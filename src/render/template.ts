/**
 * The template language: `{{ field }}` and `{{ field | "default" }}` (the
 * default replaces a blank value), nothing else (docs/design.md, "The
 * template sees one row").
 * No loops, conditions, partials or helpers exist, so a template can only ever
 * see the one row it is rendered with. This module only tokenises; checks use
 * it to report bad placeholders and render uses it to fill slots.
 */

export interface TextPart {
  kind: "text";
  text: string;
}

export interface SlotPart {
  kind: "slot";
  field: string;
  /** `{{ field | "default" }}`: what a blank value is replaced by (the default itself, as written). */
  fallback?: string;
  /** 0-based offset of `{{` in the source string. */
  offset: number;
}

export type TemplatePart = TextPart | SlotPart;

export interface TemplateProblem {
  kind: "syntax" | "foreign";
  /** 0-based offset of the problem in the source string. */
  offset: number;
  /** The offending text, truncated; never contains list data (it is template source). */
  snippet: string;
  reason: string;
}

export interface ParsedTemplate {
  parts: TemplatePart[];
  fields: Set<string>;
  problems: TemplateProblem[];
}

/** Letters of any script (`{{ 名前 }}`), digits and `_`; not starting with a digit. */
const FIELD = /^[\p{L}_][\p{L}\p{M}\p{N}_]*$/u;
/** `name | "default"`: a logic-less fallback for a blank value; `\"` and `\\` escape inside the quotes. */
const WITH_FALLBACK = /^(\S+?)\s*\|\s*"((?:[^"\\]|\\["\\])*)"$/u;
/** Handlebars/Mustache/Jinja/Liquid constructs that look like ours but are logic. */
const LOGIC_PREFIX = /^[#/^>!&{%=]|^else\b/;

export function parseTemplate(src: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  const fields = new Set<string>();
  const problems: TemplateProblem[] = [];
  let pos = 0;
  let textStart = 0;
  while (true) {
    const open = src.indexOf("{{", pos);
    if (open < 0) break;
    const close = src.indexOf("}}", open + 2);
    const nextOpen = src.indexOf("{{", open + 2);
    if (close < 0 || (nextOpen >= 0 && nextOpen < close)) {
      problems.push({
        kind: "syntax",
        offset: open,
        snippet: snippet(src, open),
        reason: "`{{` is not closed by `}}`",
      });
      pos = open + 2;
      continue;
    }
    const inner = src.slice(open + 2, close);
    const withFallback = WITH_FALLBACK.exec(inner.trim());
    const name = withFallback ? withFallback[1]! : inner.trim();
    const fallback = withFallback ? withFallback[2]!.replace(/\\(["\\])/g, "$1") : undefined;
    if (inner.includes("\n")) {
      problems.push({ kind: "syntax", offset: open, snippet: snippet(src, open), reason: "a placeholder may not span lines" });
    } else if (LOGIC_PREFIX.test(name) || src[close + 2] === "}") {
      problems.push({
        kind: "foreign",
        offset: open,
        snippet: snippet(src, open),
        reason: "logic and triple braces are not supported (only `{{ field }}`)",
      });
    } else if (!FIELD.test(name)) {
      problems.push({
        kind: "syntax",
        offset: open,
        snippet: snippet(src, open),
        reason: name.includes("|")
          ? 'a default is written `{{ field | "text" }}`, in double quotes'
          : "a field name is letters (of any script), digits and `_`, not starting with a digit",
      });
    } else {
      if (open > textStart) parts.push({ kind: "text", text: src.slice(textStart, open) });
      parts.push({ kind: "slot", field: name, offset: open, ...(fallback !== undefined ? { fallback } : {}) });
      fields.add(name);
      textStart = close + 2;
    }
    pos = close + 2;
  }
  if (textStart < src.length) parts.push({ kind: "text", text: src.slice(textStart) });
  return { parts, fields, problems };
}

function snippet(src: string, at: number): string {
  const s = src.slice(at, at + 40);
  const nl = s.indexOf("\n");
  return nl >= 0 ? s.slice(0, nl) : s;
}
