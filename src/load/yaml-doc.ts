/**
 * YAML text → a document whose every node still knows where it came from.
 *
 * Pure: takes text, returns findings; never reads a file. What a reviewer
 * sees in the pull request must be what is loaded, so the YAML features that
 * make a file mean something other than it reads are refused:
 *
 * - anchors `&a`, aliases `*a` and merge keys `<<` (a value defined far away,
 *   or keys that appear in no line of the mapping they end up in);
 * - explicit tags (`!foo`, `!!binary`, `!!str`): a value's type is what it looks like;
 * - `%YAML`/`%TAG` directives (`%YAML 1.1` turns `yes`, `no`, `on` and `010`
 *   into other values);
 * - collections used as keys;
 * - hexadecimal and octal numbers (`0x10` is 16): write numbers in decimal.
 *
 * The YAML 1.2 core schema is used (no timestamps, no `yes`/`no` booleans),
 * duplicate keys are errors, and every parser warning becomes an error.
 */
import {
  LineCounter,
  isAlias,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
  visit,
  type Document,
  type ErrorCode,
  type Node,
  type Scalar,
  type YAMLError,
} from "yaml";
import { finding, type Finding, type Position } from "../findings/finding.ts";
import { maskAddressesIn, quoteForMessage } from "./safe-text.ts";

export interface YamlSource {
  readonly file: string;
  readonly text: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
}

export interface YamlLoad {
  /** The parsed document, for `locate`; present even when there are findings. */
  source: YamlSource;
  /**
   * The root mapping as plain data, or null when it cannot be used: syntax
   * errors, empty file, a root that is not a mapping, aliases.
   */
  data: Record<string, unknown> | null;
  /** `yaml-syntax` findings, sorted by position. */
  findings: Finding[];
}

/** What the parser says, and what the author should do about it. */
const HINTS: Partial<Record<ErrorCode, string>> = {
  TAB_AS_INDENT: "indent with spaces",
  BAD_SCALAR_START: 'put the value in quotes (e.g. "@carol")',
  BAD_INDENT: "check the indentation: items of one mapping or list start at the same column",
  BLOCK_AS_IMPLICIT_KEY: 'if the value contains ": " or starts with a special character, put it in quotes',
  MULTIPLE_DOCS: 'the file holds one document: remove the second "---"',
  MISSING_CHAR: "close the quote or bracket",
  BAD_DQ_ESCAPE: 'in double quotes a backslash starts an escape; write "\\\\" for a backslash or use single quotes',
  MULTILINE_IMPLICIT_KEY: "a key must fit on one line; check for a missing colon or quote on the line before",
  KEY_OVER_1024_CHARS: "keys are short names",
};

/**
 * `subject：` written with a Japanese IME: a full-width colon (U+FF1A) is no
 * key separator to YAML, whose own message ("must be a mapping", "implicit
 * key") does not say why. Reported at the `：` of each line that starts with
 * a name followed by one.
 */
function fullWidthColons(text: string, at: (offset: number) => Position, add: (p: Position, message: string) => void): void {
  for (const m of text.matchAll(/^[ \t]*(?:- )?([\p{L}\p{N}_-]{1,40})[ \t]*：/gmu)) {
    add(at(m.index + m[0].length - 1), `\`${m[1]}：\` has a full-width colon (：); YAML needs an ASCII colon and a space: \`${m[1]}: \``);
  }
}

