import { describe, expect, it } from "vitest";
import { normaliseAddress } from "../src/address/normalise.ts";
import type { Finding } from "../src/findings/finding.ts";
import { checkRecipientList, checkRowChange, loadSuppressions, type ListCheckOptions } from "../src/check/list.ts";
import { canonicalSha256 } from "../src/digest/digest.ts";

const FILE = "recipients/customers.csv";
const enc = (s: string) => new TextEncoder().encode(s);

/** The file's bytes as fs.createReadStream would hand them over, in chunks of `size`. */
async function* stream(data: string | Uint8Array, size = 1 << 16): AsyncGenerator<Uint8Array> {
  const b = typeof data === "string" ? enc(data) : data;
  for (let o = 0; o < b.length; o += size) yield b.subarray(o, o + size);
}

/**
 * A stand-in for the leakage extractor: `@`, `＠`, `[at]`, `(at)`. The real
 * one is injected by the caller; the list check only decides when to ask.
 */
let extractorCalls = 0;
function findAddresses(text: string): string[] {
  extractorCalls++;
  const t = text.replace(/\s*[[(]at[\])]\s*/gi, "@").replace(/＠/g, "@");
  const out: string[] = [];
  for (const m of t.matchAll(/[^\s,;<>()"'@]+@[^\s,;<>()"'@]+\.[a-z]{2,}/gi)) {
    const a = normaliseAddress(m[0]);
    if (a !== null) out.push(a);
  }
  return out;
}

function check(data: string | Uint8Array, opts: Partial<ListCheckOptions> = {}, chunk?: number) {
  return checkRecipientList(stream(data, chunk), { file: FILE, findAddresses, ...opts });
}

const byRule = (findings: Finding[], rule: string) => findings.filter((f) => f.rule === rule);
const where = (findings: Finding[], rule: string) => byRule(findings, rule).map((f) => [f.line, f.column]);

/** Every address-like token of the test data, in every spelling used. */
function addressesIn(text: string): string[] {
  return [...text.matchAll(/[^\s,;"'<>()[\]]+(?:@|＠|\[at\])[^\s,;"'<>()[\]]+/gi)].map((m) => m[0]);
}

/** No finding may hold an address, or its local part, in full. */
function expectMasked(findings: Finding[], data: string): void {
  const text = findings.map((f) => f.message).join("\n").toLowerCase();
  for (const a of addressesIn(data)) {
    const n = normaliseAddress(a.replace(/\[at\]/i, "@")) ?? a;
    for (const form of [a.toLowerCase(), n]) {
      expect(text).not.toContain(form);
      const local = form.split(/@|＠|\[at\]/)[0]!;
      if (local.length > 3) expect(text).not.toContain(local);
    }
  }
}

describe("checkRecipientList", () => {
  const good = [
    "email,first_name,plan",
    "taro.yamada@example.com,Taro,Business",
    "hanako.sato@example.net,Hanako,Free",
    '"j.smith@example.org","Smith, John",Enterprise',
    "amelie@customer.example,Amélie,",
  ].join("\r\n");

  it("counts a clean list and finds nothing", async () => {
    const r = await check(good);
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({ header: ["email", "first_name", "plan"], emailColumn: 0, rows: 4, valid: 4, suppressed: 0, sendCount: 4 });
    expect([...r.addresses]).toEqual(["taro.yamada@example.com", "hanako.sato@example.net", "j.smith@example.org", "amelie@customer.example"]);
    expect([...r.emptyFields]).toEqual(["plan"]);
  });

  it("hashes the canonical bytes: stable across BOM and CRLF, changed by any other byte", async () => {
    const lf = (await check(good.replace(/\r\n/g, "\n"))).sha256;
    expect((await check(good)).sha256).toBe(lf);
    expect((await check("\ufeff" + good, {}, 7)).sha256).toBe(lf);
    expect(lf).toBe(canonicalSha256(enc(good)));
    expect((await check(good.replace("Free", "Fref"))).sha256).not.toBe(lf);
    expect((await check(good + "\n")).sha256).not.toBe(lf);
  });

  it("gives the same report whatever the chunk size", async () => {
    const data = `\ufeff${good}\r\ntaro.yamada@example.com,Dup,x\r\nbad,"Note with b@example.net",y\r\n`;
    const whole = await check(data);
    for (const size of [1, 2, 3, 5, 64]) expect(await check(data, {}, size)).toEqual(whole);
  });

  it("reads the header case-insensitively after trimming, keeping the names as written", async () => {
    const r = await check(" Email , Name \nx@example.com,X\n");
    expect(r.findings).toEqual([]);
    expect(r.header).toEqual(["Email", "Name"]);
    expect(r.emailColumn).toBe(0);
  });

  it("reports a missing email column and names the columns found", async () => {
    const r = await check("mail_address,name\nx@example.com,X\n");
    expect(where(r.findings, "list-header")).toEqual([[1, 1]]);
    expect(r.findings[0]!.message).toContain("`mail_address`, `name`");
    expect(r.findings[0]!.message).toContain("rename `mail_address` to `email`");
    expect(r.valid).toBe(0);
  });

  it("masks a first row that is data, not a header", async () => {
    const data = "taro.yamada@example.com,Taro\nhanako@example.net,Hanako\n";
    const r = await check(data);
    const [f] = byRule(r.findings, "list-header");
    expect(f!.message).toContain("t***@e***.com");
    expect(f!.message).toContain("looks like a recipient");
    expectMasked(r.findings, data);
  });

  it("shows header names as written unless they hold an at sign", async () => {
    const r = await check("R&D,100%,[at]home,mail[at]example.com\n1,2,3,4\n");
    expect(r.findings[0]!.message).toContain("`R&D`, `100%`, `[***`, `m***`");
  });

  it("reports duplicate and empty column names at their columns", async () => {
    const r = await check("email,name,,Name\nx@example.com,a,b,c\n");
    expect(byRule(r.findings, "list-header").map((f) => [f.line, f.column, f.message])).toEqual([
      [1, 12, "column 3 of the header has no name"],
      [1, 13, "column name `Name` appears twice (columns 2 and 4)"],
    ]);
  });

  it("reports an empty file, a header without rows, and a list that is all suppressed", async () => {
    for (const data of ["", "\n\n", "\ufeff"]) {
      const r = await check(data);
      expect(r.findings.map((f) => f.rule)).toEqual(["list-empty"]);
      expect(r.rows).toBe(0);
    }
    expect((await check("email,name\r\n\r\n")).findings.map((f) => [f.rule, f.message])).toEqual([
      ["list-empty", "the file has a header row but no recipients"],
    ]);
    const all = await check("email\nA@example.com\nb@example.com\n", { suppressions: new Set(["a@example.com", "b@example.com"]) });
    expect(all).toMatchObject({ valid: 2, suppressed: 2, sendCount: 0 });
    expect(all.findings.map((f) => f.rule)).toEqual(["list-empty"]);
  });

  it("reports invalid addresses with the reason, the line and the column, masked", async () => {
    const data = [
      "name,email",
      "A,taro@localhost",
      "B,",
      "C,no-at-sign.example.com",
      "D,ta..ro@example.com",
      'E,"Taro Yamada <taro@example.com>"',
      "F,@example.com",
      "G,太郎@example.com",
      "H,ok@example.com",
    ].join("\n");
    const r = await check(data);
    const f = byRule(r.findings, "list-invalid-address");
    expect(f.map((x) => [x.line, x.column])).toEqual([[2, 3], [3, 3], [4, 3], [5, 3], [6, 3], [7, 3], [8, 3]]);
    expect(f[0]!.message).toBe("address t***@l*** has a domain without a dot");
    expect(f[1]!.message).toBe("the email field is empty");
    expect(f[2]!.message).toContain("has no @");
    expect(f[3]!.message).toContain("RFC 5322");
    expect(f[5]!.message).toContain("nothing before the @");
    expect(f[6]!.message).toContain("non-ASCII");
    expect(r).toMatchObject({ rows: 8, valid: 1, sendCount: 1 });
    expect([...r.emptyFields]).toEqual(["email"]);
    expectMasked(r.findings, data);
  });

  it("finds duplicates that differ only by case or full-width form, naming the first line", async () => {
    const data = [
      "email,name",
      "Taro.Yamada@Example.COM,Taro",
      "hanako@example.net,Hanako",
      "",
      "taro.yamada@example.com,Taro again",
      "ｔａｒｏ．ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｃｏｍ,Taro full-width",
      "HANAKO@EXAMPLE.NET,Hanako again",
    ].join("\n");
    const r = await check(data);
    const f = byRule(r.findings, "list-duplicate");
    expect(f.map((x) => [x.line, x.column, x.message])).toEqual([
      [5, 1, "address t***@e***.com is already on line 2 (compared after NFKC normalisation and lowercasing)"],
      [6, 1, "address t***@e***.com is already on line 2 (compared after NFKC normalisation and lowercasing)"],
      [7, 1, "address h***@e***.net is already on line 3 (compared after NFKC normalisation and lowercasing)"],
    ]);
    expect(r).toMatchObject({ rows: 5, valid: 2, sendCount: 2 });
    expectMasked(r.findings, data);
  });

  it("reports rows with a different number of fields", async () => {
    const r = await check("email,name,plan\na@example.com,A\nb@example.com,B,x,extra\nc@example.com,C,y\n");
    expect(byRule(r.findings, "list-field-count").map((f) => [f.line, f.message])).toEqual([
      [2, "row has 2 fields; the header has 3"],
      [3, "row has 4 fields; the header has 3"],
    ]);
    expect([...r.emptyFields]).toEqual(["plan"]);
  });

  it("finds another person's address hidden in any other column, however written", async () => {
    extractorCalls = 0;
    const data = [
      "email,name,note,login",
      "taro@example.com,Taro,friend of hanako@example.net,taro@example.com",
      "jiro@example.com,Jiro,cc: saburo[at]example.org,jiro",
      "shiro@example.com,Shiro,\"ｇｏｒｏ＠example.com, rokuro@example.com\",x",
      "hachi@example.com,Hachi,Meet at noon,x",
      "kyu@example.com,Kyu,plain note,x,extra@example.org",
    ].join("\n");
    const r = await check(data);
    const f = byRule(r.findings, "list-address-in-field");
    expect(f.map((x) => [x.line, x.column, x.message])).toEqual([
      [2, 23, "column `note` holds an address that is not this row's own: h***@e***.net"],
      [3, 23, "column `note` holds an address that is not this row's own: s***@e***.org"],
      [4, 25, "column `note` holds an address that is not this row's own: g***@e***.com and 1 more"],
      [6, 34, "field 5 (beyond the header's 4 columns) holds an address that is not this row's own: e***@e***.org"],
    ]);
    // The row's own address in `login` is fine; "Meet at noon" was asked about and cleared.
    expect(extractorCalls).toBe(6);
    expectMasked(r.findings, data);
  });

  it("asks the extractor only about fields that might hold an address", async () => {
    extractorCalls = 0;
    const rows = Array.from({ length: 2000 }, (_, i) => `u${i}@example.com,User ${i},Plan ${i % 3},Tokyo`);
    await check(["email,name,plan,city", ...rows].join("\n"));
    expect(extractorCalls).toBe(0);
  });

  it("applies suppressions to the send count but keeps them in the address set", async () => {
    const sup = await loadSuppressions(stream("Email,reason\r\nHANAKO.SATO@example.net,unsubscribed\r\nnobody@example.com,bounced\r\n"), {
      file: "recipients/suppressions.csv",
    });
    expect(sup.findings).toEqual([]);
    expect(sup.rows).toBe(2);
    expect([...sup.addresses]).toEqual(["hanako.sato@example.net", "nobody@example.com"]);
    const r = await check(good, { suppressions: sup.addresses });
    expect(r).toMatchObject({ rows: 4, valid: 4, suppressed: 1, sendCount: 3 });
    expect(r.addresses.has("hanako.sato@example.net")).toBe(true);
  });

  it("reports CSV syntax errors with their line and keeps counting", async () => {
    const data = 'email,name\na@example.com,"Ta"ro\nb@example.com,B\n"c@example.com,C\n';
    const r = await check(data);
    expect(byRule(r.findings, "list-csv").map((f) => [f.line, f.column])).toEqual([
      [2, 19],
      [4, 1],
    ]);
    expect(r).toMatchObject({ rows: 3, valid: 1 });
    expectMasked(r.findings, data);
  });

  it("treats a malformed header as a header: nothing after it is read as one", async () => {
    const r = await check('email,"na"me,plan\nx@example.com,X\ny@example.com,Y,extra,more\n');
    expect(r.findings.map((f) => [f.rule, f.line])).toEqual([["list-csv", 1]]);
    expect(r.rows).toBe(2);
  });

  it("reports a Latin-1 or Shift_JIS file at the line of the first bad byte, and still hashes it", async () => {
    const head = enc("email,name\r\nx@example.com,Taro\r\ny@example.com,");
    const latin1 = Uint8Array.from([...head, 0x52, 0xe9, 0x6d, 0x79, 0x0d, 0x0a]); // "Rémy"
    const sjis = Uint8Array.from([...head, 0x8e, 0x52, 0x93, 0x63, 0x0d, 0x0a]); // "山田"
    for (const [bytes, column] of [
      [latin1, 16],
      [sjis, 15],
    ] as const) {
      for (const size of [3, 1 << 16]) {
        const r = await check(bytes, {}, size);
        expect(r.findings.map((f) => [f.rule, f.line, f.column])).toEqual([["input-encoding", 3, column]]);
        expect(r.findings[0]!.message).toContain("UTF-8");
        expect(r.sha256).toBe(canonicalSha256(bytes));
      }
    }
  });

  it("caps each rule's findings and sums up the rest", async () => {
    const rows = Array.from({ length: 130 }, (_, i) => `bad${i}.example.com,${i}`);
    const data = ["email,n", ...rows, "ok@example.com,x", "OK@example.com,y"].join("\n");
    const r = await check(data, { maxFindingsPerRule: 50 });
    const f = byRule(r.findings, "list-invalid-address");
    expect(f).toHaveLength(51);
    expect(f[50]).toMatchObject({ line: 52, message: expect.stringMatching(/^…and 80 more rows with the same problem/) });
    expect(byRule(r.findings, "list-duplicate")).toHaveLength(1);
    expect(byRule(r.findings, "list-duplicate")[0]!.message).toContain("already on line 132");
  });

  it("checks a generated 100,000-row list with the right counts", async () => {
    const n = 100_000;
    const lines = ["email,name,plan"];
    for (let i = 0; i < n; i++) {
      if (i % 10_000 === 1) lines.push(`user${i - 1}@EXAMPLE.com,Again ${i},p`); // duplicate of the row before
      else if (i % 25_000 === 7) lines.push(`user${i}.example.com,Bad ${i},p`); // no @
      else if (i % 20_000 === 3) lines.push(`user${i}@example.com,Leak,note user${i + 1}@example.com`);
      else lines.push(`user${i}@example.com,User ${i},${i % 2 ? "gold" : ""}`);
    }
    const suppressions = new Set(Array.from({ length: 100 }, (_, k) => `user${k * 1000 + 500}@example.com`));
    const t = performance.now();
    const r = await check(lines.join("\r\n") + "\r\n", { suppressions }, 1 << 20);
    console.log(`100,000-row list checked in ${(performance.now() - t).toFixed(0)} ms`);
    expect(r.rows).toBe(n);
    expect(byRule(r.findings, "list-duplicate")).toHaveLength(10);
    expect(byRule(r.findings, "list-invalid-address")).toHaveLength(4);
    expect(byRule(r.findings, "list-address-in-field")).toHaveLength(5);
    expect(byRule(r.findings, "list-duplicate")[0]).toMatchObject({ line: 3, message: expect.stringContaining("line 2") });
    expect(r.valid).toBe(n - 10 - 4);
    expect(r.suppressed).toBe(100);
    expect(r.sendCount).toBe(n - 14 - 100);
    expect(r.addresses.size).toBe(r.valid);
    expect([...r.emptyFields]).toEqual(["plan"]);
    expectMasked(r.findings, lines.slice(0, 30_000).join("\n"));
  });
});

describe("loadSuppressions", () => {
  const file = "recipients/suppressions.csv";

  it("needs an email column", async () => {
    const s = await loadSuppressions(stream("address\nx@example.com\n"), { file });
    expect(s.findings.map((f) => [f.rule, f.file, f.line])).toEqual([["list-header", file, 1]]);
    expect(s.addresses.size).toBe(0);
  });

  it("warns about entries that are not addresses, keeps what it can, and errors on broken rows", async () => {
    const data = 'email,reason\nbounced@localhost,hard bounce\nx@example.com,ok,extra\n"unterminated\ny@example.com,x\n';
    const s = await loadSuppressions(stream(data), { file });
    expect(s.findings.map((f) => [f.rule, f.severity, f.line])).toEqual([
      ["list-invalid-address", "warning", 2],
      ["list-field-count", "error", 3],
      ["list-csv", "error", 4],
    ]);
    expect([...s.addresses]).toEqual(["bounced@localhost", "x@example.com"]);
    expectMasked(s.findings, data);
  });

  it("accepts an empty file and a header without rows", async () => {
    for (const data of ["", "email\n"]) {
      const s = await loadSuppressions(stream(data), { file });
      expect(s.findings).toEqual([]);
      expect(s.addresses.size).toBe(0);
    }
  });
});

describe("checkRowChange", () => {
  const at = { file: "newsletters/2026-12-01-winter/newsletter.yml", line: 3 };

  it("accepts a first send and small changes", () => {
    expect(checkRowChange({ ...at, current: 13_011 })).toBeNull();
    expect(checkRowChange({ ...at, previous: 1000, current: 1100 })).toBeNull();
    expect(checkRowChange({ ...at, previous: 1000, current: 900 })).toBeNull();
    expect(checkRowChange({ ...at, previous: 10, current: 10 })).toBeNull();
  });

  it("needs expected_change for a jump of more than 10 %, naming both counts and the delta", () => {
    const f = checkRowChange({ ...at, previous: 1016, current: 13_011 });
    expect(f).toMatchObject({ rule: "list-row-change", severity: "error", ...at, column: 1 });
    expect(f!.message).toContain("13011");
    expect(f!.message).toContain("1016");
    expect(f!.message).toContain("+11995");
    expect(f!.message).toContain("`expected_change: 11995`");
    expect(checkRowChange({ ...at, previous: 1000, current: 1101 })!.message).toContain("expected_change: 101");
    expect(checkRowChange({ ...at, previous: 1000, current: 899 })!.message).toContain("expected_change: -101");
    expect(checkRowChange({ ...at, previous: 1016, current: 13_011, expectedChange: 11_995 })).toBeNull();
  });

  it("needs expected_change for any change of a list under 20 rows", () => {
    expect(checkRowChange({ ...at, previous: 19, current: 20 })!.message).toContain("expected_change: 1");
    expect(checkRowChange({ ...at, previous: 0, current: 5 })!.message).toContain("expected_change: 5");
    expect(checkRowChange({ ...at, previous: 19, current: 20, expectedChange: 1 })).toBeNull();
  });

  it("refuses an expected_change that does not match the delta", () => {
    const f = checkRowChange({ ...at, previous: 1000, current: 1300, expectedChange: 200 });
    expect(f!.message).toContain("expected_change is 200");
    expect(f!.message).toContain("`expected_change: 300`");
    expect(checkRowChange({ ...at, previous: 1000, current: 1001, expectedChange: 5 })).not.toBeNull();
  });
});
