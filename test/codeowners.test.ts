import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CODEOWNERS_LOCATIONS,
  CodeownersPatternError,
  MAX_CODEOWNERS_BYTES,
  matchingRule,
  ownersOf,
  parseCodeowners,
  parseOwner,
  patternMatches,
  pickCodeowners,
  sameOwner,
} from "../src/codeowners/codeowners.ts";

// The conformance suite (MIT, from hmarr/codeowners), kept under test/fixtures
// with its LICENSE beside it. Nothing outside the repository is read.
interface ConformanceCase {
  name: string;
  pattern: string;
  paths: Record<string, boolean>;
}
const fixtureUrl = new URL("./fixtures/codeowners-patterns.json", import.meta.url);
const fixtureText = readFileSync(fixtureUrl, "utf8");
const cases = JSON.parse(fixtureText) as ConformanceCase[];
const flat = cases.flatMap((c) =>
  Object.entries(c.paths).map(([path, expected]) => ({ name: c.name, pattern: c.pattern, path, expected })),
);

describe("CODEOWNERS conformance (hmarr/codeowners patterns.json)", () => {
  it("has the suite, with its licence", () => {
    expect(cases.length).toBeGreaterThan(0);
    expect(flat.length).toBeGreaterThan(0);
    expect(existsSync(new URL("./fixtures/codeowners-patterns.LICENSE", import.meta.url))).toBe(true);
  });

  it.each(flat)("$name: $pattern vs $path -> $expected", ({ pattern, path, expected }) => {
    expect(patternMatches(pattern, path)).toBe(expected);
    // The same through the file parser: one rule owning the pattern.
    const parsed = parseCodeowners(`${pattern} @owner\n`);
    expect(parsed.errors).toEqual([]);
    expect(ownersOf(parsed.rules, path)).toEqual(expected ? ["@owner"] : []);
  });

  it("passes every case", () => {
    const failures = flat.filter((c) => patternMatches(c.pattern, c.path) !== c.expected);
    expect(failures).toEqual([]);
    expect(flat.length - failures.length).toBe(flat.length);
  });
});

