/**
 * The newsletter body: compiled once per newsletter, filled once per recipient.
 *
 * `compileBody` renders the Markdown a single time, with every `{{ field }}`
 * replaced by an inert ASCII sentinel, into an HTML document and a plain-text
 * alternative, then splits both at the sentinels into slots that know how
 * their value must be escaped. `fillBody` is then only concatenation and
 * escaping, which is what lets a million-recipient send render cheaply.
 *
 * docs/design.md, "The template sees one row": rendering receives ONE recipient's row and nothing
 * else. No function here takes a list, and the template language has no
 * loops. Values are data: they are escaped for their context and never parsed
 * as Markdown or HTML, so a value cannot inject markup or links.
 *
 * Decisions:
 * - Raw HTML in the Markdown is passed through verbatim (not sanitised): the
 *   body is authored and approved in review, and the checks scan the rendered
 *   output. Placeholders inside raw HTML are allowed only where escaping makes
 *   a value safe (element text, quoted attribute values, the path/query of an
 *   http(s)/mailto/tel URL); anywhere else (script, style, comments, event
 *   handlers, style attributes, unquoted attributes, tag names, the scheme or
 *   host of a URL) compiling fails with a FindingsError naming the line.
 * - Text part: html-to-text with no word wrap. A wrap column computed at
 *   compile time would be wrong once values of other lengths are filled in;
 *   long lines are safe on the wire because MIME composition encodes the part
 *   (quoted-printable keeps lines under 76 octets) and mail clients wrap.
 *   Links are `text [url]` (just `url` when text and href are the same),
 *   headings keep their case, tables are one `cell | cell` line per row.
 * - In the text part a value is inserted as is, except inside a link URL,
 *   where it is percent-encoded exactly as in the HTML href, so both parts
 *   point to the same address. Likewise the visible text of a GFM autolink
 *   (`https://corp.example/?u={{ t }}` written bare) is encoded like its href.
 */

import { Marked } from "marked";
import { compile as compileHtmlToText } from "html-to-text";
import type { DomNode, FormatCallback } from "html-to-text";
import { FindingsError, InternalError } from "../errors.ts";
import { joinCjkSoftBreaks } from "./cjk.ts";
import { escapeHtml } from "./escape.ts";
import { applyLayout, type Layout } from "./layout.ts";
import {
  chooseSentinels,
  classifyHtml,
  fillSlotted,
  findSentinels,
  toSlotted,
  slotValue,
  valueOf,
  type HtmlOccurrence,
  type SentinelHit,
  type Sentinels,
  type SlotContext,
  type Slotted,
} from "./slots.ts";
import { parseTemplate, type ParsedTemplate } from "./template.ts";

export type { Slot, SlotContext, Slotted } from "./slots.ts";

export interface CompiledBody {
  /** The complete HTML document (doctype, head, hidden preheader, body). */
  readonly html: Slotted;
  /** The plain-text alternative (from the body only, not the preheader). */
  readonly text: Slotted;
  /** Every field named by a placeholder in the body or the preheader. */
  readonly fields: Set<string>;
}

export interface CompileOptions {
  /** Inbox preview text, plain text (not Markdown); may hold `{{ field }}`. */
  preheader?: string;
  /**
   * The document the body is wrapped in, its CSS inlined (layout.ts). Without
   * one the body goes into a bare document with no footer.
   */
  layout?: Layout;
  /** Wrap the text part at this many columns, per recipient after filling (cjk.ts); unwrapped without. */
  textColumns?: number;
}

export interface FilledBody {
  html: string;
  text: string;
}

// One private, fixed configuration: nobody's `marked.use()` elsewhere can change our output.
const markdown = new Marked({ async: false, gfm: true, breaks: false, pedantic: false, silent: false });

/** A table as one `cell | cell` line per row: no column alignment that filled values would break. */
const pipeTable: FormatCallback = (elem, walk, builder, formatOptions) => {
  builder.openTable();
  const walkTable = (node: DomNode): void => {
    if (node.type !== "tag") return;
    switch (node.name) {
      case "thead":
      case "tbody":
      case "tfoot":
        node.children.forEach(walkTable);
        return;
      case "tr":
        builder.openTableRow();
        for (const cell of node.children) {
          if (cell.type !== "tag" || (cell.name !== "th" && cell.name !== "td")) continue;
          builder.openTableCell({ maxColumnWidth: undefined });
          walk(cell.children, builder);
          builder.closeTableCell({ colspan: 1, rowspan: 1 });
        }
        builder.closeTableRow();
        return;
    }
  };
  elem.children.forEach(walkTable);
  builder.closeTable({
    tableToString: (rows) =>
      rows.map((row) => row.map((cell) => cell.text.replace(/\s*\n\s*/g, " ").trim()).join(" | ")).join("\n"),
    leadingLineBreaks: formatOptions.leadingLineBreaks ?? 2,
    trailingLineBreaks: formatOptions.trailingLineBreaks ?? 2,
  });
};

