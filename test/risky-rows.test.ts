/**
 * Risky rows in the approval copy and per-column statistics in the manifest
 * (docs/design.md, "Address detection"): an approver sees not only the first
 * row but, per placeholder column, the longest value's row and every
 * address- or URL-like value's row; the manifest counts, never shows.
 */
import { describe, expect, it } from "vitest";
import { buildManifest } from "../src/manifest/manifest.ts";
import { approvalBanner, riskyRows } from "../src/send/approval-banner.ts";
import { baseWorld, checkWorld, csv, DIR, RCPT } from "./helpers/disguise-world.ts";

function rows(n: number, change: (i: number, r: Record<string, string>) => void): Array<Record<string, string>> {
  return Array.from({ length: n }, (_, i) => {
    const r = { first_name: `Name${i + 1}`, company: "Shop" };
    change(i + 1, r);
    return r;
  });
}

describe("riskyRows", () => {
  it("finds the longest value's row and the address- and URL-like rows, far from the first", () => {
    const list = rows(10_000, (i, r) => {
      if (i === 9_000) r.company = "hanako @ shop.example";
      if (i === 9_500) r.company = "see https://evil.example/x";
      if (i === 5_000) r.first_name = "A very long first name indeed, longer than all";
    });
    const risky = riskyRows(list, ["first_name", "company"]);
    expect(risky).toContainEqual(expect.objectContaining({ column: "first_name", row: 5_000, why: "longest value" }));
    expect(risky).toContainEqual(expect.objectContaining({ column: "company", row: 9_000, why: "address-like" }));
    expect(risky).toContainEqual(expect.objectContaining({ column: "company", row: 9_500, why: "URL-like" }));
  });

  it("is shown in the approval copy's banner, addresses masked and invisible characters named", () => {
    const list = rows(3, (i, r) => {
      if (i === 2) r.company = "hanako@shop.example";
      if (i === 3) r.company = "Shop\u202e KK";
    });
    const risky = riskyRows(list, ["company"]);
    const banner = approvalBanner({ id: "x", list: "customers", count: 3, suppressed: 0, digest: "d", addresses: [RCPT], risky });
    expect(banner).toContain("Riskiest rows");
    expect(banner).toContain("| company | 2 | address-like |");
    expect(banner).not.toContain("hanako@shop.example");
    expect(banner).toContain("⟨U+202E⟩");
  });
});

describe("manifest statistics of placeholder columns", () => {
  it("holds the longest value's row and length, the classes seen and the counts, no value", async () => {
    const w = baseWorld();
    w["recipients/customers.csv"] = csv([
      ["email", "first_name", "company"],
      [RCPT, "Taro", "Customers KK"],
      ["hanako@shop.example", "Hanako-Marie 2世", "https://shop.example"],
      ["jiro.sato@shop.example", "Jiro", "Shop"],
    ]);
    w[`${DIR}/body.md`] = "Hello {{ first_name }} of {{ company }},\n\nOur winter update.\n";
    const r = await checkWorld(w);
    const m = buildManifest(r.checked)!;
    const first = m.placeholder_columns.find((c) => c.column === "first_name")!;
    expect(first.longest).toEqual({ length: "Hanako-Marie 2世".length, row: 2 });
    expect(first.classes).toEqual(["ASCII letters", "digits", "spaces", "ASCII punctuation", "non-ASCII characters"]);
    const company = m.placeholder_columns.find((c) => c.column === "company")!;
    expect(company.urlLike).toBe(1);
    expect(JSON.stringify(m)).not.toMatch(/Hanako|shop\.example\b(?!")/);
  });

  it("leaves out columns no placeholder uses", async () => {
    const r = await checkWorld(baseWorld());
    expect(buildManifest(r.checked)!.placeholder_columns.map((c) => c.column)).toEqual(["first_name"]);
  });
});
