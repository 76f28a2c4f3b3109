/** `newsletter new <slug>`: a folder that passes `check` as created, and what to do next. */
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeRepo, runCli } from "./helpers/repo.ts";

function today(): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

describe("new <slug>", () => {
  it("creates newsletters/<today>-<slug>/ that passes check, and says what to do next", async () => {
    const root = makeRepo({ "newsletters/2026-12-01-winter-update": null });
    const r = await runCli(["--root", root, "new", "spring-sale"]);
    expect(r.code).toBe(0);
    const id = `${today()}-spring-sale`;
    const dir = `newsletters/${id}`;
    expect(readdirSync(path.join(root, dir)).sort()).toEqual(["body.md", "newsletter.yml"]);
    expect(readFileSync(path.join(root, dir, "newsletter.yml"), "utf8")).toMatch(/^subject: "Spring sale"$\n^recipients: customers\b/m);
    expect(r.stdout).toContain(`Created ${dir}/`);
    expect(r.stdout).toContain(`npm run -s newsletter -- check ${dir}`);
    expect(r.stdout).toMatch(/open a pull request/);

    const check = await runCli(["--root", root, "check", dir, "--format", "json"]);
    expect(check.code, check.stdout).toBe(0);
    const findings = (JSON.parse(check.stdout) as { findings: Array<{ severity: string; rule: string }> }).findings;
    // The sample keeps its lists in git: that warning (list-in-git) is the sample's, not the new newsletter's.
    expect(findings.filter((f) => f.severity !== "note" && f.rule !== "list-in-git")).toEqual([]);
  });

  it("binds the only list there is when there is no customers list", async () => {
    const root = makeRepo({ "recipients/customers.csv": null, "recipients/partners.csv": "email,name\nmika@shop.example,Mika\n" });
    expect((await runCli(["--root", root, "new", "partner-news"])).code).toBe(0);
    const dir = `newsletters/${today()}-partner-news`;
    expect(readFileSync(path.join(root, dir, "newsletter.yml"), "utf8")).toMatch(/^recipients: partners\b/m);
    expect((await runCli(["--root", root, "check", dir])).code).toBe(0);
  });

  it("says so when there is no list yet", async () => {
    const root = makeRepo({ "recipients/customers.csv": null });
    const r = await runCli(["--root", root, "new", "first"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("No list recipients/customers.csv exists yet");
  });

  const refused: Array<{ name: string; args: string[]; says: RegExp }> = [
    { name: "an upper-case slug", args: ["new", "Spring"], says: /'Spring' cannot be a newsletter slug/ },
    { name: "a slug with a slash", args: ["new", "../x"], says: /cannot be a newsletter slug/ },
    { name: "a slug with double hyphens", args: ["new", "a--b"], says: /cannot be a newsletter slug/ },
    { name: "no slug", args: ["new"], says: /new needs exactly one slug/ },
    { name: "two slugs", args: ["new", "a", "b"], says: /new needs exactly one slug/ },
    { name: "a flag of another command", args: ["new", "a", "--dry-run"], says: /--dry-run is not an option of 'new'/ },
  ];
  for (const c of refused) {
    it(`refuses ${c.name} (exit 2), creating nothing`, async () => {
      const root = makeRepo();
      rmSync(path.join(root, "newsletters"), { recursive: true });
      const r = await runCli(["--root", root, ...c.args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(c.says);
      expect(existsSync(path.join(root, "newsletters"))).toBe(false);
    });
  }

  it("never overwrites: the same slug twice the same day is exit 2, the first folder untouched", async () => {
    const root = makeRepo();
    expect((await runCli(["--root", root, "new", "winter"])).code).toBe(0);
    const file = path.join(root, `newsletters/${today()}-winter/body.md`);
    const before = readFileSync(file, "utf8");
    const r = await runCli(["--root", root, "new", "winter"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/exists already/);
    expect(readFileSync(file, "utf8")).toBe(before);
  });
});
