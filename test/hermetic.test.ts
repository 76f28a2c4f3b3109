/**
 * The suite is hermetic: an organisation that follows the README's setup (its
 * own list, no sample newsletter, its own stage owners) still gets a green
 * `typecheck and tests` check without editing a test.
 *
 * Proof: a fresh `git clone` of this repository (what "Use this template"
 * gives, as committed: uncommitted edits are not in it) with the sample
 * newsletter removed, a different list and different owners, in which vitest
 * runs the test files that build repositories from the sample. Each of them
 * failed in such a clone before the sample moved to test/fixtures/sample.
 * The whole suite in the clone takes as long as the suite itself, so by
 * default a subset runs that covers every way a test reaches the sample
 * (makeRepo, sampleText, the CLI with no --root, bench-style fixtures);
 * NEWSLETTER_HERMETIC_FULL=1 runs every test file there (all but this one
 * and test/workflows.test.ts, which checks the project's own workflows).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { PROJECT } from "./helpers/sample.ts";

const SUBSET = [
  "test/check-rules.test.ts",
  "test/codeowners-stages.test.ts",
  "test/corpus.test.ts",
  "test/incident.test.ts",
  "test/gate-e2e.test.ts",
  "test/send.test.ts",
];
const NOT_IN_CLONE = new Set(["test/hermetic.test.ts", "test/workflows.test.ts"]);

/** What a real organisation's repository looks like after step 1 of the README's setup. */
function makeItAnOrganisation(clone: string): void {
  rmSync(path.join(clone, "newsletters"), { recursive: true, force: true });
  writeFileSync(path.join(clone, "recipients/customers.csv"), "email,name,tier\nmika@shop.example,Mika,gold\nleo@shop.example,Leo,silver\n");
  writeFileSync(path.join(clone, "recipients/suppressions.csv"), "email\nold@shop.example\n");
  const config = path.join(clone, ".github/newsletter.yml");
  writeFileSync(
    config,
    readFileSync(config, "utf8")
      .replace(/^( *- \{ name: content, owners: ).*$/m, '$1["@acme/marketing"] }')
      .replace(/^( *- \{ name: privacy, owners: ).*$/m, '$1["@acme/dpo"] }')
      .replace(/^( *- \{ name: release, owners: ).*$/m, '$1["@zoe"] }')
      .replace(/^approvers:\n(?: .*\n)+/m, "approvers:\n  zoe: zoe@acme.example\n"),
  );
  writeFileSync(
    path.join(clone, ".github/CODEOWNERS"),
    "* @acme/tool-admins\n/newsletters/ @acme/marketing @acme/dpo @zoe\n/recipients/ @acme/marketing @acme/dpo @zoe\n",
  );
}

let clone: string | undefined;
afterAll(() => {
  if (clone) rmSync(path.dirname(clone), { recursive: true, force: true });
});

describe("hermetic tests", () => {
  it("no test file reads the live sample, list, configuration or CODEOWNERS by path", () => {
    // The one place that names the sample's location is test/helpers/sample.ts, and it names test/fixtures/sample.
    const live = /(["'`])(?:\.\/)?(?:newsletters\/2026|recipients\/|\.github\/(?:newsletter\.yml|CODEOWNERS))/;
    const offenders: string[] = [];
    for (const dir of ["test", "test/helpers"]) {
      for (const name of readdirSync(path.join(PROJECT, dir))) {
        const rel = `${dir}/${name}`;
        if (!name.endsWith(".ts") || NOT_IN_CLONE.has(rel)) continue;
        const text = readFileSync(path.join(PROJECT, rel), "utf8");
        for (const [i, line] of text.split("\n").entries()) {
          if (/\bPROJECT\b/.test(line) && live.test(line.slice(line.indexOf("PROJECT")))) offenders.push(`${rel}:${i + 1}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });

  it("a fresh clone with the sample removed, a different list and different owners passes the tests", () => {
    clone = path.join(mkdtempSync(path.join(tmpdir(), "nl-hermetic-")), "repo");
    execFileSync("git", ["clone", "--quiet", "--no-hardlinks", PROJECT, clone], { stdio: "pipe" });
    makeItAnOrganisation(clone);
    symlinkSync(path.join(PROJECT, "node_modules"), path.join(clone, "node_modules"), "dir");

    // The organisation's first newsletter passes its own check (the CODEOWNERS rule sees the new owners).
    const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "src/cli/bin.ts", ...args], { cwd: clone, encoding: "utf8" });
    const created = cli("new", "welcome");
    expect(created.status, created.stderr).toBe(0);
    const dir = /^Created (newsletters\/[^/]+)\//m.exec(created.stdout)?.[1];
    expect(dir).toBeDefined();
    const check = cli("check", dir!, "--format", "json");
    expect(check.status, check.stdout + check.stderr).toBe(0);
    rmSync(path.join(clone, dir!), { recursive: true });

    const files = process.env.NEWSLETTER_HERMETIC_FULL === "1"
      ? readdirSync(path.join(clone, "test")).filter((n) => n.endsWith(".test.ts")).map((n) => `test/${n}`).filter((f) => !NOT_IN_CLONE.has(f))
      : SUBSET;
    const vitest = path.join(clone, "node_modules/vitest/vitest.mjs");
    const run = spawnSync(process.execPath, [vitest, "run", ...files], {
      cwd: clone,
      encoding: "utf8",
      env: { ...process.env, NEWSLETTER_HERMETIC_FULL: "", NO_COLOR: "1", FORCE_COLOR: "0" },
      maxBuffer: 64 * 1024 * 1024,
    });
    const tail = `${run.stdout}\n${run.stderr}`.split("\n").slice(-40).join("\n");
    expect(run.status, tail).toBe(0);
    expect(tail).toMatch(new RegExp(`Test Files +${files.length} passed`));
  }, 900_000);
});
