/**
 * The text of an HTML part as a reader shows it, for a second scan beside
 * the raw markup: comments and tags removed, so that
 * `taro@<span>example</span>.com` or `taro@<!-- -->example.com` (one address
 * on screen, none in the source) is found. Phrasing elements that do not
 * break the line are removed without a trace; every other tag becomes a
 * space, as the reader's line or cell break does. Attribute values are not
 * lost: the raw markup, attributes and all, is scanned as well.
 *
 * Tags are removed before character references are decoded (the extractor
 * decodes them), the order of the HTML tokenizer (WHATWG HTML §13.2.5):
 * `&lt;b&gt;` is text, not a tag.
 */
const MARKUP = /<!--[\s\S]*?(?:-->|$)|<[!?][^>]*>?|<\/?([A-Za-z][A-Za-z0-9]*)(?:[\s/][^>]*)?>?/g;

/** HTML phrasing elements that render inline (WHATWG HTML §3.2.5.2.5), plus legacy ones. */
const INLINE: ReadonlySet<string> = new Set([
  "a", "abbr", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn", "em", "font", "i", "ins",
  "kbd", "mark", "nobr", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "sup", "time",
  "tt", "u", "var", "wbr",
]);

export function visibleText(html: string): string {
  if (!html.includes("<")) return html;
  return html.replace(MARKUP, (_m, name: string | undefined) =>
    name === undefined || INLINE.has(name.toLowerCase()) ? "" : " ",
  );
}
