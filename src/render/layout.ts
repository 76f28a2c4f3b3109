/**
 * Layouts: the HTML document a newsletter body is wrapped in, with
 * logic-less slots only, and its CSS inlined at compile time with juice.
 * See docs/design.md, "Layout and pictures".
 *
 * Slots (`{{ name }}`; no conditions, loops or partials):
 *   content        the rendered body (and the approval banner)       required, once
 *   footer         the localised footer: sender, postal address, contact, unsubscribe link
 *   unsubscribe    the localised unsubscribe link alone
 *   unsubscribe_url  its URL alone (inside an href)
 *   postal_address, sender_name, preheader, logo, brand_color, lang
 * A layout must show the unsubscribe link and the postal address (through
 * `footer`, or `unsubscribe`/`unsubscribe_url` and `postal_address`): a
 * repository's layout cannot drop what the law and RFC 8058 ask for.
 *
 * The only per-recipient value a layout can reach is the unsubscribe token,
 * inside the admin-configured unsubscribe URL; it becomes a slot of the
 * compiled body like any body placeholder, and is classified and escaped the
 * same way (slots.ts), after juice has run.
 */
import juice from "juice";
import { FindingsError } from "../errors.ts";
import { escapeHtml } from "./escape.ts";
import type { Locale } from "./locale.ts";
import { wordsFor } from "./locale.ts";

export interface Layout {
  /** The layout's HTML source (DEFAULT_LAYOUT or a repository's own file). */
  source: string;
  /** Where it came from, for messages. */
  file: string;
  locale: Locale;
  /** A CSS hex colour, `#rgb` or `#rrggbb`. */
  brandColor: string;
  /** https URL of the logo image; the sender's name is shown without one. */
  logoUrl?: string;
  senderName: string;
  /** The address shown as the contact (Reply-To, else From): one of the sender's own. */
  contact?: string;
  postalAddress?: string;
  /** The configured unsubscribe URL, with `{{ unsubscribe_token }}` in it. */
  unsubscribeUrl?: string;
}

export const LAYOUT_SLOTS = [
  "content",
  "footer",
  "unsubscribe",
  "unsubscribe_url",
  "postal_address",
  "sender_name",
  "preheader",
  "logo",
  "brand_color",
  "lang",
] as const;
type LayoutSlot = (typeof LAYOUT_SLOTS)[number];

const SLOT = /\{\{\s*([^{}]*?)\s*\}\}/g;
const BRAND_COLOR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$/;

