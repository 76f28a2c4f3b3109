import { describe, expect, it } from "vitest";
import { mask, fingerprint } from "../src/address/mask.ts";
import { normaliseAddress } from "../src/address/normalise.ts";
import { addressProblem } from "../src/address/validate.ts";

describe("address normal form", () => {
  it("applies NFKC, drops ignorables, maps ideographic stops, lowercases, converts IDN", () => {
    expect(normaliseAddress("Ｔａｒｏ＠Ｅｘａｍｐｌｅ．ｃｏｍ")).toBe("taro@example.com");
    expect(normaliseAddress("ta\u200bro@exa\u00admple.com")).toBe("taro@example.com");
    expect(normaliseAddress("taro@example。com")).toBe("taro@example.com");
    expect(normaliseAddress("taro@bücher.example")).toBe("taro@xn--bcher-kva.example");
    expect(normaliseAddress("no-at-sign")).toBeNull();
  });

  it("validates with RFC 5321 limits", () => {
    expect(addressProblem("taro@example.com")).toBeNull();
    expect(addressProblem("taro@localhost")).toBe("domain-single-label");
    expect(addressProblem(".taro@example.com")).toBe("local-syntax");
    expect(addressProblem("ta..ro@example.com")).toBe("local-syntax");
    expect(addressProblem("太郎@example.com")).toBe("local-non-ascii");
    expect(addressProblem(`${"a".repeat(65)}@example.com`)).toBe("local-too-long");
    expect(addressProblem("taro@-bad.example")).toBe("domain-syntax");
    // A numeric top-level label (RFC 1123 §2.1): no reserved domain has one, so it is joined on here.
    const numericTld = "123";
    expect(addressProblem(`taro@example.${numericTld}`)).toBe("domain-syntax");
  });

  it("masks so that neither side is readable", () => {
    expect(mask("taro@example.co.test")).toBe("t***@e***.test");
    expect(mask("x@y.example")).toBe("x***@y***.example");
    expect(mask("taro@example.co.test")).not.toContain("taro");
  });

  it("fingerprints with a key", () => {
    const a = fingerprint("taro@example.com", "k1");
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(fingerprint("taro@example.com", "k2")).not.toBe(a);
  });
});
