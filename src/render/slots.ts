/**
 * Slotted strings: rendered output split at the places where one recipient's
 * values go, each place labelled with the escaping it needs.
 *
 * A newsletter body is rendered (Markdown → HTML → text) once, with every
 * `{{ field }}` replaced by an ASCII sentinel that the renderers pass through
 * untouched. This module finds the sentinels again in the output, works out
 * from the surrounding HTML which context each one sits in, and refuses the
 * contexts in which escaping cannot make a value safe (scripts, styles, event
 * handlers, comments, tag and attribute names, unquoted attributes, the scheme
 * or host of a URL). Filling a slotted string with a row is then plain string
 * concatenation plus per-slot escaping.
 */

import { InternalError } from "../errors.ts";
import { wrapText } from "./cjk.ts";
import { encodeUrlValue, escapeHtml, escapeHtmlUrl } from "./escape.ts";

/**
 * - `html-text`: element text in the HTML part — HTML-escaped;
 * - `html-attr`: a quoted attribute value (alt, title, ...) — HTML-escaped;
 * - `url`: inside a URL after its fixed scheme and host — percent-encoded
 *   (`encodeURIComponent`), and in the HTML part then HTML-escaped;
 * - `text`: the plain-text part — the value as it is.
 */
export type SlotContext = "html-text" | "html-attr" | "url" | "text";

export interface Slot {
  readonly field: string;
  readonly context: SlotContext;
  /** `{{ field | "default" }}`: used when the row's value is blank. */
  readonly fallback?: string;
}

export interface Slotted {
  readonly parts: ReadonlyArray<string | Slot>;
  /**
   * When set, the filled string is wrapped at this many columns (cjk.ts
   * wrapText, line-local): the text part. Wrapping happens after filling,
   * because a wrap computed before would be wrong once values are in.
   */
  readonly wrapColumns?: number;
}

// ---------------------------------------------------------------------------
// Sentinels

/**
 * Sentinels are `<prefix><n>zq`, letters and digits only, so that Markdown
 * (no emphasis, escape or autolink syntax) and html-to-text (no entity, no
 * whitespace, so no wrapping) leave them alone. The prefix is the first of
 * `zq7slot`, `zq8slot`, ... that occurs in none of the sources (compared
 * case-insensitively), so a body can never contain a sentinel by accident and
 * the choice is deterministic.
 */
export interface Sentinels {
  readonly prefix: string;
  make(index: number): string;
  /** Global regex; group 1 is the index. Use with matchAll/exec from 0. */
  pattern(): RegExp;
}

export function chooseSentinels(sources: readonly string[]): Sentinels {
  const lowered = sources.map((s) => s.toLowerCase());
  for (let k = 7; ; k++) {
    const prefix = `zq${k}slot`;
    if (lowered.every((s) => !s.includes(prefix))) {
      return {
        prefix,
        make: (index) => `${prefix}${index}zq`,
        pattern: () => new RegExp(`${prefix}(\\d+)zq`, "g"),
      };
    }
  }
}

export interface SentinelHit {
  index: number;
  start: number;
  end: number;
}

/**
 * Finds every sentinel in `s`, and fails if anything that looks like a broken
 * one (the prefix in any letter case, outside a whole sentinel) is left: a
 * placeholder must never be dropped or mangled silently.
 */
export function findSentinels(s: string, sentinels: Sentinels, count: number, what: string): SentinelHit[] {
  const hits: SentinelHit[] = [];
  let last = 0;
  const prefix = sentinels.prefix;
  for (const m of s.matchAll(sentinels.pattern())) {
    const start = m.index;
    const index = Number(m[1]);
    if (!Number.isSafeInteger(index) || index >= count) {
      throw new InternalError(`rendering the ${what} produced an unknown placeholder marker (#${m[1] ?? "?"})`);
    }
    if (s.slice(last, start).toLowerCase().includes(prefix)) {
      throw new InternalError(`rendering the ${what} mangled a placeholder marker; refusing to drop a placeholder`);
    }
    hits.push({ index, start, end: start + m[0].length });
    last = start + m[0].length;
  }
  if (s.slice(last).toLowerCase().includes(prefix)) {
    throw new InternalError(`rendering the ${what} mangled a placeholder marker; refusing to drop a placeholder`);
  }
  return hits;
}

// ---------------------------------------------------------------------------
// HTML context scanning

/** Where a sentinel sits in the HTML, with what is needed to judge it. */
export interface HtmlOccurrence extends SentinelHit {
  context: "html-text" | "html-attr" | "url";
  /** Lowercased name of the element whose text or attribute holds it ("" for top-level text). */
  element: string;
  /** Lowercased attribute name for attribute contexts. */
  attribute?: string;
}

