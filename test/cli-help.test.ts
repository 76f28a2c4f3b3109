/**
 * For people: `<command> --help` lists that command's own flags and the
 * environment variables it reads, and `--format json` answers in JSON when a
 * command fails too.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { CLI_OPTIONS, COMMANDS, parseCli } from "../src/cli/args.ts";
import { UsageError } from "../src/errors.ts";
import { makeRepo, PROJECT, runCli, SAMPLE_DIR } from "./helpers/repo.ts";

/** Does `command` accept `--flag` (args.ts refuses a flag of another command by name)? */
function accepts(command: string, flag: keyof typeof CLI_OPTIONS): boolean {
  const value = CLI_OPTIONS[flag].type === "string" ? ["x"] : [];
  try {
    parseCli([command, `--${flag}`, ...value], "/tmp");
    return true;
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return !e.message.startsWith(`--${flag} is not an option of`);
  }
}

/** The environment variables a command module reads itself (`env.X`, `env["X"]`). */
function envReadBy(command: string): string[] {
  const text = readFileSync(path.join(PROJECT, "src/cli/commands", `${command}.ts`), "utf8");
  return [...new Set([...text.matchAll(/env(?:\.|\[")([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]!))];
}

describe("<command> --help", () => {
  for (const command of COMMANDS) {
    it(`${command} --help: its synopsis, every flag it takes and none it refuses, the environment it reads`, async () => {
      const r = await runCli([command, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`^usage: newsletter \\[--root DIR\\] ${command}\\b`));
      const [flags, env] = r.stdout.split("\nenvironment:\n");
      expect(env, "an environment section").toBeDefined();
      for (const flag of Object.keys(CLI_OPTIONS) as Array<keyof typeof CLI_OPTIONS>) {
        const listed = new RegExp(`^ {2}(?:-h, )?--${flag}\\b`, "m").test(flags!);
        expect(listed, `--${flag} ${accepts(command, flag) ? "accepted but not listed" : "listed but refused"} by ${command}`).toBe(accepts(command, flag));
      }
      for (const name of envReadBy(command)) expect(env, `${command} reads ${name}`).toMatch(new RegExp(`^ {2}(?:[A-Z_]+, )*${name}\\b`, "m"));
      expect(r.stdout).toMatch(/\nexit: /);
      expect((await runCli(["help", command])).stdout).toBe(r.stdout);
    });
  }

  it("names what gate and setup need from the environment", async () => {
    for (const command of ["gate", "setup"]) {
      const { stdout } = await runCli([command, "--help"]);
      for (const name of ["GITHUB_TOKEN", "GITHUB_REPOSITORY", "GITHUB_API_URL"]) expect(stdout, `${command}: ${name}`).toContain(name);
    }
    const send = (await runCli(["send", "--help"])).stdout;
    for (const name of ["NEWSLETTER_SMTP_URL", "NEWSLETTER_SECRET", "NEWSLETTER_STATE_BRANCH", "GITHUB_SHA"]) expect(send).toContain(name);
  });

  it("--help alone, or with an unknown command, is the overview, which points at <command> --help", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^usage: newsletter \[--root DIR\] <command>/);
    expect(r.stdout).toContain("newsletter <command> --help lists that command's flags and the environment variables it reads");
    expect((await runCli(["help", "nope"])).stdout).toBe(r.stdout);
  });
});

interface JsonError { ok: false; error: { code: string; exit_code: number; message: string } }

describe("--format json answers in JSON on errors too", () => {
  const cases: Array<{ name: string; args: (root: string) => string[]; env?: Record<string, string>; code: string; exit: number; says: RegExp }> = [
    { name: "check without a folder (usage)", args: (root) => ["--root", root, "check", "--format", "json"], code: "usage", exit: 2, says: /check needs at least one newsletter folder/ },
    { name: "check with an unknown flag", args: (root) => ["--root", root, "check", SAMPLE_DIR, "--nope", "--format=json"], code: "usage", exit: 2, says: /Unknown option '--nope'/ },
    { name: "status of a folder outside the repository", args: (root) => ["--root", root, "status", "/elsewhere/x", "--format", "json"], code: "usage", exit: 2, says: /not inside the repository root/ },
    { name: "gate without GITHUB_TOKEN", args: (root) => ["--root", root, "gate", "--pr", "1", "--format", "json"], code: "usage", exit: 2, says: /GITHUB_TOKEN is not set/ },
    { name: "setup without GITHUB_TOKEN", args: (root) => ["--root", root, "setup", "--format", "json"], code: "usage", exit: 2, says: /GITHUB_TOKEN is not set/ },
    {
      name: "gate with GITHUB_REPOSITORY that is not owner/name",
      args: (root) => ["--root", root, "gate", "--pr", "1", "--format", "json"],
      env: { GITHUB_TOKEN: "t0ken-for-tests", GITHUB_REPOSITORY: "just-a-name", GITHUB_API_URL: "http://127.0.0.1:9" },
      code: "usage", exit: 2, says: /GITHUB_REPOSITORY/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const r = await runCli(c.args(makeRepo()), { env: c.env ?? {} });
      expect(r.code).toBe(c.exit);
      const out = JSON.parse(r.stdout) as JsonError & Record<string, unknown>;
      const error = { ok: false, error: { code: c.code, exit_code: c.exit, message: expect.stringMatching(c.says) } };
      if (c.args("").includes("gate")) {
        // gate's verdict fields stay, saying "not approved": a reader of the verdict fails closed.
        expect(out).toEqual({ ...error, approved: false, mode: "none", pr: null, headSha: null, status: expect.stringMatching(/^the gate could not decide: /), stages: [], notCounted: [], problems: [], warnings: [] });
      } else {
        expect(out).toEqual(error);
      }
      expect(r.stderr).toMatch(c.says); // people still read it on stderr
    });
  }

  it("text formats keep stdout empty on errors", async () => {
    const r = await runCli(["--root", makeRepo(), "check"]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });
});