const headings = ["h1", "h2", "h3", "h4", "h5", "h6"].map((selector) => ({
  selector,
  options: { uppercase: false },
}));

const htmlToText = compileHtmlToText({
  wordwrap: false,
  formatters: { pipeTable },
  selectors: [
    ...headings,
    {
      selector: "a",
      options: { hideLinkHrefIfSameAsText: true, linkBrackets: ["[", "]"], noAnchorUrl: true },
    },
    { selector: "table", format: "pipeTable", options: { leadingLineBreaks: 2, trailingLineBreaks: 2 } },
  ],
});

const DOC_HEAD =
  "<!DOCTYPE html>\n" +
  "<html>\n<head>\n" +
  '<meta charset="utf-8">\n' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">\n' +
  '<meta name="x-apple-disable-message-reformatting">\n' +
  "</head>\n<body>\n";
const PREHEADER_OPEN =
  '<div style="display:none;font-size:1px;line-height:1px;max-height:0;max-width:0;' +
  'opacity:0;overflow:hidden;mso-hide:all;">';
const PREHEADER_CLOSE = "</div>\n";
const DOC_TAIL = "</body>\n</html>\n";

interface Origin {
  field: string;
  where: string;
  fallback?: string;
}

function lineColumn(src: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = src.indexOf("\n"); i >= 0 && i < offset; i = src.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return `${line}:${offset - lineStart + 1}`;
}

function refuseTemplateProblems(parsed: ParsedTemplate, src: string, what: string): void {
  if (parsed.problems.length === 0) return;
  const list = parsed.problems
    .map((p) => `${what} ${lineColumn(src, p.offset)}: ${p.reason} (${JSON.stringify(p.snippet)})`)
    .join("; ");
  throw new FindingsError(`cannot render: ${list}`);
}

/**
 * Renders the Markdown body (and optional preheader) once into slotted HTML
 * and text parts. Deterministic: the same input gives identical output.
 * Throws FindingsError for bad placeholder syntax or a placeholder in an
 * unsafe context, InternalError if a renderer lost or mangled a placeholder.
 */
export function compileBody(markdownSource: string, opts: CompileOptions = {}): CompiledBody {
  const body = parseTemplate(markdownSource);
  refuseTemplateProblems(body, markdownSource, "body.md");
  const preheaderSource = opts.preheader;
  const pre = preheaderSource === undefined ? undefined : parseTemplate(preheaderSource);
  if (pre !== undefined && preheaderSource !== undefined) refuseTemplateProblems(pre, preheaderSource, "preheader");

  const sentinels = chooseSentinels([markdownSource, preheaderSource ?? ""]);
  const origins: Origin[] = [];

  let md = "";
  for (const part of body.parts) {
    if (part.kind === "text") {
      md += part.text;
    } else {
      md += sentinels.make(origins.length);
      origins.push({
        field: part.field,
        where: `body.md ${lineColumn(markdownSource, part.offset)}`,
        ...(part.fallback !== undefined ? { fallback: part.fallback } : {}),
      });
    }
  }
  const bodyHtml = joinCjkSoftBreaks(markdown.parse(md, { async: false }), `${sentinels.prefix}\\d+zq`);
  const footerFields = new Set<string>();
  const tokenSlot = (): string => {
    footerFields.add("unsubscribe_token");
    const sentinel = sentinels.make(origins.length);
    origins.push({ field: "unsubscribe_token", where: "the unsubscribe link of the layout" });
    return sentinel;
  };
  const preheaderHtml = preheaderOf(pre, sentinels, origins);
  let doc: string;
  let footerHtml = "";
  if (opts.layout !== undefined) {
    const laid = applyLayout(opts.layout, bodyHtml, preheaderHtml, tokenSlot);
    footerHtml = laid.footer;
    doc = laid.html;
  } else {
    doc = DOC_HEAD + preheaderHtml + bodyHtml + DOC_TAIL;
  }
  const inPreheader = (index: number): boolean => origins[index]?.where === "preheader";
  const text = htmlToText(footerHtml ? `${bodyHtml}<hr>${footerHtml}` : bodyHtml).replace(/\s+$/, "") + "\n";

  const fieldOf = (index: number): string => {
    const origin = origins[index];
    if (origin === undefined) throw new InternalError(`placeholder marker #${index} has no origin`);
    return origin.field;
  };
  const fallbackOf = (index: number): string | undefined => origins[index]?.fallback;
  const describe = (index: number): string => {
    const origin = origins[index];
    return origin === undefined ? `#${index}` : `{{ ${origin.field} }} at ${origin.where}`;
  };

  // HTML: classify every occurrence; refuse unsafe contexts and lost placeholders.
  const htmlHits = findSentinels(doc, sentinels, origins.length, "HTML part");
  const { occurrences, problems } = classifyHtml(doc, htmlHits);
  if (problems.length > 0) {
    throw new FindingsError(
      `cannot render: ${problems.map((p) => `placeholder ${describe(p.index)}: ${p.reason}`).join("; ")}`,
    );
  }
  const inHtml = new Set(htmlHits.map((h) => h.index));
  const lost = origins.map((_, i) => i).filter((i) => !inHtml.has(i));
  if (lost.length > 0) {
    throw new FindingsError(
      `cannot render: placeholder ${lost.map(describe).join(", ")} does not appear in the rendered HTML ` +
        "(is it in a link reference definition that is never used?)",
    );
  }
  const contextAt = new Map<number, HtmlOccurrence>(occurrences.map((o) => [o.start, o]));

  // Text: everything a reader sees in the HTML body must be in the text part too.
  const textHits = findSentinels(text, sentinels, origins.length, "text part");
  const inText = new Set(textHits.map((h) => h.index));
  const missing = occurrences.filter((o) => !inPreheader(o.index) && visibleInText(o) && !inText.has(o.index));
  if (missing.length > 0) {
    throw new InternalError(
      `the text part lost placeholder ${[...new Set(missing.map((o) => o.index))].map(describe).join(", ")}`,
    );
  }
  const urlIndices = new Set(occurrences.filter((o) => o.context === "url").map((o) => o.index));

  const html = toSlotted(doc, htmlHits, fieldOf, (hit: SentinelHit): SlotContext => {
    const o = contextAt.get(hit.start);
    if (o === undefined) throw new InternalError(`placeholder ${describe(hit.index)} was not classified`);
    // A GFM autolink prints its URL as the link text: encode it there as in the href.
    if (o.context === "html-text" && urlIndices.has(hit.index) && inUrlToken(doc, hit.start)) return "url";
    return o.context;
  }, fallbackOf);
  const textSlotted = toSlotted(text, textHits, fieldOf, (hit: SentinelHit): SlotContext =>
    urlIndices.has(hit.index) && inUrlToken(text, hit.start) ? "url" : "text",
  fallbackOf);
  // The text part is wrapped per recipient, after filling (cjk.ts).
  const wrapped: Slotted =
    opts.textColumns === undefined ? textSlotted : Object.freeze({ parts: textSlotted.parts, wrapColumns: opts.textColumns });

  const fields = new Set<string>([...body.fields, ...footerFields]);
  for (const f of pre?.fields ?? []) fields.add(f);
  return Object.freeze({ html, text: wrapped, fields });
}

