/**
 * The `newsletter` command. Reads the command line once (args.ts), runs one
 * command, and has exactly one failure path: a NewsletterError prints its
 * message and exits with its contract code; anything else is an internal
 * error (exit 2) whose stack is shown only with NEWSLETTER_DEBUG=1. Every
 * message on that path is redacted so no address can leak through it.
 *
 * Command modules are imported when their command runs: `check` on a
 * million-row list should not pay for loading the SMTP, MIME and GitHub code.
 */
import { redact } from "../address/redact.ts";
import { isNewsletterError } from "../errors.ts";
import { COMMANDS, parseCli, USAGE } from "./args.ts";
import { commandHelp } from "./help.ts";
import type { Io } from "../runtime/io.ts";

export async function main(argv: readonly string[], outerIo: Io, cwd: string): Promise<number> {
  let wroteOut = false;
  const io: Io = { ...outerIo, out: (t) => ((wroteOut = true), outerIo.out(t)) };
  try {
    const input = parseCli(argv, cwd);
    switch (input.command) {
      case "help":
        io.out((input.topic !== undefined ? commandHelp(input.topic) : undefined) ?? USAGE);
        return 0;
      case "new":
        return await (await import("./commands/new.ts")).runNewCommand(input, io);
      case "check":
        return await (await import("./commands/check.ts")).runCheckCommand(input, io);
      case "manifest":
        return await (await import("./commands/manifest.ts")).runManifestCommand(input, io);
      case "preview":
        return await (await import("./commands/preview.ts")).runPreviewCommand(input, io);
      case "test-send":
        return await (await import("./commands/test-send.ts")).runTestSendCommand(input, io);
      case "send":
        return await (await import("./commands/send.ts")).runSendCommand(input, io);
      case "status":
        return await (await import("./commands/status.ts")).runStatusCommand(input, io);
      case "due":
        return await (await import("./commands/due.ts")).runDueCommand(input, io);
      case "gate":
        return await (await import("./commands/gate.ts")).runGateCommand(input, io);
      case "setup":
        return await (await import("./commands/setup.ts")).runSetupCommand(input, io);
      case "unsubscribe-server":
        return await (await import("./commands/unsubscribe-server.ts")).runUnsubscribeServerCommand(input, io);
      case "import-bounces":
        return await (await import("./commands/import-bounces.ts")).runImportBouncesCommand(input, io);
      case "import-suppressions":
        return await (await import("./commands/import-suppressions.ts")).runImportSuppressionsCommand(input, io);
      case "forget":
        return await (await import("./commands/forget.ts")).runForgetCommand(input, io);
      case "compact-suppressions":
        return await (await import("./commands/compact-suppressions.ts")).runCompactSuppressionsCommand(input, io);
      case "pin":
        return await (await import("./commands/pin.ts")).runPinCommand(input, io);
    }
  } catch (e) {
    const err = e as Error;
    const known = isNewsletterError(e);
    const message = redact(known ? e.message : `internal error: ${err?.message ?? String(e)}`);
    const exitCode = known ? e.exitCode : 2;
    io.err(`newsletter: ${message}\n`);
    if (!known && io.env.NEWSLETTER_DEBUG === "1" && err?.stack) io.err(redact(err.stack) + "\n");
    // Asked for JSON: the failure is JSON too, on stdout, unless the command already printed its result there.
    if (jsonRequested(argv) && !wroteOut) {
      const error = { code: known ? e.code : "internal", exit_code: exitCode, message };
      io.out(`${JSON.stringify({ ok: false, error, ...(commandOf(argv) === "gate" ? gateUndecided(message) : {}) })}\n`);
    }
    return exitCode;
  }
}

/** The command named on the command line, if any (the first word that is one). */
function commandOf(argv: readonly string[]): string | undefined {
  return argv.find((a) => (COMMANDS as readonly string[]).includes(a));
}

/**
 * `gate --format json` keeps its verdict's fields when it cannot decide: not
 * approved, nothing counted. A reader of the verdict (the workflows read
 * `approved`, `status`, `stages`, `problems`) then sees a refusal, never a
 * missing field: fail closed.
 */
function gateUndecided(message: string) {
  return { approved: false, mode: "none", pr: null, headSha: null, status: `the gate could not decide: ${message}`, stages: [], notCounted: [], problems: [], warnings: [] };
}

/** `--format json` or `--format=json` on the command line, whether or not the rest of it parses. */
function jsonRequested(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === "--format=json" || (a === "--format" && argv[i + 1] === "json"));
}