describe("CODEOWNERS parsing", () => {
  it("reads patterns, owners and line numbers; skips comments and blank lines", () => {
    const { rules, errors } = parseCodeowners(
      [
        "# This is a comment.",
        "",
        "   ",
        "*       @global-owner1 @global-owner2",
        "  # an indented comment",
        "*.js    @js-owner #This is an inline comment.",
        "/build/logs/\t@doctocat",
      ].join("\n"),
    );
    expect(errors).toEqual([]);
    expect(rules).toEqual([
      { pattern: "*", owners: ["@global-owner1", "@global-owner2"], line: 4 },
      { pattern: "*.js", owners: ["@js-owner"], line: 6 },
      { pattern: "/build/logs/", owners: ["@doctocat"], line: 7 },
    ]);
  });

  it("parses user, team and email owners", () => {
    const { rules, errors } = parseCodeowners("newsletters/ @carol @corp/newsletter-editors docs@example.com\n");
    expect(errors).toEqual([]);
    expect(rules[0]?.owners).toEqual(["@carol", "@corp/newsletter-editors", "docs@example.com"]);
    expect(parseOwner("@carol")).toEqual({ kind: "user", login: "carol" });
    expect(parseOwner("@octocat_acme")).toEqual({ kind: "user", login: "octocat_acme" });
    expect(parseOwner("@corp/newsletter-editors")).toEqual({ kind: "team", org: "corp", slug: "newsletter-editors" });
    expect(parseOwner("docs@example.com")).toEqual({ kind: "email", address: "docs@example.com" });
    for (const bad of ["carol", "@", "@-carol", "@corp/", "@a/b/c", "docs@localhost", "@carol!", "x@@example.com"]) {
      expect(parseOwner(bad), bad).toBeUndefined();
    }
  });

  it("rejects an invalid owner, naming the line and skipping the rule", () => {
    const { rules, errors } = parseCodeowners("* @ok\nnewsletters/ carol\n");
    expect(rules).toEqual([{ pattern: "*", owners: ["@ok"], line: 1 }]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.line).toBe(2);
    expect(errors[0]?.message).toMatch(/^line 2, column 14: "carol" is not an owner/);
  });

  it("compares owners case-insensitively (logins and slugs are), paths never", () => {
    expect(sameOwner("@Carol", "@carol")).toBe(true);
    expect(sameOwner("@Corp/Editors", "@corp/editors")).toBe(true);
    expect(sameOwner("@carol", "@corp/carol")).toBe(false);
    expect(sameOwner("carol", "carol")).toBe(false);
  });

  it("accepts a pattern with no owners (it un-owns the path)", () => {
    const { rules, errors } = parseCodeowners("/apps/ @octocat\n/apps/github\n");
    expect(errors).toEqual([]);
    expect(rules[1]).toEqual({ pattern: "/apps/github", owners: [], line: 2 });
  });

  it("rejects ! negation, naming the line", () => {
    const { rules, errors } = parseCodeowners("* @a\n!newsletters/draft.md @b\n");
    expect(rules.map((r) => r.line)).toEqual([1]);
    expect(errors).toHaveLength(1);
    expect(errors[0]?.line).toBe(2);
    expect(errors[0]?.message).toMatch(/line 2.*"!" negation does not work/);
  });

  it("rejects [ ] character ranges and classes, but keeps literal brackets", () => {
    for (const pattern of ["recipients/[a-z]*.csv", "*.[!md]", "[^x]", "[[:alpha:]]", "/apps/[user-id]/x"]) {
      const { rules, errors } = parseCodeowners(`${pattern} @a`);
      expect(rules, pattern).toEqual([]);
      expect(errors[0]?.line, pattern).toBe(1);
      expect(errors[0]?.message, pattern).toMatch(/character range does not work/);
    }
    // Literal brackets, as GitHub (and the conformance suite) read them.
    expect(parseCodeowners("/apps/[param]/file.ts @a").errors).toEqual([]);
    expect(parseCodeowners("/pages/[...slug].tsx @a").errors).toEqual([]);
    const escaped = parseCodeowners("/apps/\\[user-id\\]/x @a");
    expect(escaped.errors).toEqual([]);
    expect(ownersOf(escaped.rules, "apps/[user-id]/x")).toEqual(["@a"]);
    expect(ownersOf(escaped.rules, "apps/u/x")).toEqual([]);
  });

  it("rejects escaping a leading # (GitHub documents that it does not work)", () => {
    const { rules, errors } = parseCodeowners("\\#notes.md @a\n");
    expect(rules).toEqual([]);
    expect(errors[0]?.line).toBe(1);
    expect(errors[0]?.message).toMatch(/escaping a pattern starting with "#"/);
  });

  it('accepts \\# inside a pattern as a literal "#", and refuses a glued #', () => {
    const ok = parseCodeowners("docs/issue\\#1.md @a\n");
    expect(ok.errors).toEqual([]);
    expect(ownersOf(ok.rules, "docs/issue#1.md")).toEqual(["@a"]);
    const glued = parseCodeowners("docs/issue#1.md @a\n* @b#c\n");
    expect(glued.rules).toEqual([]);
    expect(glued.errors.map((e) => e.line)).toEqual([1, 2]);
  });

  it("handles escaped spaces, CRLF line endings and a byte order mark", () => {
    const { rules, errors } = parseCodeowners("\uFEFF* @a\r\nmy\\ file.txt @b\r\n");
    expect(errors).toEqual([]);
    expect(rules).toEqual([
      { pattern: "*", owners: ["@a"], line: 1 },
      { pattern: "my\\ file.txt", owners: ["@b"], line: 2 },
    ]);
    expect(ownersOf(rules, "docs/my file.txt")).toEqual(["@b"]);
  });

  it('rejects "/" alone, empty segments, "***" and a trailing backslash', () => {
    const { rules, errors } = parseCodeowners("/ @a\na//b @a\na/***/b @a\nfoo\\\n");
    expect(rules).toEqual([]);
    expect(errors.map((e) => e.line)).toEqual([1, 2, 3, 4]);
  });

  it("does not load a CODEOWNERS file of 3 MB or more", () => {
    const line = "newsletters/ @corp/editors\n";
    const big = line.repeat(Math.ceil(MAX_CODEOWNERS_BYTES / line.length));
    const result = parseCodeowners(big);
    expect(result.rules).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]?.line).toBe(0);
    expect(result.errors[0]?.message).toMatch(/3 MB/);
    // Multi-byte characters count as their UTF-8 bytes.
    expect(parseCodeowners(`# ${"é".repeat(MAX_CODEOWNERS_BYTES / 2)}`).errors).toHaveLength(1);
    expect(parseCodeowners(line.repeat(1000)).errors).toEqual([]);
  });
});

