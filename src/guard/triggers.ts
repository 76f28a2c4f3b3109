/**
 * Which lines of a text can hold a strong address, found without running
 * the extractor (src/detect/extract.ts) over all of it.
 *
 * Why lines: no step of the extractor joins two lines. Its decodings
 * (decode.ts) match within a line, its obfuscation patterns (deobfuscate.ts)
 * allow only SP and HTAB, folding (fold.ts) works per character, and a
 * candidate (candidate.ts) stops at CR and LF. So a text's addresses are its
 * lines' addresses, and only a line holding something that can become a
 * strong `@` can hold one. test/guard.test.ts checks both claims against the
 * extractor on generated strings, so a change there that breaks them fails.
 *
 * Something that can become a strong `@`:
 * - `@`, or any non-ASCII character (`＠`, `﹫`, full-width letters and
 *   brackets, invisible characters, `アットマーク`...);
 * - `\` (escapes), `%XX` (percent-encoding);
 * - a numeric character reference other than a quote's, or a named one that
 *   decode.ts decodes (detect/entities.ts) to anything but a quote: `&quot;`
 *   does not count, `&middot;` does (as `·` would), and so does `&amp;`
 *   (`&amp;#64;` is decoded twice);
 * - an opening bracket, `at` and a closing bracket, blanks between, in either
 *   case (the extractor lowercases); in HTML tags may sit between them too.
 *
 * Found by `indexOf` per character, which V8 runs at memchr speed: one regex
 * over the whole text cost more than the extraction it saved.
 */
import { namedReferenceAt } from "../detect/entities.ts";
import { hex as importedHex } from "./encoded-word.ts";

/** A local binding: the TypeScript loaders (tsx, vite) turn each use of an import into a getter call, measurable in a byte loop. */
const hex = importedHex;

const TRIGGER_CHARS = ["@", "\\", "%", "&", "[", "(", "{", "<"] as const;
const NON_ASCII = /[\u0080-\uffff]/g;
const QUOTE_REFS = ["&#39;", "&#x27;", "&#X27;", "&#34;", "&#x22;", "&#X22;"];

function triggersAt(text: string, p: number, html: boolean): boolean {
  const c = text.charCodeAt(p);
  if (c === 0x40 || c === 0x5c || c >= 0x80) return true;
  if (c === 0x25) return hex(text.charCodeAt(p + 1)) >= 0 && hex(text.charCodeAt(p + 2)) >= 0;
  if (c === 0x26) return referenceTriggers(text, p);
  // `[`, `(`, `{`, `<`, then `at`, then `]`, `)`, `}`, `>`.
  let i = skip(text, p + 1, html);
  if ((text.charCodeAt(i) | 0x20) !== 0x61 || (text.charCodeAt(i + 1) | 0x20) !== 0x74) return false;
  i = skip(text, i + 2, html);
  const close = text.charCodeAt(i);
  return close === 0x5d || close === 0x29 || close === 0x7d || close === 0x3e;
}

/** `&` at `p`: a reference decode.ts turns into something other than a quote? The same decoder for names (detect/entities.ts). */
function referenceTriggers(text: string, p: number): boolean {
  if (text.charCodeAt(p + 1) === 0x23) return !QUOTE_REFS.some((r) => text.startsWith(r, p));
  const value = namedReferenceAt(text, p)?.value;
  return value !== undefined && value !== '"' && value !== "'";
}

/** Past SP and HTAB, and in HTML past tags and comments (`[<b>at</b>]` shows as `[at]`). */
function skip(text: string, i: number, html: boolean): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09) i++;
    else if (html && c === 0x3c && isTagStart(text.charCodeAt(i + 1))) {
      const gt = text.indexOf(">", i);
      if (gt < 0) return i;
      i = gt + 1;
    } else return i;
  }
}

function isTagStart(c: number): boolean {
  return isAlpha(c) || c === 0x2f || c === 0x21;
}

function isAlpha(c: number): boolean {
  return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
}

/** Is there anything in `line` that the extractor could turn into a strong `@`? */
export function mayHoldStrongAt(line: string, html = false): boolean {
  for (const ch of TRIGGER_CHARS) {
    for (let p = line.indexOf(ch); p >= 0; p = line.indexOf(ch, p + 1)) if (triggersAt(line, p, html)) return true;
  }
  NON_ASCII.lastIndex = 0;
  return NON_ASCII.test(line);
}

/**
 * Start offsets of the lines of `text` that may hold a strong address,
 * ascending, each once. `ascii`: the caller knows the text is ASCII
 * (Buffer `isAscii`), which skips the search for non-ASCII characters.
 */
export function triggerLines(text: string, ascii: boolean, html: boolean): number[] {
  const hits: number[] = [];
  for (const ch of TRIGGER_CHARS) {
    let p = text.indexOf(ch);
    while (p >= 0) {
      if (!triggersAt(text, p, html)) {
        p = text.indexOf(ch, p + 1);
        continue;
      }
      hits.push(text.lastIndexOf("\n", p) + 1);
      // One hit per line and character is enough: resume after the line.
      const e = text.indexOf("\n", p);
      p = e < 0 ? -1 : text.indexOf(ch, e + 1);
    }
  }
  if (!ascii) {
    const re = NON_ASCII;
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      hits.push(text.lastIndexOf("\n", m.index) + 1);
      const e = text.indexOf("\n", m.index);
      if (e < 0) break;
      re.lastIndex = e + 1;
    }
  }
  if (hits.length < 2) return hits;
  hits.sort((a, b) => a - b);
  let n = 1;
  for (let i = 1; i < hits.length; i++) if (hits[i] !== hits[n - 1]) hits[n++] = hits[i]!;
  hits.length = n;
  return hits;
}