export function parseYaml(text: string, file: string): YamlLoad {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: true,
    version: "1.2",
    schema: "core",
    merge: false,
    uniqueKeys: true,
    strict: true,
    keepSourceTokens: false,
  });
  const source: YamlSource = { file, text, doc, lineCounter };
  const findings: Finding[] = [];
  const at = (offset: number): Position => offsetPosition(source, offset);
  const add = (p: Position, message: string, severity: Finding["severity"] = "error") =>
    findings.push(finding("yaml-syntax", file, p, maskAddressesIn(message), severity));

  for (const e of doc.errors) add(errorPosition(source, e), errorMessage(text, e));
  for (const w of doc.warnings) {
    // Unknown tags are reported below, once, with the reason they are refused.
    if (w.code === "TAG_RESOLVE_FAILED") continue;
    add(errorPosition(source, w), errorMessage(text, w));
  }

  if (doc.directives?.yaml.explicit || Object.keys(doc.directives?.tags ?? {}).some((h) => h !== "!!")) {
    const m = /^%/m.exec(text);
    add(at(m ? m.index : 0), "%YAML and %TAG directives are not allowed: they change what the values mean; remove the directive lines");
  }

  let aliases = false;
  let complexKeys = false;
  visit(doc, (_key, node) => {
    if (isAlias(node)) {
      aliases = true;
      add(at(node.range?.[0] ?? 0), `alias *${node.source} is not allowed: write the value out in full, so that what is reviewed is what is loaded`);
      return;
    }
    if (isPair(node)) {
      const k = node.key;
      if (isScalar(k) && k.value === "<<" && k.type === "PLAIN") {
        add(at(k.range?.[0] ?? 0), "merge key << is not allowed: write the keys out in full, so that what is reviewed is what is loaded");
      } else if (k !== null && !isScalar(k)) {
        complexKeys = true;
        add(at(nodeStart(k)), "a key must be a plain name, not a list or mapping");
      }
      commentInValue(source, node.key, node.value, add);
      return;
    }
    if (isScalar(node) || isCollection(node)) {
      const start = node.range?.[0] ?? 0;
      if (node.anchor) {
        const i = text.lastIndexOf(`&${node.anchor}`, start);
        add(at(i >= 0 ? i : start), `anchor &${node.anchor} is not allowed: write every value out where it is used, so that what is reviewed is what is loaded`);
      }
      if (isScalar(node) && (node.format === "HEX" || node.format === "OCT")) {
        add(at(start), "hexadecimal and octal numbers are not allowed: write the number in decimal (or quote it if it is text)");
      }
      if (node.tag) {
        const i = tagOffset(text, start);
        const written = i >= 0 ? (/^![^\s,[\]{}]*/.exec(text.slice(i))?.[0] ?? node.tag) : node.tag;
        add(at(i >= 0 ? i : start), `tag ${written} is not allowed: a value's type must be what it looks like; remove the tag (put text in quotes)`);
      }
    }
    return undefined;
  });

  let data: Record<string, unknown> | null = null;
  const root = doc.contents;
  if (doc.errors.length > 0 || !isMap(root)) fullWidthColons(text, at, add);
  if (doc.errors.length === 0) {
    if (root === null || (isScalar(root) && root.value === null)) {
      add({ line: 1, column: 1 }, "the file is empty: it must hold a mapping of keys to values");
    } else if (!isMap(root)) {
      const found = isSeq(root) ? "a list" : "a single value";
      add(at(nodeStart(root)), `the top level must be a mapping of keys to values (key: value lines), found ${found}`);
    } else if (!aliases && !complexKeys) {
      try {
        const js: unknown = doc.toJS({ maxAliasCount: 0 });
        if (js !== null && typeof js === "object" && !Array.isArray(js)) data = js as Record<string, unknown>;
      } catch {
        data = null;
      }
    }
  }

  findings.sort((a, b) => a.line - b.line || a.column - b.column);
  return { source, data, findings };
}

/** Where the parser located the problem. */
function errorPosition(src: YamlSource, e: YAMLError): Position {
  return offsetPosition(src, e.pos[0]);
}

/** The parser's message without its position suffix and code frame, plus a hint. */
function errorMessage(text: string, e: YAMLError): string {
  let msg = e.message.replace(/ at line \d+, column \d+[\s\S]*$/, "").trim();
  if (e.code === "DUPLICATE_KEY") {
    const key = /^[^:\n]*/.exec(text.slice(e.pos[0]))?.[0]?.trim() ?? "";
    return `duplicate key ${quoteForMessage(key.replace(/^["']|["']$/g, ""))}: each key may appear once in a mapping; remove or merge the second one`;
  }
  if (!msg) msg = "YAML syntax error";
  const hint = HINTS[e.code];
  return hint ? `${msg}; ${hint}` : msg;
}

