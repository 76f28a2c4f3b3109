/**
 * Header fields as CRLF-terminated ASCII lines: folding (RFC 5322 §2.2.3),
 * unstructured text (§3.2.5, Subject and extra headers) and mailboxes
 * (§3.4, From/To), with RFC 2047 encoded-words for what ASCII cannot carry.
 *
 * Folding only ever inserts CRLF before whitespace that is already there
 * (between words, or the single SP between encoded-words, which decoders
 * drop, RFC 2047 §6.2), so unfolding gives back the value. Lines are at most
 * 78 characters (§2.1.1 SHOULD) except where one indivisible token — an
 * address, a URL, a Message-ID — is longer by itself; no line can exceed 998
 * (§2.1.1 MUST): that throws.
 *
 * Folding is our own rather than libmime's `foldLines`: on the send's
 * per-message headers it costs 0.5 µs where libmime's costs 3.9 µs, 3.5 % of
 * a message's compose time (bench/README.md, "Header encoding").
 */
import { composeFail, checkAddress, checkHeaderValue } from "./syntax.ts";
import { encodeWords, MAX_WORD } from "./encoded-word.ts";

export const MAX_LINE = 78;
export const HARD_LINE = 998;

/** A token of a header value and the whitespace before it ("" where no fold is allowed). */
export interface Piece {
  readonly sep: string;
  readonly text: string;
}

/**
 * `Name: piece piece...` CRLF, folded before a piece's whitespace whenever the
 * line would pass 78 characters. Returns the longest line's length as well.
 */
export function foldPieces(name: string, pieces: readonly Piece[]): { field: string; longest: number } {
  let out = `${name}:`;
  let col = out.length;
  let longest = col;
  for (const p of pieces) {
    const w = p.sep.length + p.text.length;
    if (p.sep !== "" && col > 0 && col + w > MAX_LINE) {
      out += "\r\n";
      col = 0;
    }
    out += p.sep + p.text;
    col += w;
    if (col > longest) longest = col;
  }
  return { field: `${out}\r\n`, longest };
}

/** Like foldPieces, and refuses a line over 998 characters. */
export function field(name: string, pieces: readonly Piece[]): string {
  const { field: f, longest } = foldPieces(name, pieces);
  if (longest > HARD_LINE) composeFail(`the ${name} header would need a line over ${HARD_LINE} characters (RFC 5322 §2.1.1)`);
  return f;
}

/** Printable ASCII and SP only, no leading or trailing SP, no "=?" that a decoder would take for an encoded-word. */
const PLAIN_TEXT = /^(?:[\x21-\x7e]+(?: +[\x21-\x7e]+)*)?$/;
/** RFC 5322 §3.2.3 atoms separated by single spaces: a phrase that needs no quoting. */
const ATOM_PHRASE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** Printable ASCII, SP inside: fits a quoted-string (§3.2.4) after escaping `"` and `\`. */
const QUOTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

function words(value: string): Piece[] {
  const pieces: Piece[] = [];
  const re = /( *)([^ ]+)/g;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) pieces.push({ sep: m[1] || " ", text: m[2]! });
  return pieces;
}

function encodedPieces(name: string, value: string): Piece[] {
  // First line: "Name: " then the first word.
  return encodeWords(value, MAX_LINE - name.length - 2, MAX_WORD).map((text) => ({ sep: " ", text }));
}

/**
 * An unstructured field (RFC 5322 §3.2.5): as is when it is plain ASCII that
 * folds within 78 characters, else wholly as encoded-words (RFC 2047 §5 (1)),
 * which also carries leading, trailing and repeated spaces and controls.
 */
export function unstructuredField(name: string, value: string): string {
  checkHeaderValue(name, value);
  if (value === "") return `${name}:\r\n`;
  if (PLAIN_TEXT.test(value) && !value.includes("=?")) {
    const plain = foldPieces(name, words(value));
    if (plain.longest <= MAX_LINE) return plain.field;
  }
  return field(name, encodedPieces(name, value));
}

/**
 * A display name (RFC 5322 §3.2.5 phrase) as pieces for the field `name`: an
 * atom phrase as is, a quoted-string for other printable ASCII, encoded-words
 * (RFC 2047 §5 (3)) for non-ASCII, controls, "=?", or a name too long for one
 * line. [] for "".
 */
export function phrasePieces(name: string, display: string): Piece[] {
  checkHeaderValue(`${name} display name`, display);
  if (display === "") return [];
  if (!display.includes("=?")) {
    if (ATOM_PHRASE.test(display)) {
      const phrase = words(display);
      if (foldPieces(name, phrase).longest <= MAX_LINE) return phrase;
    } else if (QUOTABLE.test(display)) {
      const quoted = `"${display.replace(/["\\]/g, "\\$&")}"`;
      if (name.length + 2 + quoted.length <= MAX_LINE) return [{ sep: " ", text: quoted }];
    }
  }
  return encodedPieces(name, display);
}

/**
 * A mailbox (RFC 5322 §3.4): the bare addr-spec without a display name, else
 * `phrase <addr-spec>`. The address is emitted exactly as given (checked).
 */
export function mailboxField(name: string, mailbox: { name?: string | undefined; address: string }): string {
  const address = checkAddress(name, mailbox.address);
  const phrase = phrasePieces(name, mailbox.name ?? "");
  if (phrase.length === 0) return field(name, [{ sep: " ", text: address }]);
  return field(name, [...phrase, { sep: " ", text: `<${address}>` }]);
}
