/**
 * The digest of docs/design.md, "What was approved is what is sent".
 *
 * sha256 over a canonical framing of every input (newsletter.yml, body.md,
 * the list file, the suppression file, the sender config). Each input is
 * canonicalised first — UTF-8 BOM stripped, CRLF → LF — so a checkout with
 * `core.autocrlf` on another machine yields the same digest, while any other
 * byte change changes it. The framing names each input's role and path and
 * its own sha256, so moving bytes between files also changes the digest.
 */
import { createHash } from "node:crypto";

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export const DIGEST_VERSION = "newsletter-digest-v1";

export type InputRole = "config" | "newsletter" | "body" | "list" | "suppressions" | "layout";

/** Fixed order: the digest must not depend on the order inputs were read in. */
export const INPUT_ROLES: readonly InputRole[] = ["config", "newsletter", "body", "list", "suppressions"];

export interface DigestInput {
  role: InputRole;
  /** Repository-relative path with `/`. */
  path: string;
  /** sha256 hex of the canonical bytes, or null when the (optional) input is absent. */
  sha256: string | null;
}

/** Incremental canonical hash: feed raw chunks, get the hash of the canonical form. */
export class CanonicalHasher {
  private readonly hash = createHash("sha256");
  /** Leading bytes held back until we know whether they are a BOM (it may span chunks). */
  private head: Buffer | null = Buffer.alloc(0);
  private pendingCR = false;

  update(chunk: Uint8Array): void {
    let buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.head) {
      buf = Buffer.concat([this.head, buf]);
      if (buf.length < 3 && BOM.subarray(0, buf.length).equals(buf)) {
        this.head = buf; // could still become a BOM
        return;
      }
      this.head = null;
      if (buf.subarray(0, 3).equals(BOM)) buf = buf.subarray(3);
    }
    let start = 0;
    if (this.pendingCR) {
      this.pendingCR = false;
      // A CR that ended the previous chunk: drop it if this chunk starts with LF.
      if (buf[0] !== 0x0a) this.hash.update("\r");
    }
    for (let i = buf.indexOf(0x0d, start); i >= 0; i = buf.indexOf(0x0d, start)) {
      if (i === buf.length - 1) {
        this.hash.update(buf.subarray(start, i));
        this.pendingCR = true;
        start = buf.length;
        break;
      }
      if (buf[i + 1] === 0x0a) {
        this.hash.update(buf.subarray(start, i));
        start = i + 1; // keep the LF
      } else {
        this.hash.update(buf.subarray(start, i + 1));
        start = i + 1;
      }
    }
    if (start < buf.length) this.hash.update(buf.subarray(start));
  }

  digest(): string {
    if (this.head) {
      // Fewer than three bytes in all, a prefix of the BOM: they are content.
      const h = this.head;
      this.head = null;
      if (h.length) this.hash.update(h);
    }
    if (this.pendingCR) {
      this.pendingCR = false;
      this.hash.update("\r");
    }
    return this.hash.digest("hex");
  }
}

export function canonicalSha256(bytes: Uint8Array): string {
  const h = new CanonicalHasher();
  h.update(bytes);
  return h.digest();
}

export function computeDigest(inputs: readonly DigestInput[]): string {
  const byRole = new Map(inputs.map((i) => [i.role, i]));
  const h = createHash("sha256");
  h.update(`${DIGEST_VERSION}\n`);
  for (const role of INPUT_ROLES) {
    const i = byRole.get(role);
    if (!i) throw new Error(`digest input '${role}' missing`);
    h.update(`${role}\t${i.path}\t${i.sha256 ?? "absent"}\n`);
  }
  // The repository's own layout (docs/design.md, "Layout and pictures") is framed only when there is
  // one, so every digest made without one is unchanged.
  const layout = byRole.get("layout");
  if (layout) h.update(`layout\t${layout.path}\t${layout.sha256 ?? "absent"}\n`);
  return h.digest("hex");
}
