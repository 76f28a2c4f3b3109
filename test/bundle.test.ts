/**
 * The pre-built bundle (scripts/build.js, bin/bundle.js): the launcher runs
 * it only while it matches the sources — a stale bundle must never run —
 * and the bundle does what the sources do, compose threads included.
 *
 * Works on a copy of the project (its own dist/), so the checkout's bundle
 * and the other test files are never touched.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freshBundle, sourceHash } from "../bin/bundle.js";
import { makeRepo, PROJECT } from "./helpers/repo.ts";
import { sendRepo, SAMPLE_DIR } from "./helpers/send-repo.ts";
import { startTestSmtp } from "./helpers/smtp.ts";

const MARKER = "ran-the-bundle-7f3a";
let copy = "";

function node(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, args, { cwd: copy, env: { ...process.env, ...env }, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  copy = mkdtempSync(path.join(tmpdir(), "nl-bundle-"));
  for (const p of ["src", "bin", "scripts", "package.json", "package-lock.json", "tsconfig.json"]) {
    cpSync(path.join(PROJECT, p), path.join(copy, p), { recursive: true });
  }
  symlinkSync(path.join(PROJECT, "node_modules"), path.join(copy, "node_modules"), "dir");
  execFileSync(process.execPath, ["scripts/build.js"], { cwd: copy, stdio: "pipe" });
}, 120_000);

afterAll(() => {
  if (copy) rmSync(copy, { recursive: true, force: true });
});

describe("the bundle runs only while it matches the sources", () => {
  it("the build records the hash of the sources it was made from", () => {
    const built = JSON.parse(readFileSync(path.join(copy, "dist/BUILD.json"), "utf8")) as { hash: string };
    expect(built.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(built.hash).toBe(sourceHash(copy));
    expect(freshBundle(copy)).not.toBeNull();
  });

  it("the hash changes with any input: an edit, a new file, the lock file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "nl-hash-"));
    try {
      cpSync(path.join(copy, "src/cli"), path.join(dir, "src/cli"), { recursive: true });
      writeFileSync(path.join(dir, "package-lock.json"), "{}\n");
      const h0 = sourceHash(dir);
      appendFileSync(path.join(dir, "src/cli/bin.ts"), "\n");
      const h1 = sourceHash(dir);
      writeFileSync(path.join(dir, "src/cli/new.ts"), "export {};\n");
      const h2 = sourceHash(dir);
      writeFileSync(path.join(dir, "package-lock.json"), "{ }\n");
      const h3 = sourceHash(dir);
      expect(new Set([h0, h1, h2, h3]).size).toBe(4);
      expect(sourceHash(dir)).toBe(h3); // and nothing else: the same inputs, the same hash
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the launcher runs the bundle when fresh, and the sources once anything changed", () => {
    // A line only the bundle has: seen only when the bundle is what runs.
    const bin = path.join(copy, "dist/cli/bin.mjs");
    const original = readFileSync(bin, "utf8");
    writeFileSync(bin, `process.stderr.write("${MARKER}\\n");\n${original}`);
    try {
      const fresh = node(["bin/newsletter.js", "--help"]);
      expect(fresh.code).toBe(0);
      expect(fresh.stderr).toContain(MARKER);
      expect(node(["bin/newsletter.js", "--help"], { NEWSLETTER_NO_BUNDLE: "1" }).stderr).not.toContain(MARKER);

      const file = path.join(copy, "src/runtime/io.ts");
      const source = readFileSync(file, "utf8");
      appendFileSync(file, "\n// edited after the build\n");
      try {
        expect(freshBundle(copy)).toBeNull();
        const stale = node(["bin/newsletter.js", "--help"]);
        expect(stale.code).toBe(0);
        expect(stale.stdout + stale.stderr).toMatch(/send/); // the help, from the sources
        expect(stale.stderr).not.toContain(MARKER);
      } finally {
        writeFileSync(file, source);
      }
      expect(node(["bin/newsletter.js", "--help"]).stderr).toContain(MARKER); // fresh again
    } finally {
      writeFileSync(bin, original);
    }
  }, 120_000);

  it("a corrupt or missing BUILD.json means the sources", () => {
    const manifest = path.join(copy, "dist/BUILD.json");
    const saved = readFileSync(manifest, "utf8");
    try {
      writeFileSync(manifest, "{ not json");
      expect(freshBundle(copy)).toBeNull();
      writeFileSync(manifest, JSON.stringify({ hash: 42 }));
      expect(freshBundle(copy)).toBeNull();
      rmSync(manifest);
      expect(freshBundle(copy)).toBeNull();
    } finally {
      writeFileSync(manifest, saved);
    }
  });
});

describe("the bundle sends as the sources do", () => {
  it("`npm start` from the bundle: the sample checked, approval copies and the send into the outbox, then nothing new", () => {
    const repo = makeRepo();
    const start = (): ReturnType<typeof spawnSync> =>
      spawnSync(process.execPath, [path.join(copy, "bin/start.js")], { cwd: repo, env: { ...process.env, NEWSLETTER_SMTP_URL: "", NEWSLETTER_TEST_SMTP_URL: "" }, encoding: "utf8", timeout: 120_000 });
    const first = start();
    expect(first.status, String(first.stderr)).toBe(0);
    expect(freshBundle(copy)).not.toBeNull();
    const sent = readdirSync(path.join(repo, "outbox", "2026-12-01-winter-update")).filter((f) => f.endsWith(".eml"));
    const copies = readdirSync(path.join(repo, "outbox", "approval", "2026-12-01-winter-update")).filter((f) => f.endsWith(".eml"));
    expect(sent.length).toBeGreaterThan(0);
    expect(copies.length).toBeGreaterThan(0);
    const again = start();
    expect(again.status, String(again.stderr)).toBe(0);
    expect(readdirSync(path.join(repo, "outbox", "2026-12-01-winter-update")).filter((f) => f.endsWith(".eml"))).toHaveLength(sent.length);
  }, 120_000);

  it("the bundled Actions step entry answers as the sources do (an unknown step: exit 2, the steps named)", () => {
    const r = node(["bin/step.js", "deploy"]);
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/pr-comment/);
  });

  it("a send from the bundle with a compose thread: everyone once, one recipient per message", async () => {
    const server = await startTestSmtp();
    try {
      const n = 300;
      const root = sendRepo(n);
      const child = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
        const c = spawn(process.execPath, [path.join(copy, "bin/newsletter.js"), "--root", root, "send", SAMPLE_DIR, "--without-approval", "--without-approval"], {
          cwd: copy,
          env: { ...process.env, NEWSLETTER_SMTP_URL: server.url, NEWSLETTER_SECRET: "bundle-secret-0123456789abcdef", NEWSLETTER_COMPOSE_THREADS: "1" },
          stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        c.stdout.on("data", (d) => (stdout += d));
        c.stderr.on("data", (d) => (stderr += d));
        c.on("exit", (code) => resolve({ code, stdout, stderr }));
      });
      expect(child.code, child.stderr).toBe(0);
      expect(freshBundle(copy)).not.toBeNull(); // it was the bundle that ran
      expect(server.received).toHaveLength(n - 1); // one suppressed
      const to = server.received.map((m) => m.envelope.to);
      expect(to.every((t) => t.length === 1)).toBe(true);
      expect(new Set(to.map((t) => t[0])).size).toBe(n - 1);
    } finally {
      await server.close();
    }
  }, 120_000);
});

describe("the bundle reaches an S3-compatible store", () => {
  it("pin, check and a dry-run send of a list in S3 (s3rver), through the bundled SDK", async () => {
    const { startTestS3 } = await import("./helpers/s3.ts");
    const s3 = await startTestS3();
    try {
      const repo = sendRepo(20);
      const env = { ...process.env, ...s3.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" };
      // Asynchronously: the S3 server runs in this process and must answer while the CLI waits.
      const cli = (...args: string[]) =>
        new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
          const child = spawn(process.execPath, ["bin/newsletter.js", "--root", repo, ...args], { cwd: copy, env });
          let stdout = "";
          let stderr = "";
          child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
          child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
          child.on("close", (code) => resolve({ code, stdout, stderr }));
        });
      const pin = await cli("pin", "customers", path.join(repo, "recipients/customers.csv"), "--to", `s3://${s3.bucket}/lists/`);
      expect(pin.stderr).toBe("");
      expect(pin.code).toBe(0);
      expect((await cli("check", SAMPLE_DIR)).code).toBe(0);
      const dry = await cli("send", SAMPLE_DIR, "--dry-run");
      expect(dry.code).toBe(0);
      expect(dry.stdout).toMatch(/composed and guarded: 19/);
    } finally {
      await s3.close();
    }
  }, 120_000);
});