/** The `!` that starts the tag written before the node starting at `start`, on the same line. */
function tagOffset(text: string, start: number): number {
  const lineStart = text.lastIndexOf("\n", start - 1) + 1;
  for (let i = start; i >= lineStart; i--) {
    if (text[i] === "!" && (i === lineStart || /[\s[{,:-]/.test(text[i - 1] ?? " "))) {
      // The tag's leading "!" (of "!!str" take the first one).
      let j = i;
      while (j > lineStart && text[j - 1] === "!") j--;
      return j;
    }
  }
  return -1;
}

/**
 * `subject: Issue #42 is out` loads as "Issue": the rest is a comment. A
 * reviewer (and most people) reads it as text. Warn when a comment directly
 * follows a plain value with no space after the `#`.
 */
function commentInValue(
  src: YamlSource,
  key: unknown,
  value: unknown,
  add: (p: Position, message: string, severity?: Finding["severity"]) => void,
): void {
  if (!isScalar(value) || value.type !== "PLAIN" || typeof value.value !== "string" || !value.range) return;
  const tail = src.text.slice(value.range[1], value.range[2]);
  const m = /^[ \t]+#(?=\S)/.exec(tail);
  if (!m) return;
  const keyName = isScalar(key) ? String(key.value) : "the value";
  add(
    offsetPosition(src, value.range[1] + m[0].length - 1),
    `the text from " #" on is a YAML comment, so ${keyName} is ${quoteForMessage(value.value)}; if "#" is part of the value, put the whole value in quotes`,
    "warning",
  );
}

function nodeStart(n: unknown): number {
  return (n as { range?: [number, number, number] | null }).range?.[0] ?? 0;
}

/** Offset in the text → position. A leading byte order mark is not a column an editor shows. */
export function offsetPosition(src: YamlSource, offset: number): Position {
  const p = src.lineCounter.linePos(Math.max(0, Math.min(offset, src.text.length)));
  const bom = p.line === 1 && p.col > 1 && src.text.charCodeAt(0) === 0xfeff ? 1 : 0;
  return { line: p.line, column: p.col - bom };
}

/** RFC 6901 JSON Pointer (ajv's `instancePath`) → segments. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

/** One segment escaped for a JSON Pointer. */
export function escapePointer(segment: string | number): string {
  return String(segment).replace(/~/g, "~0").replace(/\//g, "~1");
}

interface Walk {
  node: unknown;
  /** The key through which `node` was reached, when it was reached through a mapping. */
  key: Node | null;
  /** Every segment of the pointer was found. */
  complete: boolean;
}

function walk(src: YamlSource, pointer: string): Walk {
  let node: unknown = src.doc.contents;
  let key: Node | null = null;
  for (const seg of pointerSegments(pointer)) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) return { node, key, complete: false };
      key = isScalar(pair.key) ? pair.key : null;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = /^(0|[1-9][0-9]*)$/.test(seg) ? node.items[Number(seg)] : undefined;
      if (item === undefined) return { node, key, complete: false };
      key = null;
      node = item;
    } else {
      return { node, key, complete: false };
    }
  }
  return { node, key, complete: true };
}

/**
 * Source position of the value at `pointer` (an ajv `instancePath`).
 *
 * - `target: "node"` (default): a scalar or flow collection → its first
 *   character; a block mapping or list reached through a key → that key (the
 *   line a reader looks at); an empty value → its key; a list item → the item.
 *   This is the place for "missing required key" (pass the parent's pointer).
 * - `target: "key"`: the key of the last segment (for "unknown key").
 *
 * When part of the pointer does not exist in the document, the deepest
 * existing node is used.
 */
export function locate(src: YamlSource, pointer: string, target: "node" | "key" = "node"): Position {
  const { node, key, complete } = walk(src, pointer);
  const keyStart = key?.range?.[0];
  if (target === "key" && complete && keyStart !== undefined) return offsetPosition(src, keyStart);
  if (isScalar(node) && node.range) {
    const empty = node.value === null && node.range[0] === node.range[1];
    if (empty && keyStart !== undefined) return offsetPosition(src, keyStart);
    return offsetPosition(src, node.range[0]);
  }
  if ((isCollection(node) || isAlias(node)) && node.range) {
    if (isCollection(node) && !node.flow && keyStart !== undefined) return offsetPosition(src, keyStart);
    return offsetPosition(src, node.range[0]);
  }
  if (keyStart !== undefined) return offsetPosition(src, keyStart);
  return { line: 1, column: 1 };
}