/** Problems of a layout source, each a sentence; empty when it may be used. */
export function layoutProblems(source: string, opts: { postalAddress: boolean; unsubscribe: boolean }): string[] {
  const problems: string[] = [];
  const counts = new Map<string, number>();
  for (const m of source.matchAll(SLOT)) {
    const name = m[1] ?? "";
    if (!(LAYOUT_SLOTS as readonly string[]).includes(name)) {
      problems.push(`{{ ${name} }} is not a layout slot (slots: ${LAYOUT_SLOTS.join(", ")})`);
      continue;
    }
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  const n = (s: LayoutSlot) => counts.get(s) ?? 0;
  if (n("content") !== 1) problems.push(`{{ content }} must appear exactly once (found ${n("content")})`);
  if (opts.unsubscribe && n("footer") + n("unsubscribe") + n("unsubscribe_url") === 0) {
    problems.push("the layout must show the unsubscribe link: use {{ footer }} or {{ unsubscribe }}");
  }
  if (opts.postalAddress && n("footer") + n("postal_address") === 0) {
    problems.push("the layout must show the postal address: use {{ footer }} or {{ postal_address }}");
  }
  if (/<script\b/i.test(source)) problems.push("a layout may not hold <script>");
  return problems;
}

/**
 * Fills the layout's slots (compile time) and inlines its CSS. `content` and
 * `preheader` are HTML with sentinels already; `tokenSlot()` returns the
 * sentinel for `{{ unsubscribe_token }}`. Returns the document and the footer
 * as HTML (the text part is made from it too).
 */
export function applyLayout(
  layout: Layout,
  content: string,
  preheader: string,
  tokenSlot: () => string,
): { html: string; footer: string } {
  const problems = layoutProblems(layout.source, {
    postalAddress: layout.postalAddress !== undefined,
    unsubscribe: layout.unsubscribeUrl !== undefined,
  });
  if (!BRAND_COLOR.test(layout.brandColor)) problems.push(`brand colour ${JSON.stringify(layout.brandColor)} is not #rgb or #rrggbb`);
  if (problems.length > 0) throw new FindingsError(`cannot render with layout ${layout.file}: ${problems.join("; ")}`);
  // Inlining applies a stylesheet to the whole document: one in the body could restyle the layout's
  // footer (hide the unsubscribe link or the postal address). Styles in the body are inline only.
  if (/<(?:style|link)\b/i.test(content)) {
    throw new FindingsError("cannot render: body.md holds a <style> or <link> element, which would restyle the whole message, footer included; use style attributes on your own elements instead");
  }

  const w = wordsFor(layout.locale);
  const url =
    layout.unsubscribeUrl === undefined
      ? ""
      : layout.unsubscribeUrl
          .split(/\{\{\s*unsubscribe_token\s*\}\}/)
          .map(escapeHtml)
          .join(tokenSlot());
  const unsubscribe = url ? `<a href="${url}">${escapeHtml(w.unsubscribe)}</a>` : "";
  const sender = escapeHtml(layout.senderName);
  const postal = layout.postalAddress === undefined ? "" : escapeHtml(layout.postalAddress);
  const lines = [
    `<p>${escapeHtml(w.sender)}: ${sender}</p>`,
    ...(postal ? [`<p>${escapeHtml(w.postalAddress)}: ${postal}</p>`] : []),
    ...(layout.contact ? [`<p>${escapeHtml(w.contact)}: ${escapeHtml(layout.contact)}</p>`] : []),
    ...(unsubscribe ? [`<p>${escapeHtml(w.refuse)}${w.space}${unsubscribe}</p>`] : []),
  ];
  const footer = lines.join("\n");
  const logo = layout.logoUrl
    ? `<img src="${escapeHtml(layout.logoUrl)}" alt="${sender}" width="200">`
    : sender;
  const values: Record<LayoutSlot, string> = {
    content,
    footer,
    unsubscribe,
    unsubscribe_url: url,
    postal_address: postal,
    sender_name: sender,
    preheader,
    logo,
    brand_color: layout.brandColor,
    lang: layout.locale,
  };
  const filled = layout.source.replace(SLOT, (_, name: string) => values[name as LayoutSlot]);
  const html = inlineCss(filled, layout.file);
  return { html, footer };
}

/**
 * juice moves every rule it can into style attributes and keeps only what
 * cannot be inlined: @media rules (the phone width, dark mode), in one
 * `<style>`. Anything else left in a `<style>` (a pseudo-element, `content:`
 * text, an @import) is refused: the guard and the checks read style text as
 * text a reader may see, and a layout has no need for it.
 */
export function inlineCss(html: string, file: string): string {
  const out = juice(html, {
    preserveMediaQueries: true,
    preserveFontFaces: false,
    preserveKeyFrames: false,
    preservePseudos: false,
    removeStyleTags: true,
    insertPreservedExtraCss: true,
    applyWidthAttributes: false,
    applyHeightAttributes: false,
    applyAttributesTableElements: false,
    xmlMode: false,
  });
  const styles = [...out.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1] ?? "");
  const problems: string[] = [];
  if (styles.length > 1) problems.push(`${styles.length} <style> elements are left after inlining (at most one, with @media rules)`);
  for (const css of styles) {
    const rest = stripMediaBlocks(css).trim();
    if (rest !== "") problems.push(`a rule outside @media cannot be inlined: ${JSON.stringify(rest.slice(0, 60))}`);
    // Read as a browser reads it: `con\74 ent:` is `content:`.
    if (/(^|[;{\s])content\s*:/i.test(decodeCssEscapes(css))) problems.push("a `content:` declaration is not allowed");
  }
  if (problems.length > 0) throw new FindingsError(`cannot render with layout ${file}: ${problems.join("; ")}`);
  return out;
}

/**
 * CSS escapes decoded (CSS Syntax Level 3 §4.3.7): `\` and one to six hex
 * digits, one white space after them swallowed (a CRLF counts as one), is
 * that code point (U+FFFD for zero, a surrogate or beyond U+10FFFF); `\`
 * and any other character but a line break is that character.
 */
function decodeCssEscapes(css: string): string {
  if (!css.includes("\\")) return css;
  return css.replace(/\\(?:([0-9a-fA-F]{1,6})(?:\r\n|[ \t\n\r\f])?|([^\n\r\f0-9a-fA-F]))/g, (_, hex: string | undefined, ch: string | undefined) => {
    if (hex === undefined) return ch!;
    const cp = Number.parseInt(hex, 16);
    return cp === 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) ? "\uFFFD" : String.fromCodePoint(cp);
  });
}

/** The CSS without its `@media ... { ... }` blocks (braces balanced). */
function stripMediaBlocks(css: string): string {
  let out = "";
  let i = 0;
  for (;;) {
    const at = css.indexOf("@media", i);
    if (at < 0) return out + css.slice(i);
    out += css.slice(i, at);
    const open = css.indexOf("{", at);
    if (open < 0) return out + css.slice(at);
    let depth = 0;
    let j = open;
    for (; j < css.length; j++) {
      if (css[j] === "{") depth++;
      else if (css[j] === "}" && --depth === 0) break;
    }
    i = j + 1;
  }
}
