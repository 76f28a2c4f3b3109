/** Check rules added on top of the corpus: edits after a send began, empty bodies, caps, leaks under a broken config. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { makeRepo, runCli, sampleText, SAMPLE_DIR } from "./helpers/repo.ts";

async function json(root: string) {
  const r = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "json"]);
  return { code: r.code, out: JSON.parse(r.stdout) as { ok: boolean; findings: Array<{ rule: string; file: string; line: number; message: string }> }, raw: r };
}

describe("check: more rules", () => {
  it("refuses a newsletter whose send began under another digest (edited after send)", async () => {
    const root = makeRepo();
    const m = await runCli(["--root", root, "manifest", SAMPLE_DIR]);
    const digest = JSON.parse(m.stdout).digest as string;
    const dir = path.join(root, ".newsletter-state/ledger/2026-12-01-winter-update");
    mkdirSync(dir, { recursive: true });
    const begin = { t: "begin", v: 1, id: "2026-12-01-winter-update", list: "customers", list_rows: 10, digest, at: "2026-12-01T09:00:00Z", shard: "all", count: 9, key_id: "x" };
    writeFileSync(path.join(dir, "all.jsonl"), `${JSON.stringify(begin)}\n`);
    expect((await json(root)).code).toBe(0); // same inputs: fine (a resumed send re-checks)
    writeFileSync(path.join(root, SAMPLE_DIR, "body.md"), `${sampleText(`${SAMPLE_DIR}/body.md`)}\nOne more line.\n`);
    const { code, out } = await json(root);
    expect(code).toBe(1);
    expect(out.findings).toContainEqual(expect.objectContaining({ rule: "edited-after-send", file: `${SAMPLE_DIR}/newsletter.yml`, line: 1 }));
  });

  it("refuses an empty body", async () => {
    const { code, out } = await json(makeRepo({ [`${SAMPLE_DIR}/body.md`]: "  \n" }));
    expect(code).toBe(1);
    expect(out.findings).toContainEqual(expect.objectContaining({ rule: "body-empty", file: `${SAMPLE_DIR}/body.md` }));
  });

  it("caps a flood of findings of one rule in one file", async () => {
    const body = Array.from({ length: 1000 }, (_, i) => `Line ${i} {{ nope${i} }}`).join("\n");
    const { out } = await json(makeRepo({ [`${SAMPLE_DIR}/body.md`]: body }));
    const unknown = out.findings.filter((f) => f.rule === "placeholder-unknown");
    expect(unknown.length).toBe(200);
    expect(out.findings).toContainEqual(expect.objectContaining({ rule: "findings-capped", message: expect.stringContaining("800 more placeholder-unknown") }));
  });

  it("still reports a list address in the body when the config is broken", async () => {
    const root = makeRepo({
      ".github/newsletter.yml": sampleText(".github/newsletter.yml").replace("sender:", "sendr:"),
      [`${SAMPLE_DIR}/body.md`]: "Hello\n\nContact kenji@shop.example for details.\n",
    });
    const { code, out, raw } = await json(root);
    expect(code).toBe(1);
    expect(out.findings).toContainEqual(expect.objectContaining({ rule: "leak-list-address", file: `${SAMPLE_DIR}/body.md`, line: 3 }));
    expect(raw.stdout + raw.stderr).not.toContain("kenji@shop.example");
  });

  it("masks full-width addresses on the CLI's error path too", async () => {
    const r = await runCli(["--root", makeRepo(), "check", "/elsewhere/ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not inside the repository root");
    expect(r.stderr.normalize("NFKC")).not.toContain("taro@example.com");
  });
});

describe("check: repository visibility", () => {
  it("refuses recipient lists in a public repository (from the Actions event payload)", async () => {
    const { mkdtempSync, writeFileSync: write } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const event = path.join(mkdtempSync(path.join(tmpdir(), "nl-event-")), "event.json");
    write(event, JSON.stringify({ repository: { private: false, visibility: "public" } }));
    const root = makeRepo();
    const pub = await runCli(["--root", root, "check", SAMPLE_DIR, "--format", "json"], { env: { GITHUB_EVENT_PATH: event } });
    expect(pub.code).toBe(1);
    expect(JSON.parse(pub.stdout).findings).toContainEqual(expect.objectContaining({ rule: "public-repository", file: "recipients/customers.csv" }));
    write(event, JSON.stringify({ repository: { private: true, visibility: "private" } }));
    expect((await runCli(["--root", root, "check", SAMPLE_DIR], { env: { GITHUB_EVENT_PATH: event } })).code).toBe(0);
  });
});