/**
 * Position of the first character of a scalar's content: inside the quote
 * for quoted scalars, the first content line of a block scalar. Content
 * checks (on the subject, say) add their own offset to this. Undefined when
 * there is no scalar at `pointer`.
 */
export function locateValue(src: YamlSource, pointer: string): Position | undefined {
  const { node, complete } = walk(src, pointer);
  if (!complete || !isScalar(node) || !node.range) return undefined;
  return offsetPosition(src, contentStart(src, node));
}

/** Offset in the text of a scalar's first content character (see `locateValue`). */
function contentStart(src: YamlSource, node: Scalar): number {
  const range = node.range!;
  const start = range[0];
  switch (node.type) {
    case "QUOTE_DOUBLE":
    case "QUOTE_SINGLE":
      return start + 1;
    case "BLOCK_LITERAL":
    case "BLOCK_FOLDED": {
      const nl = src.text.indexOf("\n", start);
      if (nl < 0) return start;
      let i = nl + 1;
      while (i < range[1] && (src.text[i] === " " || src.text[i] === "\n" || src.text[i] === "\r")) i++;
      return i;
    }
    default:
      return start;
  }
}

/** Source position of a character of a string value, by its UTF-16 offset in the value. */
export type ValueLocator = (offset: number) => Position;

/**
 * Where each character of the string value at `pointer` stands in the file,
 * also when the value is not a copy of one stretch of a line: a plain or
 * quoted scalar folded over several lines, a block scalar (`>-`, `|`), or a
 * double-quoted scalar with escapes (`\u00e9`, `\"`). Findings on the subject
 * then point at the line and column a reader sees. Undefined when there is
 * no string scalar at `pointer`.
 *
 * The value is aligned with its source text character by character: equal
 * characters match; a double-quoted escape matches the character(s) it
 * stands for; a space or line break that folding made matches the line
 * break it came from; any other source character (indentation, a doubled
 * `''`, a line break folded away) is skipped.
 */
export function valueLocator(src: YamlSource, pointer: string): ValueLocator | undefined {
  const { node, complete } = walk(src, pointer);
  if (!complete || !isScalar(node) || !node.range || typeof node.value !== "string") return undefined;
  const value = node.value;
  const text = src.text;
  const end = node.range[1];
  const dq = node.type === "QUOTE_DOUBLE";
  const first = contentStart(src, node);
  const map = new Array<number>(value.length);
  let i = 0;
  let j = first;
  while (i < value.length && j < end) {
    const c = text[j]!;
    if (dq && c === "\\") {
      const e = text[j + 1];
      if (e === "\n" || e === "\r") {
        // An escaped line break joins the lines: it and the next line's indentation stand for nothing.
        j += e === "\r" && text[j + 2] === "\n" ? 3 : 2;
        while (j < end && (text[j] === " " || text[j] === "\t")) j++;
        continue;
      }
      const len = e === "x" ? 4 : e === "u" ? 6 : e === "U" ? 10 : 2;
      const units = e === "U" && Number.parseInt(text.slice(j + 2, j + 10), 16) > 0xffff ? 2 : 1;
      for (let k = 0; k < units && i < value.length; k++) map[i++] = j;
      j += len;
      continue;
    }
    const v = value[i]!;
    if (c === v || ((v === " " || v === "\n") && (c === "\n" || c === "\r"))) {
      map[i++] = j++;
      continue;
    }
    j++;
  }
  const base = offsetPosition(src, first);
  return (offset: number): Position => {
    const o = Math.max(0, Math.trunc(offset));
    if (o < i) return offsetPosition(src, map[o]!);
    // Past what could be aligned (should not happen): the old estimate, on the first line.
    return { line: base.line, column: base.column + o };
  };
}
