/**
 * Address scanning for the guard: every header value and every decoded text
 * part goes in, the first address that is neither the recipient's, nor ours,
 * nor allowlisted comes out. Extraction is the static checks' own
 * (src/check/leak/extract.ts: entity, percent and escape decoding, NFKC,
 * dropping invisible characters, `＠`, `[at]`, `アットマーク`...), so the guard
 * sees every spelling the checks see.
 *
 * Weak candidates (the spaced word: "alice at example dot com") are ignored:
 * prose such as "available at example.com" produces them, and a guard that
 * aborted a million-message send on a sentence would be switched off. The
 * static checks still hold weak ones against the recipient lists.
 *
 * Speed: the extractor keeps positions for line/column findings and runs
 * several passes over its input, about 15 µs per KB. The guard does not
 * need all of the text: no step of the extractor joins two lines (its
 * decodings match within a line, its obfuscation patterns allow only SP and
 * HTAB, and a candidate stops at CR or LF), so an address can only be found
 * in a line that holds something that can become a strong `@`. Only such
 * lines are collected — at most once each — and extracted in ONE call, then
 * mapped back to where they came from. `mayHoldStrongAt` is a superset test
 * of "something that can become a strong `@`"; test/guard.test.ts checks it
 * against the extractor on generated tricky strings.
 */
import { mask } from "../address/mask.ts";
import { findAddresses } from "../check/leak/extract.ts";
import { isAllowed } from "./allowed.ts";
import { decodeEncodedWords, hex } from "./encoded-word.ts";
import { UNUSUAL_NAME, type Field } from "./header-block.ts";
import type { GuardContext } from "./port.ts";
import { refuse } from "./refusal.ts";

/**
 * A line may hold a strong address only if it has: `@` or any non-ASCII
 * character (`＠`, `﹫`, full-width and ignorable characters, `アットマーク`,
 * full-width brackets...); a backslash escape; a percent escape; a character
 * reference other than the few that decode to a quote, which take part in
 * no address spelling (`&amp;` does: `&amp;#64;` is decoded twice); or a
 * bracketed `at` in ASCII, in either case (the extractor lowercases).
 * Found with `indexOf` per character, which V8 runs at memchr speed: a
 * regex over the whole text cost more than the extraction it saved.
 */
const TRIGGER_CHARS = ["@", "\\", "%", "&", "[", "(", "{", "<"] as const;
const NON_ASCII = /[\u0080-\uffff]/g;
const QUOTE_REFS = ["&quot;", "&apos;", "&#39;", "&#x27;", "&#X27;", "&#34;", "&#x22;", "&#X22;"];

function triggersAt(text: string, p: number): boolean {
  const c = text.charCodeAt(p);
  if (c === 0x40 || c === 0x5c || c >= 0x80) return true;
  if (c === 0x25) return hex(text.charCodeAt(p + 1)) >= 0 && hex(text.charCodeAt(p + 2)) >= 0;
  if (c === 0x26) return !QUOTE_REFS.some((r) => text.startsWith(r, p));
  // `[`, `(`, `{`, `<`: [ \t]* "at" [ \t]* and a closing bracket.
  let i = p + 1;
  while (isBlank(text.charCodeAt(i))) i++;
  if ((text.charCodeAt(i) | 0x20) !== 0x61 || (text.charCodeAt(i + 1) | 0x20) !== 0x74) return false;
  i += 2;
  while (isBlank(text.charCodeAt(i))) i++;
  const close = text.charCodeAt(i);
  return close === 0x5d || close === 0x29 || close === 0x7d || close === 0x3e;
}

function isBlank(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/** Is there anything in `line` that the extractor could turn into a strong `@`? */
export function mayHoldStrongAt(line: string): boolean {
  for (const ch of TRIGGER_CHARS) {
    for (let p = line.indexOf(ch); p >= 0; p = line.indexOf(ch, p + 1)) if (triggersAt(line, p)) return true;
  }
  NON_ASCII.lastIndex = 0;
  return NON_ASCII.test(line);
}

export class Scanner {
  private readonly lines: string[] = [];
  private readonly wheres: string[] = [];
  private readonly seen = new Set<string>();

  /**
   * Collects the lines of `text` that may hold a strong address, labelled
   * `where`. `ascii`: the caller knows the text is ASCII (Buffer `isAscii`),
   * which skips the search for non-ASCII characters.
   */
  add(where: string, text: string, ascii = false): void {
    const starts: number[] = [];
    const mark = (p: number): number => {
      starts.push(text.lastIndexOf("\n", p) + 1);
      const e = text.indexOf("\n", p);
      return e < 0 ? text.length : e;
    };
    for (const ch of TRIGGER_CHARS) {
      let p = text.indexOf(ch);
      while (p >= 0) p = triggersAt(text, p) ? text.indexOf(ch, mark(p) + 1) : text.indexOf(ch, p + 1);
    }
    if (!ascii) {
      const re = NON_ASCII;
      re.lastIndex = 0;
      for (let m = re.exec(text); m !== null; m = re.exec(text)) re.lastIndex = mark(m.index) + 1;
    }
    if (starts.length === 0) return;
    starts.sort((a, b) => a - b);
    let prev = -1;
    for (const s of starts) {
      if (s === prev) continue;
      prev = s;
      let e = text.indexOf("\n", s);
      if (e < 0) e = text.length;
      const line = text.slice(s, e);
      if (this.seen.has(line)) continue;
      this.seen.add(line);
      this.lines.push(line);
      this.wheres.push(where);
    }
  }

  /** Refuses at the first strong address that `ctx` does not allow; order: as added. */
  check(ctx: GuardContext): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join("\n");
    const found = findAddresses(text);
    for (const f of found) {
      if (!f.strong || isAllowed(f.address, ctx)) continue;
      const where = this.wheres[this.lineAt(f.offset)]!;
      const masked = mask(f.address);
      refuse(
        "foreign-address",
        where,
        `${masked} in ${where} is not the recipient, not one of our own addresses and not allowlisted ` +
          "(leakage.allow_addresses, leakage.allow_domains): the send is aborted, not this message skipped",
        masked,
      );
    }
  }

  /** Index of the collected line holding `offset` of the joined text. */
  private lineAt(offset: number): number {
    let end = -1;
    for (let i = 0; i < this.lines.length; i++) {
      end += 1 + this.lines[i]!.length;
      if (offset <= end) return i;
    }
    return this.lines.length - 1;
  }
}

/** A header's value (RFC 2047-decoded and, where that changed it, raw too) and an unusual name. */
export function scanField(scanner: Scanner, f: Field, where: string): void {
  const decoded = decodeEncodedWords(f.value, where);
  scanner.add(where, decoded);
  // A reader whose RFC 2047 decoding differs from ours shows the raw form.
  if (decoded !== f.value) scanner.add(where, f.value);
  if (f.label === UNUSUAL_NAME) scanner.add(where, f.name);
}
