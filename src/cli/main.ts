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
import { parseCli, USAGE } from "./args.ts";
import type { Io } from "./io.ts";

export async function main(argv: readonly string[], io: Io, cwd: string): Promise<number> {
  try {
    const input = parseCli(argv, cwd);
    switch (input.command) {
      case "help":
        io.out(USAGE);
        return 0;
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
      case "gate":
        return await (await import("./commands/gate.ts")).runGateCommand(input, io);
      case "setup":
        return await (await import("./commands/setup.ts")).runSetupCommand(input, io);
    }
  } catch (e) {
    if (isNewsletterError(e)) {
      io.err(`newsletter: ${redact(e.message)}\n`);
      return e.exitCode;
    }
    const err = e as Error;
    io.err(`newsletter: internal error: ${redact(err?.message ?? String(e))}\n`);
    if (io.env.NEWSLETTER_DEBUG === "1" && err?.stack) io.err(redact(err.stack) + "\n");
    return 2;
  }
}