/** A sentinel in a place where no escaping makes a value safe. */
export interface ContextProblem {
  index: number;
  reason: string;
}

type Region =
  | { kind: "text"; start: number; end: number; element: string }
  | { kind: "attr"; start: number; end: number; element: string; attribute: string; quoted: boolean }
  | { kind: "forbidden"; start: number; end: number; reason: string };

/** Elements whose content is not HTML text: a value there could run as code or break out. */
const RAW_TEXT = new Set(["script", "style", "xmp", "iframe", "noembed", "noframes", "noscript", "plaintext"]);
/** Escapable raw text: entities are decoded, tags are not; HTML escaping is sufficient. */
const RCDATA = new Set(["title", "textarea"]);
const VOID = new Set([
  "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr",
]);
/** Attributes holding a URL; a value there is percent-encoded. */
export const URL_ATTRIBUTES = new Set([
  "href", "src", "action", "formaction", "cite", "poster", "background", "longdesc", "usemap",
  "data", "codebase", "manifest", "icon", "lowsrc", "dynsrc", "xlink:href", "ping",
]);
/** URL schemes a template may put a placeholder after. */
const SAFE_URL_PREFIX = /^[\t\n\f\r ]*(?:https?:\/\/[^/?#\s]+[/?#]|mailto:|tel:)/i;

function isAsciiAlpha(c: string | undefined): boolean {
  return c !== undefined && ((c >= "a" && c <= "z") || (c >= "A" && c <= "Z"));
}

function isSpace(c: string | undefined): boolean {
  return c === " " || c === "\n" || c === "\t" || c === "\f" || c === "\r";
}

/**
 * Splits an HTML string into regions covering every character. Follows the
 * WHATWG tokeniser closely enough for Markdown output and hand-written HTML:
 * comments, doctype/processing instructions, start tags with quoted and
 * unquoted attributes, end tags, raw-text elements. A tiny stack of open
 * elements names the element a text region belongs to.
 */
function scanRegions(s: string): Region[] {
  const regions: Region[] = [];
  const n = s.length;
  let cursor = 0;
  const stack: string[] = [];
  const current = (): string => stack[stack.length - 1] ?? "";

  const markup = (end: number, reason: string): void => {
    if (end > cursor) regions.push({ kind: "forbidden", start: cursor, end, reason });
    cursor = Math.max(cursor, end);
  };
  const text = (end: number): void => {
    if (end > cursor) regions.push({ kind: "text", start: cursor, end, element: current() });
    cursor = Math.max(cursor, end);
  };

  let i = 0;
  while (i < n) {
    const lt = s.indexOf("<", i);
    if (lt < 0) break;
    const c1 = s[lt + 1];
    if (s.startsWith("<!--", lt)) {
      text(lt);
      const close = s.indexOf("-->", lt + 4);
      markup(close < 0 ? n : close + 3, "inside an HTML comment");
      i = cursor;
    } else if (c1 === "!" || c1 === "?") {
      text(lt);
      const gt = s.indexOf(">", lt);
      markup(gt < 0 ? n : gt + 1, "inside a doctype or processing instruction");
      i = cursor;
    } else if (c1 === "/" && isAsciiAlpha(s[lt + 2])) {
      text(lt);
      let j = lt + 2;
      while (j < n && !isSpace(s[j]) && s[j] !== "/" && s[j] !== ">") j++;
      const name = s.slice(lt + 2, j).toLowerCase();
      const gt = s.indexOf(">", j);
      markup(gt < 0 ? n : gt + 1, "inside an end tag");
      const at = stack.lastIndexOf(name);
      if (at >= 0) stack.length = at;
      i = cursor;
    } else if (isAsciiAlpha(c1)) {
      text(lt);
      let j = lt + 1;
      while (j < n && !isSpace(s[j]) && s[j] !== "/" && s[j] !== ">") j++;
      const name = s.slice(lt + 1, j).toLowerCase();
      let selfClosing = false;
      // attributes
      while (j < n) {
        while (j < n && (isSpace(s[j]) || s[j] === "/")) {
          selfClosing = s[j] === "/";
          j++;
        }
        if (j >= n || s[j] === ">") break;
        selfClosing = false;
        const nameStart = j;
        j++; // the first character may be `=` (an odd but legal attribute name)
        while (j < n && !isSpace(s[j]) && s[j] !== "/" && s[j] !== ">" && s[j] !== "=") j++;
        const attribute = s.slice(nameStart, j).toLowerCase();
        let k = j;
        while (k < n && isSpace(s[k])) k++;
        if (s[k] !== "=") continue; // attribute without a value
        k++;
        while (k < n && isSpace(s[k])) k++;
        const q = s[k];
        if (q === '"' || q === "'") {
          const close = s.indexOf(q, k + 1);
          const end = close < 0 ? n : close;
          markup(k + 1, "inside a tag or attribute name");
          regions.push({ kind: "attr", start: k + 1, end, element: name, attribute, quoted: true });
          cursor = end;
          j = close < 0 ? n : close + 1;
        } else {
          let end = k;
          while (end < n && !isSpace(s[end]) && s[end] !== ">") end++;
          markup(k, "inside a tag or attribute name");
          regions.push({ kind: "attr", start: k, end, element: name, attribute, quoted: false });
          cursor = end;
          j = end;
        }
      }
      const tagEnd = j >= n ? n : j + 1;
      markup(tagEnd, "inside a tag or attribute name");
      i = cursor;
      if (RAW_TEXT.has(name) || RCDATA.has(name)) {
        const close = name === "plaintext" ? -1 : findEndTag(s, name, tagEnd);
        const end = close < 0 ? n : close;
        if (RCDATA.has(name)) {
          if (end > cursor) regions.push({ kind: "text", start: cursor, end, element: name });
          cursor = end;
        } else {
          markup(end, `inside <${name}>, where escaping cannot make a value safe`);
        }
        i = cursor;
      } else if (!selfClosing && !VOID.has(name)) {
        stack.push(name);
      }
    } else {
      i = lt + 1; // a literal `<` in text
    }
  }
  text(n);
  return regions;
}

function findEndTag(s: string, name: string, from: number): number {
  const lower = s.toLowerCase();
  let at = from;
  while (true) {
    const found = lower.indexOf(`</${name}`, at);
    if (found < 0) return -1;
    const after = s[found + 2 + name.length];
    if (after === undefined || after === ">" || after === "/" || isSpace(after)) return found;
    at = found + 1;
  }
}

/**
 * Classifies every sentinel hit in `html`. Returns the occurrences and the
 * problems (a sentinel in a context where escaping is not enough); the caller
 * decides how to report problems.
 */
export function classifyHtml(
  html: string,
  hits: readonly SentinelHit[],
): { occurrences: HtmlOccurrence[]; problems: ContextProblem[] } {
  const regions = scanRegions(html);
  const occurrences: HtmlOccurrence[] = [];
  const problems: ContextProblem[] = [];
  let r = 0;
  for (const hit of hits) {
    while (r < regions.length && regions[r]!.end <= hit.start) r++;
    const region = regions[r];
    if (region === undefined || region.start > hit.start || region.end < hit.end) {
      problems.push({ index: hit.index, reason: "it straddles HTML markup" });
      continue;
    }
    if (region.kind === "forbidden") {
      problems.push({ index: hit.index, reason: `it is ${region.reason}` });
    } else if (region.kind === "text") {
      occurrences.push({ ...hit, context: "html-text", element: region.element });
    } else {
      const { attribute, element } = region;
      if (!region.quoted) {
        problems.push({ index: hit.index, reason: `the value of attribute "${attribute}" is not quoted` });
      } else if (attribute.startsWith("on")) {
        problems.push({ index: hit.index, reason: `it is inside the event handler "${attribute}" (script)` });
      } else if (attribute === "style") {
        problems.push({ index: hit.index, reason: "it is inside a style attribute (CSS)" });
      } else if (attribute === "srcset") {
        problems.push({ index: hit.index, reason: "it is inside a srcset attribute" });
      } else if (URL_ATTRIBUTES.has(attribute)) {
        const before = html.slice(region.start, hit.start);
        if (!SAFE_URL_PREFIX.test(before)) {
          problems.push({
            index: hit.index,
            reason:
              `it is in the scheme or host of the ${attribute} URL; write the URL's https://host/ in the ` +
              "template and put placeholders in its path or query only (http, https, mailto and tel are allowed)",
          });
        } else {
          occurrences.push({ ...hit, context: "url", element, attribute });
        }
      } else {
        occurrences.push({ ...hit, context: "html-attr", element, attribute });
      }
    }
  }
  return { occurrences, problems };
}

/**
 * Builds a slotted string from `s` and its sentinel hits. `fieldOf` maps a
 * sentinel index to its field; `contextOf` gives the context of each hit.
 */
export function toSlotted(
  s: string,
  hits: readonly SentinelHit[],
  fieldOf: (index: number) => string,
  contextOf: (hit: SentinelHit, i: number) => SlotContext,
  fallbackOf: (index: number) => string | undefined = () => undefined,
): Slotted {
  const parts: Array<string | Slot> = [];
  let last = 0;
  hits.forEach((hit, i) => {
    if (hit.start > last) parts.push(s.slice(last, hit.start));
    const fallback = fallbackOf(hit.index);
    parts.push(Object.freeze({ field: fieldOf(hit.index), context: contextOf(hit, i), ...(fallback !== undefined ? { fallback } : {}) }));
    last = hit.end;
  });
  if (last < s.length) parts.push(s.slice(last));
  return Object.freeze({ parts: Object.freeze(parts) });
}

// ---------------------------------------------------------------------------
// Filling

/** The row's value for `field`, or an error: never `undefined`, never an inherited property. */
export function valueOf(row: Readonly<Record<string, string>>, field: string): string {
  const v = Object.hasOwn(row, field) ? row[field] : undefined;
  if (typeof v !== "string") {
    throw new InternalError(
      `the recipient's row has no value for placeholder {{ ${field} }}; the checks should have refused this newsletter`,
    );
  }
  return v;
}

/** The value a slot shows: the row's, or its default when the row's is blank (`{{ field | "default" }}`). */
export function slotValue(row: Readonly<Record<string, string>>, field: string, fallback: string | undefined): string {
  const v = valueOf(row, field);
  return fallback !== undefined && /^\s*$/u.test(v) ? fallback : v;
}

/**
 * The fast path. A slotted string is turned (once, cached per frozen Slotted)
 * into literals interleaved with references to its distinct (field, context)
 * pairs, so a fill escapes each distinct value once and then concatenates.
 */
interface Plan {
  /** `slotKeys.length + 1` literals; the i-th slot goes between literals i and i+1. */
  literals: string[];
  slotKeys: number[];
  keys: Array<{ field: string; context: SlotContext; fallback: string | undefined }>;
}

const plans = new WeakMap<Slotted, Plan>();

function planOf(slotted: Slotted): Plan {
  const cached = plans.get(slotted);
  if (cached !== undefined) return cached;
  const literals: string[] = [""];
  const slotKeys: number[] = [];
  const keys: Plan["keys"] = [];
  const keyIndex = new Map<string, number>();
  for (const part of slotted.parts) {
    if (typeof part === "string") {
      literals[literals.length - 1] += part;
      continue;
    }
    const id = `${part.context}\u0000${part.field}\u0000${part.fallback ?? "\u0001"}`;
    let k = keyIndex.get(id);
    if (k === undefined) {
      k = keys.length;
      keys.push({ field: part.field, context: part.context, fallback: part.fallback });
      keyIndex.set(id, k);
    }
    slotKeys.push(k);
    literals.push("");
  }
  const plan = { literals, slotKeys, keys };
  // Only an immutable Slotted (as compileBody makes) may be cached by identity.
  if (Object.isFrozen(slotted) && Object.isFrozen(slotted.parts)) plans.set(slotted, plan);
  return plan;
}

function escapeFor(context: SlotContext, value: string, field: string, html: boolean): string {
  switch (context) {
    case "text":
      return value;
    case "html-text":
    case "html-attr":
      return escapeHtml(value);
    case "url":
      try {
        return html ? escapeHtmlUrl(value) : encodeUrlValue(value);
      } catch (e) {
        throw new InternalError(
          `the value for placeholder {{ ${field} }} is not well-formed Unicode and cannot be put in a URL`,
          { cause: e },
        );
      }
  }
}

/**
 * Fills one slotted string from one row. `html` selects how `url` slots are
 * escaped: percent-encoded then HTML-escaped (HTML part) or only
 * percent-encoded (text part).
 */
export function fillSlotted(slotted: Slotted, row: Readonly<Record<string, string>>, html: boolean): string {
  const { literals, slotKeys, keys } = planOf(slotted);
  const values: string[] = new Array<string>(keys.length);
  for (let k = 0; k < keys.length; k++) {
    const key = keys[k]!;
    values[k] = escapeFor(key.context, slotValue(row, key.field, key.fallback), key.field, html);
  }
  let out = literals[0]!;
  for (let i = 0; i < slotKeys.length; i++) out += values[slotKeys[i]!]! + literals[i + 1]!;
  return slotted.wrapColumns === undefined ? out : wrapText(out, slotted.wrapColumns);
}