describe("CODEOWNERS matching", () => {
  const file = [
    "*                         @corp/everyone",
    "/newsletters/             @corp/newsletter-editors",
    "/newsletters/*/body.md    @corp/newsletter-editors @corp/privacy-office",
    "/recipients/              @corp/privacy-office",
    "/recipients/public/",
    ".github/                  @carol",
  ].join("\n");
  const { rules, errors } = parseCodeowners(file);

  it("parses the example without errors", () => {
    expect(errors).toEqual([]);
  });

  it("lets the last matching rule win", () => {
    expect(ownersOf(rules, "README.md")).toEqual(["@corp/everyone"]);
    expect(ownersOf(rules, "newsletters/2024-05-01-may/newsletter.yml")).toEqual(["@corp/newsletter-editors"]);
    expect(ownersOf(rules, "newsletters/2024-05-01-may/body.md")).toEqual([
      "@corp/newsletter-editors",
      "@corp/privacy-office",
    ]);
    expect(ownersOf(rules, ".github/CODEOWNERS")).toEqual(["@carol"]);
    expect(matchingRule(rules, ".github/workflows/send.yml")?.line).toBe(6);
    // Order matters: reversed, the catch-all wins everywhere.
    expect(ownersOf([...rules].reverse(), ".github/CODEOWNERS")).toEqual(["@corp/everyone"]);
  });

  it("un-owns paths with an empty owners list (matched, but no owners)", () => {
    expect(ownersOf(rules, "recipients/public/list.csv")).toEqual([]);
    expect(matchingRule(rules, "recipients/public/list.csv")?.line).toBe(5);
    expect(ownersOf(rules, "recipients/customers.csv")).toEqual(["@corp/privacy-office"]);
  });

  it("returns no owners when nothing matches", () => {
    const only = parseCodeowners("/newsletters/ @a").rules;
    expect(ownersOf(only, "src/main.ts")).toEqual([]);
    expect(matchingRule(only, "src/main.ts")).toBeUndefined();
  });

  it("is case-sensitive, as GitHub's paths are", () => {
    const r = parseCodeowners("/Newsletters/ @a\n*.MD @b").rules;
    expect(ownersOf(r, "Newsletters/x/body.md")).toEqual(["@a"]);
    expect(ownersOf(r, "newsletters/x/body.md")).toEqual([]);
    expect(ownersOf(r, "docs/README.MD")).toEqual(["@b"]);
    expect(ownersOf(r, "docs/README.md")).toEqual([]);
  });

  it("follows GitHub's documented examples", () => {
    const r = parseCodeowners(
      ["docs/*  docs@example.com", "apps/ @octocat", "**/logs @octocat", "/build/logs/ @doctocat"].join("\n"),
    ).rules;
    expect(ownersOf(r, "docs/getting-started.md")).toEqual(["docs@example.com"]);
    expect(ownersOf(r, "docs/build-app/troubleshooting.md")).toEqual([]);
    expect(ownersOf(r, "x/apps/y/z.js")).toEqual(["@octocat"]);
    expect(ownersOf(r, "deeply/nested/logs/a.txt")).toEqual(["@octocat"]);
    expect(ownersOf(r, "build/logs/a/b.txt")).toEqual(["@doctocat"]);
  });

  it("gives ** its gitignore meanings", () => {
    expect(patternMatches("**", "a")).toBe(true);
    expect(patternMatches("**", "a/b/c")).toBe(true);
    expect(patternMatches("/**", "a/b")).toBe(true);
    expect(patternMatches("**/", "a")).toBe(false);
    expect(patternMatches("**/", "a/b")).toBe(true);
    expect(patternMatches("a/**/b", "a/x/y/b")).toBe(true);
    expect(patternMatches("a/**/b", "a/b")).toBe(true);
    expect(patternMatches("a/**/b", "x/a/b")).toBe(false);
    expect(patternMatches("a/**", "a")).toBe(false);
    expect(patternMatches("a**b", "axxb")).toBe(true);
    expect(patternMatches("a**b", "ax/xb")).toBe(false);
  });

  it("stays fast on pathological ** patterns", () => {
    const pattern = `${"**/a/".repeat(20)}b`;
    const path = `${"a/".repeat(200)}c`;
    const t0 = Date.now();
    expect(patternMatches(pattern, path)).toBe(false);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it("refuses to match with an invalid pattern handed in directly", () => {
    expect(() => ownersOf([{ pattern: "!x", owners: ["@a"], line: 1 }], "x")).toThrow(CodeownersPatternError);
  });
});

describe("CODEOWNERS location", () => {
  it("looks in .github/, the root, then docs/, and uses the first found", () => {
    expect(CODEOWNERS_LOCATIONS).toEqual([".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS"]);
    const files: Record<string, string> = {
      "CODEOWNERS": "* @root",
      "docs/CODEOWNERS": "* @docs",
    };
    const asked: string[] = [];
    const picked = pickCodeowners((p) => {
      asked.push(p);
      return files[p];
    });
    expect(asked).toEqual([".github/CODEOWNERS", "CODEOWNERS"]);
    expect(picked?.path).toBe("CODEOWNERS");
    expect(picked && ownersOf(picked.rules, "x")).toEqual(["@root"]);

    files[".github/CODEOWNERS"] = "";
    const empty = pickCodeowners((p) => files[p]);
    expect(empty?.path).toBe(".github/CODEOWNERS");
    expect(empty?.rules).toEqual([]);

    expect(pickCodeowners(() => undefined)).toBeUndefined();
  });

  it("does not fall back when the first file found is invalid", () => {
    const picked = pickCodeowners((p) => (p === ".github/CODEOWNERS" ? "!x @a" : "* @root"));
    expect(picked?.path).toBe(".github/CODEOWNERS");
    expect(picked?.errors).toHaveLength(1);
  });
});
