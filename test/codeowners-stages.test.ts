/**
 * `check` holds CODEOWNERS against the approval stages (src/check/codeowners-stages.ts):
 * newsletters/ and recipients/ belong to exactly the stage owners of .github/newsletter.yml.
 * One base world (the sample fixture, whose two files agree); each case changes it.
 */
import { describe, expect, it } from "vitest";
import { makeRepo, runCli, sampleText, SAMPLE_DIR } from "./helpers/repo.ts";

const CODEOWNERS = sampleText(".github/CODEOWNERS");
const CONFIG = sampleText(".github/newsletter.yml");
const STAGE_OWNERS = "@corp/newsletter-editors @alice @corp/privacy-office @bob @carol";
const NEWSLETTERS_LINE = `/newsletters/        ${STAGE_OWNERS}`;
const RECIPIENTS_LINE = `/recipients/         ${STAGE_OWNERS}`;
const lineOf = (text: string, needle: string): number => text.split("\n").findIndex((l) => l.startsWith(needle)) + 1;

interface Finding { rule: string; severity: string; file: string; line: number; message: string }

async function check(changes: Record<string, string | null>) {
  const r = await runCli(["--root", makeRepo(changes), "check", SAMPLE_DIR, "--format", "json"]);
  const out = JSON.parse(r.stdout) as { ok: boolean; findings: Finding[] };
  return { code: r.code, findings: out.findings.filter((f) => f.rule.startsWith("codeowners-")) };
}

const withCodeowners = (edit: (text: string) => string) => ({ ".github/CODEOWNERS": edit(CODEOWNERS) });

describe("check: CODEOWNERS gives newsletters/ and recipients/ to exactly the stage owners", () => {
  it("the sample's CODEOWNERS and stages agree: no finding", async () => {
    expect(CODEOWNERS).toContain(NEWSLETTERS_LINE);
    expect(CODEOWNERS).toContain(RECIPIENTS_LINE);
    expect(await check({})).toEqual({ code: 0, findings: [] });
  });

  const refused: Array<{ name: string; changes: Record<string, string | null>; line: (c: string) => number; says: RegExp[] }> = [
    {
      name: "a stage owner missing from /newsletters/",
      changes: withCodeowners((t) => t.replace(NEWSLETTERS_LINE, NEWSLETTERS_LINE.replace(" @carol", ""))),
      line: (c) => lineOf(c, "/newsletters/"),
      says: [/^newsletters\/.* is owned by @corp\/newsletter-editors @alice @corp\/privacy-office @bob \(line \d+\)/, /missing stage owners: @carol/],
    },
    {
      name: "an owner of no stage on /recipients/",
      changes: withCodeowners((t) => t.replace(RECIPIENTS_LINE, `${RECIPIENTS_LINE} @mallory`)),
      line: (c) => lineOf(c, "/recipients/"),
      says: [/^recipients\//, /not a stage owner: @mallory/],
    },
    {
      name: "a later, narrower rule that takes body.md away from the stages",
      changes: withCodeowners((t) => `${t}/newsletters/**/body.md @mallory\n`),
      line: (c) => c.split("\n").length - 1,
      says: [/body\.md is owned by @mallory/, /missing stage owners: @corp\/newsletter-editors @alice @corp\/privacy-office @bob @carol; not a stage owner: @mallory/],
    },
    {
      name: "no rule for /recipients/ (the catch-all gives it to the administrators)",
      changes: withCodeowners((t) => t.replace(`${RECIPIENTS_LINE}\n`, "")),
      line: (c) => lineOf(c, "*"),
      says: [/^recipients\/.* is owned by @corp\/newsletter-admins/, /not a stage owner: @corp\/newsletter-admins/],
    },
    {
      name: "a rule that un-owns /newsletters/",
      changes: withCodeowners((t) => `${t}/newsletters/\n`),
      line: (c) => c.split("\n").length - 1,
      says: [/^newsletters\/.* has no code owner/],
    },
    {
      name: "new stage owners in .github/newsletter.yml that CODEOWNERS does not name",
      changes: { ".github/newsletter.yml": CONFIG.replace('owners: ["@carol"]', 'owners: ["@dave"]') },
      line: (c) => lineOf(c, "/newsletters/"),
      says: [/missing stage owners: @dave; not a stage owner: @carol/],
    },
  ];

  for (const c of refused) {
    it(`refuses ${c.name}`, async () => {
      const { code, findings } = await check(c.changes);
      const text = c.changes[".github/CODEOWNERS"] ?? CODEOWNERS;
      expect(code).toBe(1);
      expect(findings.length).toBeGreaterThan(0);
      expect(findings[0]).toMatchObject({ rule: "codeowners-stages", severity: "error", file: ".github/CODEOWNERS", line: c.line(text) });
      for (const re of c.says) expect(findings.map((f) => f.message).join("\n")).toMatch(new RegExp(re.source, "m"));
    });
  }

  const accepted: Array<{ name: string; changes: Record<string, string | null> }> = [
    { name: "owners spelt in another case (GitHub compares logins case-insensitively)", changes: withCodeowners((t) => t.replaceAll("@carol", "@Carol")) },
    {
      name: "different owners, the same in both files (nothing is hard-coded)",
      changes: {
        ".github/newsletter.yml": CONFIG.replace('owners: ["@carol"]', 'owners: ["@dave"]'),
        ".github/CODEOWNERS": CODEOWNERS.replaceAll("@carol", "@dave"),
      },
    },
    { name: "CODEOWNERS at the root instead of .github/", changes: { ".github/CODEOWNERS": null, CODEOWNERS } },
  ];
  for (const c of accepted) {
    it(`accepts ${c.name}`, async () => {
      expect(await check(c.changes)).toEqual({ code: 0, findings: [] });
    });
  }

  it("warns, without failing, when there is no CODEOWNERS file at all (as the gate does)", async () => {
    const { code, findings } = await check({ ".github/CODEOWNERS": null });
    expect(code).toBe(0);
    expect(findings).toEqual([expect.objectContaining({ rule: "codeowners-missing", severity: "warning", file: ".github/CODEOWNERS", line: 1 })]);
    expect(findings[0]!.message).toContain(`"/newsletters/ ${STAGE_OWNERS}"`);
  });

  it("refuses a line GitHub would skip, naming it", async () => {
    const text = `${CODEOWNERS}/docs/ not-an-owner\n`;
    const { code, findings } = await check({ ".github/CODEOWNERS": text });
    expect(code).toBe(1);
    expect(findings).toContainEqual(expect.objectContaining({ rule: "codeowners-syntax", severity: "error", line: text.split("\n").length - 1 }));
  });

  it("is reported like any other finding: text output names file, line, rule and what to do", async () => {
    const root = makeRepo(withCodeowners((t) => t.replace(NEWSLETTERS_LINE, NEWSLETTERS_LINE.replace(" @carol", ""))));
    const r = await runCli(["--root", root, "check", SAMPLE_DIR]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toMatch(/\.github\/CODEOWNERS:\d+:1.*codeowners-stages/);
  });
});
