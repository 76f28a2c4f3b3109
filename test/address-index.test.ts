import { describe, expect, it } from "vitest";
import { normaliseAddress } from "../src/address/normalise.ts";
import { addressProblem, isNormalValidAddress } from "../src/address/validate.ts";
import { AddressIndex } from "../src/check/address-index.ts";
import { extractAddresses } from "../src/detect/extract.ts";
import { checkRecipientList } from "../src/check/list.ts";

/** Deterministic PRNG (mulberry32) so a failure is reproducible. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function indexOf(addresses: readonly string[]): AddressIndex {
  const ix = new AddressIndex();
  for (const a of addresses) ix.append(a);
  return ix;
}

describe("AddressIndex", () => {
  it("finds every later occurrence with its first one, in append order", () => {
    const ix = indexOf(["a@x.example", "b@x.example", "a@x.example", "c@x.example", "b@x.example", "a@x.example"]);
    expect(ix.appended).toBe(6);
    expect(ix.seal()).toEqual([
      { index: 2, first: 0 },
      { index: 4, first: 1 },
      { index: 5, first: 0 },
    ]);
    expect(ix.seal()).toBe(ix.seal());
    expect(ix.size).toBe(3);
    expect([...ix]).toEqual(["a@x.example", "b@x.example", "c@x.example"]);
    expect([...ix.values()]).toEqual([...ix]);
    expect(ix.at(3)).toBe("c@x.example");
  });

  it("answers membership exactly, not by hash", () => {
    const ix = indexOf(["taro@example.com", "hanako@example.net"]);
    expect(ix.has("taro@example.com")).toBe(true);
    expect(ix.has("hanako@example.net")).toBe(true);
    for (const other of ["taro@example.co", "aro@example.com", "Taro@example.com", "", "taro@example.com ", "hanako@example.netx"]) {
      expect(ix.has(other), other).toBe(false);
    }
  });

  it("keeps non-ASCII and very long strings exactly, in order", () => {
    const long = `${"l".repeat(300)}@example.com`;
    const ix = indexOf(["a@x.example", "太郎@example.net", long, "", "太郎@example.net", long, "é", ""]);
    expect(ix.seal().map((d) => [d.index, d.first])).toEqual([
      [4, 1],
      [5, 2],
      [7, 3],
    ]);
    expect([...ix]).toEqual(["a@x.example", "太郎@example.net", long, "", "é"]);
    expect(ix.has("太郎@example.net") && ix.has(long) && ix.has("") && ix.has("é")).toBe(true);
    expect(ix.has("太郎@example.j") || ix.has(long.slice(1)) || ix.has("e")).toBe(false);
  });

  it("is empty until something is appended, and refuses appends once sealed", () => {
    const ix = new AddressIndex();
    expect(ix.size).toBe(0);
    expect(ix.has("a@x.example")).toBe(false);
    expect([...ix]).toEqual([]);
    expect(() => ix.append("a@x.example")).toThrow(/after seal/);
  });

  it("one address many times: one entry, every other occurrence a duplicate of the first", () => {
    const ix = indexOf(Array.from({ length: 20_000 }, () => "same@example.com"));
    const dups = ix.seal();
    expect(dups).toHaveLength(19_999);
    expect(dups.every((d, k) => d.index === k + 1 && d.first === 0)).toBe(true);
    expect([...ix]).toEqual(["same@example.com"]);
  });

  it("handles 300,000 addresses over many pages, hash collisions included", () => {
    // ~10 pairs of these share a 32-bit hash: only the comparison tells them apart.
    const n = 300_000;
    const all = Array.from({ length: n }, (_, i) => `user.${i.toString(36)}@shop${i % 7}.example`);
    const ix = indexOf([...all, all[123]!, all[n - 1]!, all[0]!]);
    expect(ix.seal()).toEqual([
      { index: n, first: 123 },
      { index: n + 1, first: n - 1 },
      { index: n + 2, first: 0 },
    ]);
    expect(ix.size).toBe(n);
    for (let i = 0; i < n; i += 997) expect(ix.has(all[i]!)).toBe(true);
    expect(ix.has("user.zzzzzz@shop0.example")).toBe(false);
    const back = [...ix];
    expect(back.length).toBe(n);
    expect(back[0]).toBe(all[0]);
    expect(back[n - 1]).toBe(all[n - 1]);
  });
});

describe("isNormalValidAddress: the one-pass shortcut of the list check", () => {
  const slow = (s: string) => normaliseAddress(s) === s && addressProblem(s) === null;

  it("agrees with normaliseAddress + addressProblem on random strings", () => {
    const rand = prng(20261201);
    const alphabet = ["a", "z", "0", "9", "-", ".", "@", "A", "_", "!", "~", " ", "é", "＠", "。", "\u200b", "+", '"', "(", "ｔ", "xn--", "1", "\t"];
    const label = ["a", "0", "-", ".", "b", "7"];
    let accepted = 0;
    for (let i = 0; i < 200_000; i++) {
      let s = Array.from({ length: Math.floor(rand() * 12) }, () => alphabet[Math.floor(rand() * alphabet.length)]).join("");
      if (rand() < 0.7) {
        s = s.replace(/[^a-z0-9.-]/g, "") + "@" + Array.from({ length: Math.floor(rand() * 10) }, () => label[Math.floor(rand() * label.length)]).join("");
      }
      const fast = isNormalValidAddress(s);
      if (fast !== slow(s)) expect.fail(`${JSON.stringify(s)}: shortcut says ${fast}`);
      if (fast) accepted++;
    }
    expect(accepted).toBeGreaterThan(1000);
  });

  it("agrees at the length limits of RFC 5321", () => {
    const cases: string[] = [];
    for (const n of [1, 62, 63, 64, 65]) {
      cases.push(`${"a".repeat(n)}@x.example`, `a@${"b".repeat(n)}.example`, `a@example.${"c".repeat(n)}`, `a@${"b".repeat(n)}-${"c".repeat(n)}.example`);
    }
    for (const n of [250, 251, 252, 253, 254, 255, 256]) {
      const domain = `${Array.from({ length: 8 }, () => "d".repeat(31)).join(".")}.example`.slice(-(n - 2)).replace(/^[.-]+/, "");
      cases.push(`a@${domain}`, `${"l".repeat(64)}@${domain.slice(65)}`);
    }
    // A numeric top-level label (RFC 1123 §2.1) is what these two test; no reserved domain
    // can have one, so the label is joined on here rather than written as an address.
    cases.push(...["123", "12a"].map((tld) => `a@example.${tld}`), "a@-x.example", "a@x-.example", "a@x..example", ".a@x.example", "a.@x.example", "a..b@x.example", "a@x.example.", "a@@x.example", "a@x", "@x.example", "a@");
    for (const s of cases) expect(isNormalValidAddress(s), s).toBe(slow(s));
  });
});

describe("checkRecipientList: duplicates found at the end", () => {
  it("are reported, capped and ordered as when they were found row by row", async () => {
    // Expected list: what the row-by-row implementation (a Set) gave for this input.
    const text = [
      "email,name",
      "a@example.com,Ann",
      "b@example.com,Bo,extra",
      "A@EXAMPLE.COM,dup of line 2",
      "bad,Bad",
      "c@example.com,mail d@example.net",
      "ａ＠example.com,dup again",
      "b@example.com,dup of line 3",
      "worse,Worse",
      "c@example.com,\"x@example.org\"",
      "e@example.com,E",
      "",
    ].join("\n");
    async function* input() {
      yield new TextEncoder().encode(text);
    }
    const r = await checkRecipientList(input(), {
      file: "recipients/x.csv",
      findAddresses: extractAddresses,
      maxFindingsPerRule: 2,
      suppressions: new Set(["c@example.com"]),
    });
    const dup = (line: number) => `address a***@e***.com is already on line ${line} (compared after NFKC normalisation and lowercasing)`;
    expect(r.findings.map((f) => [f.rule, f.line, f.column, f.message])).toEqual([
      ["list-field-count", 3, 1, "row has 3 fields; the header has 2"],
      ["list-duplicate", 4, 1, dup(2)],
      ["list-invalid-address", 5, 1, "address b*** has no @"],
      ["list-address-in-field", 6, 15, "column `name` holds an address that is not this row's own: d***@e***.net"],
      ["list-duplicate", 7, 1, dup(2)],
      ["list-invalid-address", 9, 1, "address w*** has no @"],
      ["list-address-in-field", 10, 15, "column `name` holds an address that is not this row's own: x***@e***.org"],
      ["list-duplicate", 8, 1, "…and 2 more rows with the same problem (duplicate recipient), the first of them here"],
    ]);
    // c@example.com twice, suppressed once: distinct addresses count.
    expect({ valid: r.valid, suppressed: r.suppressed, sendCount: r.sendCount }).toEqual({ valid: 4, suppressed: 1, sendCount: 3 });
    expect([...r.addresses]).toEqual(["a@example.com", "b@example.com", "c@example.com", "e@example.com"]);
  });

  it("name the first line when the email column moves and rows span lines", async () => {
    const text = 'name,email\r\n"Ann\r\nSmith",ann@example.com\r\nBo,bo@example.com\r\nLong name here,ANN@example.com\r\n';
    async function* input() {
      yield new TextEncoder().encode(text);
    }
    const r = await checkRecipientList(input(), { file: "recipients/x.csv", findAddresses: extractAddresses });
    expect(r.findings.map((f) => [f.rule, f.line, f.column, f.message])).toEqual([
      ["list-duplicate", 5, 16, "address a***@e***.com is already on line 3 (compared after NFKC normalisation and lowercasing)"],
    ]);
  });
});
