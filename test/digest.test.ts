import { describe, expect, it } from "vitest";
import { CanonicalHasher, canonicalSha256, computeDigest, type DigestInput } from "../src/digest/digest.ts";

const enc = (s: string) => new TextEncoder().encode(s);

describe("canonical sha256", () => {
  it("is the same for LF, CRLF and BOM+CRLF, and differs on any other byte", () => {
    const lf = canonicalSha256(enc("email,name\na@example.com,A\n"));
    expect(canonicalSha256(enc("email,name\r\na@example.com,A\r\n"))).toBe(lf);
    expect(canonicalSha256(enc("\ufeffemail,name\r\na@example.com,A\r\n"))).toBe(lf);
    expect(canonicalSha256(enc("email,name\na@example.com,B\n"))).not.toBe(lf);
    expect(canonicalSha256(enc("email,name\na@example.com,A"))).not.toBe(lf);
    expect(canonicalSha256(enc("email,name\ra@example.com,A\r"))).not.toBe(lf); // lone CR is content
  });

  it("does not depend on chunk boundaries, even between CR and LF", () => {
    const text = enc("a\r\nb\r\n\r\nc\rd\r\n");
    const whole = canonicalSha256(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const h = new CanonicalHasher();
      h.update(text.subarray(0, cut));
      h.update(text.subarray(cut));
      expect(h.digest()).toBe(whole);
    }
  });
});

describe("digest", () => {
  const base: DigestInput[] = [
    { role: "config", path: ".github/newsletter.yml", sha256: "a".repeat(64) },
    { role: "newsletter", path: "newsletters/2026-12-01-x/newsletter.yml", sha256: "b".repeat(64) },
    { role: "body", path: "newsletters/2026-12-01-x/body.md", sha256: "c".repeat(64) },
    { role: "list", path: "recipients/customers.csv", sha256: "d".repeat(64) },
    { role: "suppressions", path: "recipients/suppressions.csv", sha256: null },
  ];

  it("is independent of input order and changes with any input", () => {
    const d = computeDigest(base);
    expect(d).toMatch(/^[0-9a-f]{64}$/);
    expect(computeDigest([...base].reverse())).toBe(d);
    for (let i = 0; i < base.length; i++) {
      const changed = base.map((b, j) => (j === i ? { ...b, sha256: "e".repeat(64) } : b));
      expect(computeDigest(changed)).not.toBe(d);
    }
    const moved = base.map((b) => (b.role === "list" ? { ...b, path: "recipients/other.csv" } : b));
    expect(computeDigest(moved)).not.toBe(d);
  });

  it("refuses to compute without every role", () => {
    expect(() => computeDigest(base.slice(1))).toThrow();
  });
});

describe("canonical sha256 BOM handling", () => {
  it("strips a BOM split across chunks and after an empty first chunk", () => {
    const withBom = enc("\ufeffemail\r\n");
    const plain = canonicalSha256(enc("email\n"));
    for (let cut = 0; cut <= withBom.length; cut++) {
      const h = new CanonicalHasher();
      h.update(new Uint8Array(0));
      h.update(withBom.subarray(0, cut));
      h.update(withBom.subarray(cut));
      expect(h.digest()).toBe(plain);
    }
  });
  it("keeps short content that only looks like the start of a BOM", () => {
    const two = new Uint8Array([0xef, 0xbb]);
    expect(canonicalSha256(two)).not.toBe(canonicalSha256(new Uint8Array(0)));
  });
});
