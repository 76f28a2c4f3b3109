/**
 * The multipart boundary (RFC 2046 §5.1.1), derived from a seed (the
 * newsletter digest): the same for every recipient of a newsletter, so a
 * compose-once fast path can precompute it, and never random.
 *
 * `=_` starts it on purpose: in quoted-printable "=" is always followed by two
 * hex digits or a line break, so `=_` cannot occur in an encoded part and the
 * boundary cannot collide with any body (message.ts still checks). It is
 * quoted in Content-Type because "=" is a tspecial (RFC 2045 §5.1).
 */
import { createHash } from "node:crypto";
import { InternalError } from "../errors.ts";

let last: { seed: string; boundary: string } | undefined;

export function boundaryFor(seed: string): string {
  if (last?.seed === seed) return last.boundary;
  const hex = createHash("sha256").update("gitops-newsletter/boundary/v1\0").update(seed, "utf8").digest("hex");
  // 5 + 40 = 45 characters, under the limit of 70 (RFC 2046 §5.1.1).
  const boundary = `=_nl_${hex.slice(0, 40)}`;
  last = { seed, boundary };
  return boundary;
}

/**
 * Throws when the boundary occurs inside one of the encoded parts ([start,
 * end) byte ranges of `buf`). Cannot happen ("=_" never occurs in
 * quoted-printable), checked all the same (RFC 2046 §5.1.1): one check for
 * both composers.
 */
export function assertBoundaryAbsent(buf: Buffer, boundary: string, parts: ReadonlyArray<readonly [number, number]>): void {
  for (const [start, end] of parts) {
    const at = buf.indexOf(boundary, start, "latin1");
    if (at >= 0 && at < end) throw new InternalError("the multipart boundary occurs in an encoded body part");
  }
}
