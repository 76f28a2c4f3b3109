/**
 * `check --sarif-out FILE`: the workflow's one pass over the inputs gives
 * both the annotations (stdout) and the SARIF log for code scanning (the
 * file) — the same log `--format sarif` prints — and no log at all when
 * an input could not be read (exit 2), so an incomplete one is never uploaded.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { customers, customersCsv, plainListBody } from "./helpers/incident.ts";
import { makeRepo, runCli, SAMPLE_DIR, sampleText } from "./helpers/repo.ts";

const out = () => path.join(mkdtempSync(path.join(tmpdir(), "nl-sarif-")), "newsletter.sarif");

function leakingRepo(): string {
  const list = customers().slice(0, 50);
  return makeRepo({
    "recipients/customers.csv": customersCsv(list),
    [`${SAMPLE_DIR}/body.md`]: `${sampleText(`${SAMPLE_DIR}/body.md`)}\n\n${plainListBody(list.slice(0, 3))}\n`,
  });
}

describe("check --sarif-out", () => {
  it("findings: exit 1, annotations on stdout, and in the file the very log --format sarif prints", async () => {
    const root = leakingRepo();
    const file = out();
    const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "github", "--sarif-out", file], { env: {} });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error /m);
    const written = readFileSync(file, "utf8");
    const printed = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "sarif"], { env: {} });
    expect(printed.code).toBe(1);
    expect(written).toBe(printed.stdout);
    const sarif = JSON.parse(written) as { version: string; runs: Array<{ results: Array<{ ruleId: string; level: string }> }> };
    expect(sarif.version).toBe("2.1.0");
    expect(sarif.runs[0]!.results.some((x) => x.level === "error")).toBe(true);
    // Masked like every other output: no address of the list in the log.
    for (const c of customers().slice(0, 50)) expect(written.toLowerCase()).not.toContain(c.normalised);
  });

  it("clean: exit 0 and a log without errors", async () => {
    const file = out();
    const r = await runCli(["--root", makeRepo(), "check", SAMPLE_DIR, "--format", "github", "--sarif-out", file], { env: {} });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const sarif = JSON.parse(readFileSync(file, "utf8")) as { runs: Array<{ results: Array<{ level: string }> }> };
    expect(sarif.runs[0]!.results.filter((x) => x.level === "error")).toEqual([]);
  });

  it("an input that cannot be read: exit 2 and no log written", async () => {
    const file = out();
    const root = makeRepo({ [`${SAMPLE_DIR}/body.md`]: null });
    const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "github", "--sarif-out", file], { env: {} });
    expect(r.code).toBe(2);
    expect(existsSync(file)).toBe(false);
  });

  it("a file it cannot write, an empty name, or the flag on another command: exit 2 with what to do", async () => {
    const root = makeRepo();
    const bad = await runCli(["--root", root, "check", SAMPLE_DIR, "--sarif-out", path.join(tmpdir(), "no-such-dir-7f3a", "x.sarif")], { env: {} });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--sarif-out: could not write .*ENOENT.*folder that exists/);
    expect(bad.stderr).not.toMatch(/\n\s+at /); // no stack trace for a user mistake
    const empty = await runCli(["--root", root, "check", SAMPLE_DIR, "--sarif-out", ""], { env: {} });
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/--sarif-out needs a file name/);
    const other = await runCli(["--root", root, "manifest", SAMPLE_DIR, "--sarif-out", out()], { env: {} });
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(/--sarif-out is not an option of 'manifest'/);
  });
});

describe("check --manifest-out", () => {
  it("writes what `manifest` prints, from the same run: clean (checks_ok true) and with findings (checks_ok false)", async () => {
    for (const root of [makeRepo(), leakingRepo()]) {
      const file = out();
      const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "github", "--manifest-out", file], { env: {} });
      const m = await runCli(["--root", root, "manifest", SAMPLE_DIR], { env: {} });
      expect(m.code).toBe(0);
      expect(readFileSync(file, "utf8")).toBe(m.stdout);
      const manifest = JSON.parse(m.stdout) as { checks_ok: boolean; digest: string };
      expect(manifest.checks_ok).toBe(r.code === 0);
      expect(manifest.digest).toMatch(/^[0-9a-f]{64}$/);
    }
  });

  it("an input that cannot be read: exit 2 and no manifest; more than one folder: a usage error", async () => {
    const file = out();
    const root = makeRepo({ [`${SAMPLE_DIR}/body.md`]: null });
    const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--manifest-out", file], { env: {} });
    expect(r.code).toBe(2);
    expect(existsSync(file)).toBe(false);
    const two = await runCli(["--root", makeRepo(), "check", SAMPLE_DIR, SAMPLE_DIR, "--manifest-out", out()], { env: {} });
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/--manifest-out needs exactly one newsletter folder/);
  });
});