/** The hidden preheader element (inbox preview text), with sentinels for its placeholders; "" without one. */
function preheaderOf(pre: ParsedTemplate | undefined, sentinels: Sentinels, origins: Origin[]): string {
  if (pre === undefined) return "";
  let inner = "";
  for (const part of pre.parts) {
    if (part.kind === "text") {
      inner += escapeHtml(part.text);
    } else {
      inner += sentinels.make(origins.length);
      origins.push({ field: part.field, where: "preheader", ...(part.fallback !== undefined ? { fallback: part.fallback } : {}) });
    }
  }
  return PREHEADER_OPEN + inner + PREHEADER_CLOSE;
}

/** Whether html-to-text prints this occurrence: element text, a link's href, an image's src or alt. */
function visibleInText(o: HtmlOccurrence): boolean {
  if (o.context === "html-text") return true;
  if (o.element === "a") return o.attribute === "href";
  if (o.element === "img") return o.attribute === "src" || o.attribute === "alt";
  return false;
}

/** Whether the position sits inside a printed http(s)/tel URL, after its fixed scheme and host. */
function inUrlToken(text: string, at: number): boolean {
  let start = at;
  while (start > 0) {
    const c = text[start - 1];
    if (c === undefined || /[\s[(<>"']/.test(c)) break;
    start--;
  }
  return /^(?:https?:\/\/[^/?#\s]+[/?#]|tel:)/i.test(text.slice(start, at));
}

/**
 * Fills a compiled body with ONE recipient's row. Values are escaped for the
 * context of each slot. A field missing from the row throws (InternalError):
 * the checks refuse such rows before any send, and the output must never
 * hold `undefined`.
 */
export function fillBody(compiled: CompiledBody, row: Readonly<Record<string, string>>): FilledBody {
  for (const field of compiled.fields) valueOf(row, field); // fail before building anything
  return { html: fillSlotted(compiled.html, row, true), text: fillSlotted(compiled.text, row, false) };
}

let subjectCache: { source: string; parsed: ParsedTemplate } | undefined;

/**
 * Renders the subject for ONE recipient's row. Values are inserted raw
 * (encoding of non-ASCII happens at MIME composition); line breaks, which a
 * header cannot hold, become single spaces.
 */
export function renderSubject(subjectTemplate: string, row: Readonly<Record<string, string>>): string {
  if (subjectCache?.source !== subjectTemplate) {
    const parsed = parseTemplate(subjectTemplate);
    refuseTemplateProblems(parsed, subjectTemplate, "subject");
    subjectCache = { source: subjectTemplate, parsed };
  }
  let out = "";
  for (const part of subjectCache.parsed.parts) out += part.kind === "text" ? part.text : slotValue(row, part.field, part.fallback);
  return out.replace(/[ \t]*(?:\r\n|\r|\n)[ \t]*/g, " ");
}
