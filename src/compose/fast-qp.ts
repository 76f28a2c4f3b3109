/**
 * A quoted-printable body part (RFC 2045 §6.7) encoded once per newsletter,
 * with holes where one recipient's values go.
 *
 * qp.ts is line-local: every rule looks no further than the next hard break
 * and the column restarts at 0 after it, so the encoding of a text is the
 * encodings of its pieces joined, whenever the text is cut right after a
 * hard break. A compiled body (render/slots.ts) is literal text with slots;
 * here it is cut after every hard break that lies wholly inside a literal:
 *
 * - a run of lines without a slot is encoded now, once, and copied as bytes;
 * - a run of lines holding a slot is kept as a small slotted string of its
 *   own, filled (with the renderer's own escaping, fillSlotted) and encoded
 *   per recipient — so a value with "=", a leading ".", "From ", trailing
 *   spaces, CR/LF or non-ASCII is encoded exactly as the slow path would.
 *
 * Where a cut is safe: after "\n", and after a "\r" that the same literal
 * follows with something other than "\n". A "\r" that ends a literal is not
 * a cut: the value after it could start with "\n" and make one CRLF break.
 * A wrapped part (the text part, Slotted.wrapColumns) is wrapped line by
 * line, so each piece, a run of whole lines, is wrapped on its own: fixed
 * pieces once here, slot pieces after filling.
 *
 * The part's last piece is encoded as the end of the part (rule 3: trailing
 * whitespace there is encoded), every other piece ends with its break.
 */
import type { Slot, Slotted } from "../render/body.ts";
import { wrapText } from "../render/cjk.ts";
import { fillSlotted } from "../render/slots.ts";
import { encodeQuotedPrintable, encodeQuotedPrintableInto, qpMaxLength } from "./qp.ts";

/** Encoded once: the octets to copy. */
interface FixedPiece {
  readonly kind: "fixed";
  readonly bytes: Buffer;
}

/** Filled and encoded per recipient. */
interface SlotPiece {
  readonly kind: "slots";
  /** Frozen, so fillSlotted caches its plan. */
  readonly slotted: Slotted;
}

export interface QpTemplate {
  readonly pieces: ReadonlyArray<FixedPiece | SlotPiece>;
  /** `html`: url slots are percent-encoded and then HTML-escaped (as fillBody does for the HTML part). */
  readonly html: boolean;
  /** Octets of the fixed pieces, for sizing. */
  readonly fixedLength: number;
}

/** Offsets just after each safe cut in `s` (see the module comment). */
function cutsIn(s: string): number[] {
  const cuts: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a) cuts.push(i + 1);
    else if (c === 0x0d && i + 1 < s.length && s.charCodeAt(i + 1) !== 0x0a) cuts.push(i + 1);
  }
  return cuts;
}

/** Compiles one slotted part. */
export function compileQpTemplate(slotted: Slotted, html: boolean): QpTemplate {
  // Lines: each an array of parts, ended by a safe cut (the last one by the part's end).
  const lines: Array<Array<string | Slot>> = [[]];
  for (const part of slotted.parts) {
    if (typeof part !== "string") {
      lines[lines.length - 1]!.push(part);
      continue;
    }
    let from = 0;
    for (const cut of cutsIn(part)) {
      lines[lines.length - 1]!.push(part.slice(from, cut));
      lines.push([]);
      from = cut;
    }
    if (from < part.length) lines[lines.length - 1]!.push(part.slice(from));
  }

  const pieces: Array<FixedPiece | SlotPiece> = [];
  let fixedLength = 0;
  let run: Array<string | Slot> = [];
  let runHasSlot = false;
  const flush = () => {
    if (run.length === 0) return;
    const wrapColumns = slotted.wrapColumns;
    if (runHasSlot) {
      const parts = Object.freeze(run);
      pieces.push({ kind: "slots", slotted: Object.freeze(wrapColumns === undefined ? { parts } : { parts, wrapColumns }) });
    } else {
      const literal = run.join("");
      const bytes = encodeQuotedPrintable(Buffer.from(wrapColumns === undefined ? literal : wrapText(literal, wrapColumns), "utf8"));
      fixedLength += bytes.length;
      pieces.push({ kind: "fixed", bytes });
    }
    run = [];
  };
  for (const line of lines) {
    if (line.length === 0) continue;
    const hasSlot = line.some((p) => typeof p !== "string");
    if (hasSlot !== runHasSlot) {
      flush();
      runHasSlot = hasSlot;
    }
    run.push(...line);
  }
  flush();
  return Object.freeze({ pieces: Object.freeze(pieces), html, fixedLength });
}

/** One recipient's filled sources of the slot pieces, in order. */
export function fillQpSources(t: QpTemplate, row: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const p of t.pieces) if (p.kind === "slots") out.push(fillSlotted(p.slotted, row, t.html));
  return out;
}

/** An upper bound on the encoded length, given the filled sources. */
export function qpTemplateMaxLength(t: QpTemplate, sources: readonly string[]): number {
  let n = t.fixedLength;
  // A UTF-16 code unit is at most 3 UTF-8 octets.
  for (const s of sources) n += qpMaxLength(s.length * 3);
  return n;
}

let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * Writes the encoded part into `out` from `pos` (which must have
 * qpTemplateMaxLength octets free); returns the new position.
 */
export function writeQpTemplate(t: QpTemplate, sources: readonly string[], out: Buffer, pos: number): number {
  let k = 0;
  for (const p of t.pieces) {
    if (p.kind === "fixed") {
      pos += p.bytes.copy(out, pos);
      continue;
    }
    const s = sources[k++]!;
    if (scratch.length < s.length * 3) scratch = Buffer.allocUnsafe(Math.max(s.length * 3, scratch.length * 2));
    const n = scratch.write(s, 0, "utf8");
    pos = encodeQuotedPrintableInto(scratch.subarray(0, n), out, pos);
  }
  return pos;
}
